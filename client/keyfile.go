package client

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// LoadPrivateKey reads the server's Ed25519 private key from a file in one
// of these forms (see ParsePrivateKey):
//
//   - PEM "PRIVATE KEY" (PKCS #8), as `openssl genpkey -algorithm ed25519`
//     writes it and as Mastodon stores its FASP key (the
//     server_private_key_pem of its fasp_providers row);
//   - one line of base64 (standard or URL alphabet, padded or not) of the
//     32-byte seed or of the 64-byte seed+public key.
//
// The file should be readable by its owner only.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

// ParsePrivateKey decodes a key in a form LoadPrivateKey accepts.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	text := strings.TrimSpace(string(data))
	if strings.HasPrefix(text, "-----BEGIN") {
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			return nil, errors.New("malformed PEM")
		}
		if block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("PEM block is %q, want \"PRIVATE KEY\" (PKCS #8)", block.Type)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS #8 key: %w", err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the key is %T, want Ed25519", k)
		}
		return priv, nil
	}
	raw, err := decodeBase64(text)
	if err != nil {
		return nil, errors.New("neither PEM nor base64")
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if string(priv[ed25519.SeedSize:]) != string(raw[ed25519.SeedSize:]) {
			return nil, errors.New("the 64-byte key's public half does not match its seed")
		}
		return priv, nil
	}
	return nil, fmt.Errorf("base64 key has %d bytes, want a 32-byte seed or a 64-byte key", len(raw))
}

// ParsePublicKey decodes Breakwater's public key: standard base64 of the raw
// 32 bytes (how FASP exchanges keys), or PEM "PUBLIC KEY".
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	text := strings.TrimSpace(s)
	if strings.HasPrefix(text, "-----BEGIN") {
		block, _ := pem.Decode([]byte(text))
		if block == nil || block.Type != "PUBLIC KEY" {
			return nil, errors.New("want a PEM \"PUBLIC KEY\" block")
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("the key is %T, want Ed25519", k)
		}
		return pub, nil
	}
	raw, err := decodeBase64(text)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("want the base64 of a raw 32-byte Ed25519 public key")
	}
	return ed25519.PublicKey(raw), nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
