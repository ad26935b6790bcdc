package provider

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
)

const sealPurposeServerKey = "server-key"

// Fingerprint is how FASP admins compare keys: standard base64 of the
// SHA-256 of the raw 32-byte public key (what Mastodon shows).
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// DecodePublicKey parses a raw Ed25519 public key in padded standard base64,
// the only form Mastodon accepts.
func DecodePublicKey(b64 string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("public key is not standard base64: %w", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key has %d bytes, want %d", len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

func (s *Service) newKeyRow() (*models.ServerKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key pair: %w", err)
	}
	sealed, err := s.box.Seal(sealPurposeServerKey, priv.Seed())
	if err != nil {
		return nil, nil, fmt.Errorf("seal private key: %w", err)
	}
	return &models.ServerKey{
		PrivateKey: sealed,
		PublicKey:  base64.StdEncoding.EncodeToString(pub),
		State:      models.KeyActive,
		CreatedAt:  s.now(),
	}, priv, nil
}

// credential is one usable key exchange of a server, decoded.
type credential struct {
	rowID     uint64
	faspID    string
	remote    ed25519.PublicKey
	private   ed25519.PrivateKey
	publicB64 string
}

type serverCreds struct {
	serverID    string
	status      string
	domain      string
	creds       []credential
	activations map[string]bool
	confirmed   bool
	loaded      time.Time
}

// keyCache keeps decoded keys briefly so that verifying a request does not
// open sealed keys every time. Entries live ttl; rotation, suspension and
// deletion invalidate this replica at once and others within ttl.
type keyCache struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]*serverCreds
}

func newKeyCache(ttl time.Duration) *keyCache {
	return &keyCache{ttl: ttl, m: map[string]*serverCreds{}}
}

func (c *keyCache) get(id string, now time.Time) *serverCreds {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[id]
	if e == nil || now.Sub(e.loaded) > c.ttl {
		return nil
	}
	return e
}

func (c *keyCache) put(e *serverCreds) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 100_000 {
		c.m = map[string]*serverCreds{}
	}
	c.m[e.serverID] = e
}

func (c *keyCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// encodeKey renders a raw Ed25519 public key as FASP exchanges it.
func encodeKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }
