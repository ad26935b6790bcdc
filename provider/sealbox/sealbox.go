// Package sealbox protects data at rest with the operator's secret key
// (BREAKWATER_SECRET_KEY): it encrypts secrets Breakwater must read back
// (webhook tokens, Mastodon API tokens) and turns personal data it only needs
// to compare (e-mail addresses, IPs) into keyed hashes. A database dump alone
// is then useless. Each use names a purpose, and every purpose gets its own
// derived key, so a value sealed or hashed for one use is meaningless for
// another.
package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/hkdf"
)

// MinSecretLength is the shortest accepted secret. The secret is used as
// HKDF input, not decoded, so length stands in for entropy; Generate gives 43.
const MinSecretLength = 32

const (
	version   = "v1:"
	nonceSize = 12 // the AES-GCM standard nonce
	// hkdfSalt separates Breakwater's keys from anything else that might
	// (wrongly) be derived from the same secret.
	hkdfSalt = "breakwater sealbox v1"
)

// ErrOpen is returned for every sealed value that cannot be opened: wrong
// key, wrong purpose, tampered or truncated. The causes are deliberately not
// told apart.
var ErrOpen = errors.New("sealbox: cannot open sealed value (wrong key, wrong purpose or corrupted)")

// Box holds the operator's keys. The first key seals and hashes; the others
// only open, so a key can be rotated without losing data. It is safe for
// concurrent use.
type Box struct {
	keys [][]byte // raw secrets, primary first
	// hashKeyCache holds the derived hash keys per purpose (string → [][]byte,
	// one per key, primary first): Hash runs on every check, and deriving a
	// key (HKDF) cost more than the HMAC itself.
	hashKeyCache sync.Map
}

// Load builds a Box from the secret given directly, or from the file holding
// it (for secret stores that mount files); exactly one must be set. The value
// may list several keys separated by commas, "new,old": the first seals,
// all of them open.
func Load(secret, file string) (*Box, error) {
	switch {
	case secret != "" && file != "":
		return nil, errors.New("sealbox: secret key given both directly and as a file; set only one")
	case file != "":
		b, err := os.ReadFile(file) //nolint:gosec // the operator chose this path
		if err != nil {
			return nil, fmt.Errorf("sealbox: read secret key file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
		if secret == "" {
			return nil, fmt.Errorf("sealbox: secret key file %s is empty", file)
		}
	case secret == "":
		return nil, errors.New("sealbox: no secret key configured")
	}
	parts := strings.Split(secret, ",")
	box := &Box{}
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if len(p) < MinSecretLength {
			return nil, fmt.Errorf("sealbox: secret key %d of %d is %d characters long; need at least %d random characters (for example from `openssl rand -base64 32`)",
				i+1, len(parts), len(p), MinSecretLength)
		}
		box.keys = append(box.keys, []byte(p))
	}
	return box, nil
}

// Generate returns a fresh random secret suitable for BREAKWATER_SECRET_KEY:
// 32 bytes from the system CSPRNG, base64url-encoded without padding.
func Generate() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; it crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// Seal encrypts plaintext for purpose with the primary key (AES-256-GCM, a
// random nonce, the purpose bound as additional data). The result is text,
// "v1:" + base64url(nonce||ciphertext), ready for a database column.
func (b *Box) Seal(purpose string, plaintext []byte) (string, error) {
	aead, err := newAEAD(b.keys[0], purpose)
	if err != nil {
		return "", fmt.Errorf("sealbox: seal %s: %w", purpose, err)
	}
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+aead.Overhead())
	if _, err := io.ReadFull(rand.Reader, out); err != nil {
		return "", fmt.Errorf("sealbox: seal %s: nonce: %w", purpose, err)
	}
	out = aead.Seal(out, out[:nonceSize], plaintext, additionalData(purpose))
	return version + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed for purpose, trying the primary key first and
// then the older ones. Every failure matches ErrOpen.
func (b *Box) Open(purpose, sealed string) ([]byte, error) {
	plain, _, err := b.open(purpose, sealed)
	return plain, err
}

// Reseal re-encrypts a value with the primary key if an older key sealed it,
// so a rotation job can migrate stored values and the old key can later be
// dropped. changed is false (and sealed returned as is) when the primary key
// already sealed it.
func (b *Box) Reseal(purpose, sealed string) (resealed string, changed bool, err error) {
	plain, idx, err := b.open(purpose, sealed)
	if err != nil {
		return "", false, err
	}
	if idx == 0 {
		return sealed, false, nil
	}
	resealed, err = b.Seal(purpose, plain)
	if err != nil {
		return "", false, err
	}
	return resealed, true, nil
}

// open returns the plaintext and the index of the key that opened it.
func (b *Box) open(purpose, sealed string) ([]byte, int, error) {
	rest, ok := strings.CutPrefix(sealed, version)
	if !ok {
		return nil, -1, fmt.Errorf("%w: unknown format", ErrOpen)
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, -1, fmt.Errorf("%w: bad encoding", ErrOpen)
	}
	if len(raw) < nonceSize+16 {
		return nil, -1, fmt.Errorf("%w: too short", ErrOpen)
	}
	for i, k := range b.keys {
		aead, err := newAEAD(k, purpose)
		if err != nil {
			return nil, -1, fmt.Errorf("sealbox: open %s: %w", purpose, err)
		}
		plain, err := aead.Open(nil, raw[:nonceSize], raw[nonceSize:], additionalData(purpose))
		if err == nil {
			return plain, i, nil
		}
	}
	return nil, -1, ErrOpen
}

// Hash returns a keyed hash (HMAC-SHA256 under a per-purpose key, hex) of
// value. It is stable across restarts, so equal e-mail addresses or IPs can be
// matched, yet without the secret it cannot be reversed by trying every IPv4
// address. It uses the primary key only: rotating the key changes all hashes
// (Hashes gives the older keys' too).
func (b *Box) Hash(purpose, value string) string {
	return hashWith(b.hashKeys(purpose)[0], value)
}

// Hashes returns value's keyed hash under every configured key, the primary
// key's first. A lookup of stored hashes that must survive a rotation (an
// erasure request finding checks stored before it) matches any of them;
// a value hashed under a key no longer configured cannot be found.
func (b *Box) Hashes(purpose, value string) []string {
	keys := b.hashKeys(purpose)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = hashWith(k, value)
	}
	return out
}

func hashWith(key []byte, value string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(value))
	return hex.EncodeToString(mac.Sum(nil))
}

// hashKeys returns every key's hash key for purpose, primary first,
// derived once.
func (b *Box) hashKeys(purpose string) [][]byte {
	if k, ok := b.hashKeyCache.Load(purpose); ok {
		return k.([][]byte)
	}
	ks := make([][]byte, len(b.keys))
	for i, key := range b.keys {
		ks[i] = derive(key, "hash", purpose, sha256.Size)
	}
	b.hashKeyCache.Store(purpose, ks)
	return ks
}

// Keys returns how many keys are configured: the primary one and the older
// ones that still open (and find hashes) during a rotation.
func (b *Box) Keys() int { return len(b.keys) }

// Fingerprint identifies the primary key without revealing it, so operators
// can tell which key is configured on which instance.
func (b *Box) Fingerprint() string { return fingerprint(b.keys[0]) }

// String keeps keys out of logs and %v output.
func (b *Box) String() string {
	if b == nil || len(b.keys) == 0 {
		return "sealbox.Box(empty)"
	}
	return fmt.Sprintf("sealbox.Box(key %s, %d older)", b.Fingerprint(), len(b.keys)-1)
}

// GoString keeps keys out of %#v output.
func (b *Box) GoString() string { return b.String() }

func fingerprint(key []byte) string {
	mac := hmac.New(sha256.New, derive(key, "fingerprint", "", sha256.Size))
	mac.Write([]byte("breakwater key fingerprint"))
	return hex.EncodeToString(mac.Sum(nil)[:8])
}

func newAEAD(key []byte, purpose string) (cipher.AEAD, error) {
	block, err := aes.NewCipher(derive(key, "seal", purpose, 32))
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

// derive gives an independent key for each use ("seal", "hash", …) and
// purpose. The use never contains '/', so "use/purpose" is unambiguous.
func derive(secret []byte, use, purpose string, n int) []byte {
	r := hkdf.New(sha256.New, secret, []byte(hkdfSalt), []byte("breakwater/"+use+"/"+purpose))
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		// HKDF-SHA256 can produce 8160 bytes; asking for 32 cannot fail.
		panic("sealbox: hkdf: " + err.Error())
	}
	return out
}

func additionalData(purpose string) []byte { return []byte("breakwater sealbox v1 purpose=" + purpose) }
