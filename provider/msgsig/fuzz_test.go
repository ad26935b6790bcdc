package msgsig

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; the f.Add seeds below are
// computed so that the success paths are always explored too.

func FuzzCheckContentDigest(f *testing.F) {
	f.Add(emptyDigest, []byte{})
	f.Add("sha-512=:AAAA:, sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", []byte(`{"hello": "world"}`))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := CheckContentDigest(header, body)
		if err != nil && CauseOf(err) == "" {
			t.Fatalf("untyped error %v", err)
		}
		if err := CheckContentDigest(ContentDigest(body), body); err != nil {
			t.Fatalf("own digest rejected: %v", err)
		}
	})
}

const fuzzTarget = "http://localhost:3000/fasp/provider_info"

// FuzzVerifyRequest feeds arbitrary signature, digest and covered-header
// values through the parsers, the base builder and the verifier. The lookup
// serves the Linzer vector key (so the GET vector seed verifies) next to a
// corrupt key; every failure must be a typed *Error and nothing may panic.
func FuzzVerifyRequest(f *testing.F) {
	f.Add("GET", mastodonInput(1754488635), "sig1=:jxwQBm9dIhMb9jsjkG1bINlpc4GpoXtHPSEcZRy1ByibhBiduGsaonqh7NauY8gDyqwphifOdIUTBoKhSyj8BA==:", emptyDigest, "", []byte{})
	c, _ := http.NewRequest("POST", fuzzTarget, nil)
	body := []byte(`{"a":1}`)
	if err := SignRequest(c, body, "7", ed25519.NewKeyFromSeed(mustB64(mastodonServerSeed)), time.Unix(1754488635, 0)); err != nil {
		f.Fatal(err)
	}
	f.Add("POST", c.Header.Get("Signature-Input"), c.Header.Get("Signature"), c.Header.Get("Content-Digest"), "x", body)
	f.Add("GET", `sig1=("@method" "@authority" "@scheme" "@path" "@query" "@request-target" "x-extra");created=1754488635;keyid="7";expires=1;alg="ed25519"`, "sig1=:AAAA:", emptyDigest, "a\r\n b", []byte{})

	pub := ed25519.PublicKey(mustB64(mastodonServerPub))
	lookup := func(id string) ([]ed25519.PublicKey, error) {
		if id != "7" {
			return nil, ErrUnknownKey
		}
		return []ed25519.PublicKey{{1, 2}, pub}, nil
	}
	opts := VerifyOptions{Now: fixedNow(time.Unix(1754488635+10, 0)), RequiredComponents: []string{}}
	f.Fuzz(func(t *testing.T, method, sigInput, sig, digest, extra string, body []byte) {
		r := httptest.NewRequest("GET", fuzzTarget, bytes.NewReader(body))
		r.Method = method
		r.Header["Signature-Input"] = []string{sigInput}
		r.Header["Signature"] = []string{sig}
		r.Header["Content-Digest"] = []string{digest}
		r.Header["X-Extra"] = []string{extra}
		_, err := VerifyRequest(r, fuzzTarget, body, lookup, opts)
		if err != nil && CauseOf(err) == "" {
			t.Fatalf("untyped error %v", err)
		}
		_, _ = SignatureBase(r, fuzzTarget)

		h := http.Header{"Signature-Input": {sigInput}, "Signature": {sig}, "Content-Digest": {digest}, "X-Extra": {extra}}
		if err := VerifyResponse(200, h, body, pub, time.Unix(1754488635, 0), 0); err != nil && CauseOf(err) == "" {
			t.Fatalf("untyped response error %v", err)
		}
		_, _ = ResponseSignatureBase(200, h)
	})
}

// FuzzVerifyCavageRequest explores the cavage Signature, Digest and Date
// parsing and the hand-off to go-fed.
func FuzzVerifyCavageRequest(f *testing.F) {
	body := []byte(`{"type":"Create"}`)
	now := time.Unix(1795293149, 0)
	c, _ := http.NewRequest("POST", "https://fasp.example/inbox", bytes.NewReader(body))
	if err := SignCavageRequest(c, body, "k", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)), now); err != nil {
		f.Fatal(err)
	}
	f.Add(c.Header.Get("Signature"), c.Header.Get("Digest"), c.Header.Get("Date"), body)
	f.Add(`keyId="k",algorithm="hs2019",headers="(request-target) host date digest (created) (expires)",created=1,expires=2,signature="AAAA"`, "SHA-256=x,SHA-512=y", "Sat, 21 Nov 2026 20:32:29 GMT", []byte{})

	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey)
	lookup := func(id string) ([]ed25519.PublicKey, error) {
		if id != "k" {
			return nil, errors.Join(ErrUnknownKey)
		}
		return []ed25519.PublicKey{{3}, pub}, nil
	}
	opts := VerifyOptions{Now: fixedNow(now)}
	f.Fuzz(func(t *testing.T, sig, digest, date string, body []byte) {
		r := httptest.NewRequest("POST", "https://fasp.example/inbox", bytes.NewReader(body))
		r.Header["Signature"] = []string{sig}
		r.Header["Digest"] = []string{digest}
		r.Header["Date"] = []string{date}
		_ = IsCavage(r)
		if _, err := VerifyCavageRequest(r, body, lookup, opts); err != nil && CauseOf(err) == "" {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
