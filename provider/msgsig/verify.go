package msgsig

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Defaults applied by VerifyOptions and VerifyResponse when a field is zero.
const (
	// DefaultMaxAge is how old a request's created may be: Mastodon and
	// fasp_base use 300 s (Linzer no_older_than: 5.minutes).
	DefaultMaxAge = 300 * time.Second
	// DefaultMaxSkew is how far in the future created may be, to absorb
	// clock drift between servers; the same value as DefaultMaxAge.
	DefaultMaxSkew = 300 * time.Second
	// DefaultResponseMaxAge is Linzer's default no_older_than, which is what
	// Mastodon applies to provider responses (mastodon-interop.md §1.6).
	DefaultResponseMaxAge = 900 * time.Second
)

// DefaultRequiredComponents are the components FASP requires every request
// signature to cover (protocol_basics.md, Authentication).
var DefaultRequiredComponents = []string{"@method", "@target-uri", "content-digest"}

// KeyLookup returns the public keys registered for a keyid. Several keys
// model a rotation grace period: the signature is accepted if any one
// verifies. It returns ErrUnknownKey (possibly wrapped) when the keyid is
// unknown; any other error is treated as internal and passed through.
type KeyLookup func(keyID string) ([]ed25519.PublicKey, error)

// VerifyOptions is the verification policy. The zero value is the FASP
// policy Mastodon itself applies, plus a future-skew bound.
type VerifyOptions struct {
	// Now is the clock; nil means time.Now. Tests pin it.
	Now func() time.Time
	// MaxAge bounds how old created (cavage: Date) may be; 0 means
	// DefaultMaxAge.
	MaxAge time.Duration
	// MaxSkew bounds how far in the future created (cavage: Date) may be;
	// 0 means DefaultMaxSkew.
	MaxSkew time.Duration
	// RequiredComponents must all be covered by the signature; nil means
	// DefaultRequiredComponents. Whatever this says, the Content-Digest
	// header must be present and match the body.
	RequiredComponents []string
}

func (o VerifyOptions) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o VerifyOptions) maxAge() time.Duration {
	if o.MaxAge <= 0 {
		return DefaultMaxAge
	}
	return o.MaxAge
}

func (o VerifyOptions) maxSkew() time.Duration {
	if o.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return o.MaxSkew
}

func (o VerifyOptions) required() []string {
	if o.RequiredComponents == nil {
		return DefaultRequiredComponents
	}
	return o.RequiredComponents
}

// Verified describes an accepted signature, so that the caller can bind the
// request to the server that signed it and reject replays.
type Verified struct {
	// KeyID is the signer's keyid (FASP: the server id we assigned).
	KeyID string
	// Label is the signature's label in Signature-Input ("" for cavage).
	Label string
	// Created is the signature's created time (cavage: the Date header).
	Created time.Time
	// Signature is the raw signature bytes.
	Signature []byte
	// ReplayKey is hex(sha256(keyid || signature)): a fixed-size key under
	// which the caller can remember the signature until it expires.
	ReplayKey string
	// Scheme is "rfc9421" or "cavage", for metrics and logs.
	Scheme string
	// KeyIndex is the index in the KeyLookup result of the key that
	// verified, so the caller can tell when a rotated-out key is still used.
	KeyIndex int
}

// Scheme names reported in Verified.Scheme.
const (
	SchemeRFC9421 = "rfc9421"
	SchemeCavage  = "cavage"
)

func replayKey(keyID string, sig []byte) string {
	buf := make([]byte, 0, len(keyID)+len(sig))
	sum := sha256.Sum256(append(append(buf, keyID...), sig...))
	return hex.EncodeToString(sum[:])
}

// VerifyRequest authenticates a signed FASP request (RFC 9421 with Ed25519
// and an RFC 9530 Content-Digest). targetURI is the URL the peer addressed,
// rebuilt by the caller from the configured public base URL plus the raw path
// and query, so verification works behind a proxy. body is the raw body that
// was read. Failures are *Error; any other error is internal (key lookup).
//
// Checks, in order: one well-formed signature with created and keyid;
// required components covered; key lookup; created within MaxAge/MaxSkew and
// expires not passed; Content-Digest present and matching; Ed25519 over the
// signature base with each key returned by lookup.
func VerifyRequest(r *http.Request, targetURI string, body []byte, lookup KeyLookup, opts VerifyOptions) (*Verified, error) {
	in, sig, err := parseSignature(r.Header)
	if err != nil {
		return nil, err
	}
	if !in.hasKeyID {
		return nil, fail(CauseMalformed, "signature has no keyid parameter")
	}
	for _, c := range opts.required() {
		if !covers(in, c) {
			return nil, fail(CauseMissingComponent, "signature does not cover %q", c)
		}
	}
	keys, err := lookupKeys(lookup, in.keyID)
	if err != nil {
		return nil, err
	}
	now := opts.now()
	if err := checkTimes(in, now, opts.maxAge(), opts.maxSkew()); err != nil {
		return nil, err
	}
	if err := CheckContentDigest(joinedHeader(r.Header.Values("Content-Digest")), body); err != nil {
		return nil, err
	}
	base, err := buildBase(requestMessage(r, targetURI), in)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, base, sig) {
			return &Verified{
				KeyID:     in.keyID,
				Label:     in.label,
				Created:   time.Unix(in.created, 0).UTC(),
				Signature: sig,
				ReplayKey: replayKey(in.keyID, sig),
				Scheme:    SchemeRFC9421,
				KeyIndex:  i,
			}, nil
		}
	}
	return nil, fail(CauseBadSignature, "signature does not verify with the key(s) of keyid %q", in.keyID)
}

// parseSignature reads the single signature of a message and requires its
// created parameter, which every FASP signature carries.
func parseSignature(h http.Header) (*sigInput, []byte, error) {
	inVals, sigVals := h.Values("Signature-Input"), h.Values("Signature")
	if blank(inVals) && blank(sigVals) {
		return nil, nil, fail(CauseMissingSignature, "request is not signed")
	}
	in, err := parseSignatureInput(inVals)
	if err != nil {
		return nil, nil, err
	}
	sig, err := parseSignatureValue(sigVals, in.label)
	if err != nil {
		return nil, nil, err
	}
	if !in.hasCreated {
		return nil, nil, fail(CauseMalformed, "signature has no created parameter")
	}
	return in, sig, nil
}

func covers(in *sigInput, component string) bool {
	for _, c := range in.components {
		if c == component {
			return true
		}
	}
	return false
}

func lookupKeys(lookup KeyLookup, keyID string) ([]ed25519.PublicKey, error) {
	if lookup == nil {
		return nil, errors.New("msgsig: nil KeyLookup")
	}
	keys, err := lookup(keyID)
	if errors.Is(err, ErrUnknownKey) || (err == nil && len(keys) == 0) {
		return nil, fail(CauseUnknownKey, "keyid %q is not known", keyID)
	}
	if err != nil {
		return nil, fmt.Errorf("look up key %q: %w", keyID, err)
	}
	return keys, nil
}

// checkTimes enforces the created window and the signature's own expires.
func checkTimes(in *sigInput, now time.Time, maxAge, maxSkew time.Duration) error {
	if err := checkWindow(time.Unix(in.created, 0), now, maxAge, maxSkew, "created"); err != nil {
		return err
	}
	if in.hasExpires && now.Unix() > in.expires {
		return fail(CauseExpired, "signature expired at %d", in.expires)
	}
	return nil
}

func checkWindow(t, now time.Time, maxAge, maxSkew time.Duration, what string) error {
	age := now.Sub(t)
	if age > maxAge {
		return fail(CauseExpired, "%s is %ds old; at most %ds is accepted", what, int64(age/time.Second), int64(maxAge/time.Second))
	}
	if -age > maxSkew {
		return fail(CauseFuture, "%s is %ds in the future; at most %ds is accepted", what, int64(-age/time.Second), int64(maxSkew/time.Second))
	}
	return nil
}

// VerifyResponse checks a signed response from a FASP peer the way Mastodon
// checks a provider's response (mastodon-interop.md §1.6), so that our client
// and our own replies agree with it: the Content-Digest header must equal
// ContentDigest(body) as a string; Signature-Input must be present with
// exactly one label; created is required and at most maxAge old (0 means
// DefaultResponseMaxAge; it is also the allowed future skew); expires is
// honoured; keyid is ignored; whatever components are listed are verified
// with pub. Failures are *Error.
func VerifyResponse(status int, h http.Header, body []byte, pub ed25519.PublicKey, now time.Time, maxAge time.Duration) error {
	got := h.Values("Content-Digest")
	if blank(got) {
		return fail(CauseMissingDigest, "Content-Digest header is missing")
	}
	if subtle.ConstantTimeCompare([]byte(joinedHeader(got)), []byte(ContentDigest(body))) != 1 {
		return fail(CauseBadDigest, "Content-Digest does not equal the sha-256 digest of the body")
	}
	if blank(h.Values("Signature-Input")) {
		return fail(CauseMissingSignature, "Signature-Input header is missing")
	}
	return VerifyResponseSignature(status, h, pub, now, maxAge)
}

// VerifyResponseSignature is VerifyResponse without the body digest check:
// it verifies the signature over the header values as received. It exists
// for callers that hold the headers but not the body (recorded vectors,
// debugging); a live client must use VerifyResponse.
func VerifyResponseSignature(status int, h http.Header, pub ed25519.PublicKey, now time.Time, maxAge time.Duration) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("msgsig: public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	if maxAge <= 0 {
		maxAge = DefaultResponseMaxAge
	}
	in, sig, err := parseSignature(h)
	if err != nil {
		return err
	}
	if err := checkTimes(in, now, maxAge, maxAge); err != nil {
		return err
	}
	base, err := buildBase(&message{response: true, status: status, header: h}, in)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, base, sig) {
		return fail(CauseBadSignature, "response signature does not verify")
	}
	return nil
}
