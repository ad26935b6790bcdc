package msgsig

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-fed/httpsig"
)

// cavageRequired are the headers a draft-cavage signature must cover: the
// set ActivityPub software signs, binding method, path, host, time and body.
var cavageRequired = []string{"(request-target)", "host", "date", "digest"}

// IsCavage reports whether r carries a draft-cavage ("HTTP Signatures", as
// used by ActivityPub) signature rather than an RFC 9421 one, so the HTTP
// layer can route it to VerifyCavageRequest: a Signature header with keyId=
// and no Signature-Input.
func IsCavage(r *http.Request) bool {
	if len(r.Header.Values("Signature-Input")) > 0 {
		return false
	}
	for _, v := range r.Header.Values("Signature") {
		if strings.Contains(v, "keyId=") {
			return true
		}
	}
	return false
}

// cavageSig is a parsed cavage Signature header.
type cavageSig struct {
	keyID      string
	algorithm  string
	headers    []string
	signature  string
	created    int64
	hasCreated bool
	expires    int64
	hasExpires bool
}

// parseCavage splits the Signature header exactly as go-fed/httpsig does
// (on ",", then on the first "=", trimming quotes, keys untrimmed), so that
// the parameters checked here are the ones go-fed then verifies. Repeated
// parameters, which go-fed would resolve silently, are rejected.
func parseCavage(v string) (*cavageSig, error) {
	s := &cavageSig{}
	seen := make(map[string]bool, 6)
	for _, p := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fail(CauseMalformed, "Signature parameter without a value")
		}
		val = strings.Trim(val, `"`)
		switch k {
		case "keyId", "algorithm", "headers", "signature", "created", "expires":
			if seen[k] {
				return nil, fail(CauseMalformed, "Signature parameter %q is repeated", k)
			}
			seen[k] = true
		}
		var err error
		switch k {
		case "keyId":
			s.keyID = val
		case "algorithm":
			s.algorithm = val
		case "headers":
			s.headers = strings.Split(val, " ")
		case "signature":
			s.signature = val
		case "created":
			s.created, err = strconv.ParseInt(val, 10, 64)
			s.hasCreated = true
		case "expires":
			s.expires, err = strconv.ParseInt(val, 10, 64)
			s.hasExpires = true
		}
		if err != nil {
			return nil, fail(CauseMalformed, "Signature parameter %q is not an integer", k)
		}
	}
	switch {
	case s.keyID == "":
		return nil, fail(CauseMalformed, "Signature has no keyId")
	case s.signature == "":
		return nil, fail(CauseMalformed, "Signature has no signature value")
	}
	switch strings.ToLower(s.algorithm) {
	case "", "hs2019", "ed25519":
	default:
		return nil, fail(CauseMalformed, "unsupported algorithm %q; only Ed25519 keys are used", s.algorithm)
	}
	return s, nil
}

func (s *cavageSig) covers(h string) bool {
	for _, c := range s.headers {
		if strings.EqualFold(c, h) {
			return true
		}
	}
	return false
}

// VerifyCavageRequest authenticates a draft-cavage signed request (the
// ActivityPub convention) with the same policy and *Error causes as
// VerifyRequest, for peers that do not speak RFC 9421 yet. The signature must
// cover (request-target) host date digest; keyId is looked up as the server
// id; the Date header must lie within MaxAge/MaxSkew of Now (Verified.Created
// is that Date); the Digest header's SHA-256 must match body, which go-fed
// does not check. The cryptographic check is go-fed/httpsig's, with Ed25519
// supplied by us because go-fed sends algorithm="hs2019".
// opts.RequiredComponents does not apply: it names RFC 9421 components.
func VerifyCavageRequest(r *http.Request, body []byte, lookup KeyLookup, opts VerifyOptions) (*Verified, error) {
	vals := r.Header.Values("Signature")
	if blank(vals) {
		return nil, fail(CauseMissingSignature, "request is not signed")
	}
	if len(vals) > 1 {
		return nil, fail(CauseMultipleSignatures, "%d Signature headers; exactly one is accepted", len(vals))
	}
	s, err := parseCavage(vals[0])
	if err != nil {
		return nil, err
	}
	for _, h := range cavageRequired {
		if !s.covers(h) {
			return nil, fail(CauseMissingComponent, "signature does not cover %q", h)
		}
	}
	sig, err := base64.StdEncoding.DecodeString(s.signature)
	if err != nil {
		return nil, fail(CauseMalformed, "signature value is not base64")
	}
	keys, err := lookupKeys(lookup, s.keyID)
	if err != nil {
		return nil, err
	}

	now := opts.now()
	dates := r.Header.Values("Date")
	if blank(dates) {
		return nil, fail(CauseMissingComponent, "covered header \"date\" is absent from the message")
	}
	if len(dates) > 1 {
		return nil, fail(CauseMalformed, "%d Date headers; exactly one is accepted", len(dates))
	}
	date, err := time.Parse(http.TimeFormat, dates[0])
	if err != nil {
		return nil, fail(CauseMalformed, "Date header is not an HTTP date")
	}
	if err := checkWindow(date, now, opts.maxAge(), opts.maxSkew(), "Date"); err != nil {
		return nil, err
	}
	if s.hasCreated {
		if err := checkWindow(time.Unix(s.created, 0), now, opts.maxAge(), opts.maxSkew(), "created"); err != nil {
			return nil, err
		}
	}
	if s.hasExpires && now.Unix() > s.expires {
		return nil, fail(CauseExpired, "signature expired at %d", s.expires)
	}
	if err := checkCavageDigest(r.Header.Values("Digest"), body); err != nil {
		return nil, err
	}

	// go-fed adds a Host header to the request it is given and also reads
	// Authorization; verify a shallow copy whose only signature is the one
	// checked above.
	cr := *r
	cr.Header = r.Header.Clone()
	cr.Header.Del("Authorization")
	v, err := httpsig.NewVerifier(&cr)
	if err != nil {
		// Created and expires were checked above against our clock; go-fed
		// re-checks them against the wall clock with 10 s of slack.
		switch {
		case strings.Contains(err.Error(), "expired"):
			return nil, fail(CauseExpired, "signature expired")
		case strings.Contains(err.Error(), "future"):
			return nil, fail(CauseFuture, "signature created in the future")
		}
		return nil, fail(CauseMalformed, "Signature header cannot be parsed")
	}
	for i, k := range keys {
		if len(k) != ed25519.PublicKeySize {
			continue
		}
		if v.Verify(k, httpsig.ED25519) == nil {
			return &Verified{
				KeyID:     s.keyID,
				Created:   date,
				Signature: sig,
				ReplayKey: replayKey(s.keyID, sig),
				Scheme:    SchemeCavage,
				KeyIndex:  i,
			}, nil
		}
	}
	return nil, fail(CauseBadSignature, "signature does not verify with the key(s) of keyId %q", s.keyID)
}

// checkCavageDigest checks the RFC 3230 Digest header ("SHA-256=<b64>",
// possibly among other algorithms) against the body.
func checkCavageDigest(values []string, body []byte) error {
	if blank(values) {
		return fail(CauseMissingDigest, "Digest header is missing")
	}
	want := sha256.Sum256(body)
	found := false
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			alg, b64, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				return fail(CauseBadDigest, "Digest header is malformed")
			}
			if !strings.EqualFold(alg, "SHA-256") {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return fail(CauseBadDigest, "Digest SHA-256 value is not base64")
			}
			if subtle.ConstantTimeCompare(got, want[:]) != 1 {
				return fail(CauseBadDigest, "Digest SHA-256 does not match the body")
			}
			found = true
		}
	}
	if !found {
		return fail(CauseMissingDigest, "Digest header has no SHA-256 value")
	}
	return nil
}

// SignCavageRequest signs req the draft-cavage way, through go-fed, as
// ActivityPub software does; it exists for clients of cavage-only peers and
// for tests. It sets Date (from now), Host (if absent), Digest and a
// Signature covering (request-target) host date digest.
func SignCavageRequest(req *http.Request, body []byte, keyID string, priv ed25519.PrivateKey, now time.Time) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("msgsig: private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if req.URL == nil {
		return fmt.Errorf("msgsig: request has no URL")
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	if req.Header.Get("Host") == "" {
		host := req.Host
		if host == "" {
			host = req.URL.Host
		}
		// net/http sends req.Host and never this header; it is set only so
		// that go-fed can sign the host line.
		req.Header.Set("Host", host)
	}
	req.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	req.Header.Del("Digest")
	req.Header.Del("Signature")
	signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.ED25519}, httpsig.DigestSha256, cavageRequired, httpsig.Signature, 0)
	if err != nil {
		return fmt.Errorf("msgsig: cavage signer: %w", err)
	}
	if body == nil {
		body = []byte{} // go-fed adds Digest only for a non-nil body
	}
	if err := signer.SignRequest(priv, keyID, req, body); err != nil {
		return fmt.Errorf("msgsig: cavage sign with keyId %q: %w", keyID, err)
	}
	return nil
}
