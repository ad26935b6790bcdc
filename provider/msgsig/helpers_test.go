package msgsig

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Keys used across the tests. Deterministic so failures reproduce.
var (
	testPriv    = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	testPub     = testPriv.Public().(ed25519.PublicKey)
	otherPriv   = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	otherPub    = otherPriv.Public().(ed25519.PublicKey)
	testCreated = time.Unix(1795293149, 0)
)

const (
	testKeyID  = "srv-1"
	testTarget = "https://fasp.example/spam_detection/v0/screen?lang=en&x=a%20b"
)

func b64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return b
}

func parsePrivatePEM(t testing.TB, s string) ed25519.PrivateKey {
	t.Helper()
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		t.Fatal("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey)
}

func parsePublicPEM(t testing.TB, s string) ed25519.PublicKey {
	t.Helper()
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		t.Fatal("no PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PublicKey)
}

func privatePEM(t testing.TB, k ed25519.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func publicPEM(t testing.TB, k ed25519.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// lookupOf serves fixed keys per keyid; anything else is ErrUnknownKey.
func lookupOf(m map[string][]ed25519.PublicKey) KeyLookup {
	return func(id string) ([]ed25519.PublicKey, error) {
		if ks, ok := m[id]; ok {
			return ks, nil
		}
		return nil, ErrUnknownKey
	}
}

// lookupWrapped is lookupOf but returns ErrUnknownKey wrapped with %w, as a
// real store would.
func lookupWrapped(m map[string][]ed25519.PublicKey) KeyLookup {
	return func(id string) ([]ed25519.PublicKey, error) {
		if ks, ok := m[id]; ok {
			return ks, nil
		}
		return nil, &wrapErr{ErrUnknownKey}
	}
}

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "load key: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

// serverRequest turns a client request (as signed) into what a handler sees:
// Host moved to r.Host, headers kept.
func serverRequest(t testing.TB, client *http.Request, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(client.Method, client.URL.String(), bytes.NewReader(body))
	for k, vs := range client.Header {
		if k == "Host" {
			continue
		}
		r.Header[k] = append([]string(nil), vs...)
	}
	return r
}

// signedRequest is a FASP request signed by testPriv as keyid srv-1.
func signedRequest(t testing.TB, method string, body []byte) *http.Request {
	t.Helper()
	c, err := http.NewRequest(method, testTarget, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c.Header.Set("Content-Type", "application/json")
	if err := SignRequest(c, body, testKeyID, testPriv, testCreated); err != nil {
		t.Fatal(err)
	}
	return serverRequest(t, c, body)
}

// resign replaces r's signature by one over inputLine (everything after
// "label="), computed with this package's base builder: for policy tests
// whose signature must be cryptographically valid.
func resign(t testing.TB, r *http.Request, priv ed25519.PrivateKey, label, inputLine string) {
	t.Helper()
	r.Header.Set("Signature-Input", label+"="+inputLine)
	base, err := SignatureBase(r, testTarget)
	if err != nil {
		t.Fatalf("base for %q: %v", inputLine, err)
	}
	r.Header.Set("Signature", label+"=:"+base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(base)))+":")
}

func wantCause(t testing.TB, err error, cause string) {
	t.Helper()
	if cause == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error with cause %q, got %v", cause, err)
	}
	if e.Cause != cause {
		t.Fatalf("want cause %q, got %q (%s)", cause, e.Cause, e.Message)
	}
}
