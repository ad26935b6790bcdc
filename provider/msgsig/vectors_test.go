package msgsig

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RFC 9421 Appendix B.1.4 test-key-ed25519.
const (
	rfcEd25519Private = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
`
	rfcEd25519Public = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
`
)

// rfcTestRequest is RFC 9421 Appendix B.2's test-request as a server sees it.
func rfcTestRequest() *http.Request {
	body := `{"hello": "world"}`
	r := httptest.NewRequest("POST", "/foo?param=Value&Pet=dog", strings.NewReader(body))
	r.Host = "example.com"
	r.Header.Set("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:")
	r.Header.Set("Content-Length", "18")
	r.Header.Set("Signature-Input", `sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`)
	r.Header.Set("Signature", "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:")
	return r
}

const rfcTarget = "https://example.com/foo?param=Value&Pet=dog"

func TestRFC9421B26(t *testing.T) {
	priv := parsePrivatePEM(t, rfcEd25519Private)
	pub := parsePublicPEM(t, rfcEd25519Public)
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		t.Fatal("B.1.4 private and public keys do not match")
	}
	wantBase := strings.Join([]string{
		`"date": Tue, 20 Apr 2021 02:07:55 GMT`,
		`"@method": POST`,
		`"@path": /foo`,
		`"@authority": example.com`,
		`"content-type": application/json`,
		`"content-length": 18`,
		`"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
	}, "\n")
	wantSig := b64(t, "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==")

	r := rfcTestRequest()
	base, err := SignatureBase(r, rfcTarget)
	if err != nil {
		t.Fatal(err)
	}
	if base != wantBase {
		t.Fatalf("signature base differs from RFC 9421 B.2.6:\n got: %q\nwant: %q", base, wantBase)
	}
	if !ed25519.Verify(pub, []byte(base), wantSig) {
		t.Fatal("RFC signature does not verify over our base")
	}
	if got := ed25519.Sign(priv, []byte(base)); !bytes.Equal(got, wantSig) {
		t.Fatalf("re-signing gives %s", base64.StdEncoding.EncodeToString(got))
	}

	// Through the full verifier, with a policy that matches what B.2.6
	// covers: the crypto passes but FASP's sha-256 Content-Digest rule
	// rejects the RFC's sha-512-only digest.
	lookup := lookupOf(map[string][]ed25519.PublicKey{"test-key-ed25519": {pub}})
	opts := VerifyOptions{Now: fixedNow(time.Unix(1618884473, 0)), RequiredComponents: []string{"@method", "@authority"}}
	_, err = VerifyRequest(r, rfcTarget, []byte(`{"hello": "world"}`), lookup, opts)
	wantCause(t, err, CauseMissingDigest)

	// With the FASP default policy the missing @target-uri is reported.
	opts.RequiredComponents = nil
	_, err = VerifyRequest(r, rfcTarget, []byte(`{"hello": "world"}`), lookup, opts)
	wantCause(t, err, CauseMissingComponent)
}

// Real Linzer output recorded against a fasp_base provider
// (mastodon-interop.md §2).
const (
	mastodonServerSeed  = "hqRBxE0Eaby1lVevr3SBNglxLXmAOLSJQQFE5S4Lf7Q="
	mastodonServerPub   = "MXRx/5XzFDFHG6SiRasDike9vQT37IpZnMlvuMKQ/9c="
	mastodonProviderPub = "2m4yAcnNSi5qX5JgyX8MnuKjf/7W87qdqT6t6y/IJc0="
	emptyDigest         = "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
)

var mastodonRequests = []struct {
	name, method, url string
	created           int64
	sig               string
}{
	{"GET provider_info", "GET", "http://localhost:3000/fasp/provider_info", 1754488635,
		"jxwQBm9dIhMb9jsjkG1bINlpc4GpoXtHPSEcZRy1ByibhBiduGsaonqh7NauY8gDyqwphifOdIUTBoKhSyj8BA=="},
	{"POST activation", "POST", "http://localhost:3000/fasp/capabilities/trends/0/activation", 1754488634,
		"qMavHUw9TFxRhDo7jOVM8RMoqnF886RybmB4tVwTg8ttgnnxrcWPTHs68o0YCcTYOxCDVVf95M3fJjA8aC4ZAw=="},
	{"DELETE activation", "DELETE", "http://localhost:3000/fasp/capabilities/trends/0/activation", 1754488635,
		"wLuhR3RzwwErPQUrYwi4URlULqouPh2TqQWOCAXVnYxVBHwHWwbfuNb8cqbhMR0Kp5Zh+HeZDgivJ3TREPmdDg=="},
}

func mastodonInput(created int64) string {
	return `sig1=("@method" "@target-uri" "content-digest");created=` + strconv.FormatInt(created, 10) + `;keyid="7"`
}

func TestMastodonRequestVectors(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(b64(t, mastodonServerSeed))
	pub := ed25519.PublicKey(b64(t, mastodonServerPub))
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		t.Fatal("seed does not give the documented public key")
	}
	lookup := lookupOf(map[string][]ed25519.PublicKey{"7": {pub}})
	for _, v := range mastodonRequests {
		t.Run(v.name, func(t *testing.T) {
			r := httptest.NewRequest(v.method, v.url, nil)
			r.Header.Set("Accept", "application/json")
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Content-Digest", emptyDigest)
			r.Header.Set("Signature-Input", mastodonInput(v.created))
			r.Header.Set("Signature", "sig1=:"+v.sig+":")

			got, err := VerifyRequest(r, v.url, nil, lookup, VerifyOptions{Now: fixedNow(time.Unix(v.created+30, 0))})
			if err != nil {
				t.Fatalf("VerifyRequest: %v", err)
			}
			if got.KeyID != "7" || got.Label != "sig1" || got.Created.Unix() != v.created || got.Scheme != SchemeRFC9421 || got.KeyIndex != 0 {
				t.Fatalf("unexpected result %+v", got)
			}

			c, err := http.NewRequest(v.method, v.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := SignRequest(c, nil, "7", priv, time.Unix(v.created, 0)); err != nil {
				t.Fatal(err)
			}
			for h, want := range map[string]string{
				"Content-Digest":  emptyDigest,
				"Signature-Input": mastodonInput(v.created),
				"Signature":       "sig1=:" + v.sig + ":",
			} {
				if g := c.Header.Get(h); g != want {
					t.Errorf("%s:\n got %s\nwant %s", h, g, want)
				}
			}
		})
	}

	t.Run("documented base", func(t *testing.T) {
		r := httptest.NewRequest("POST", "http://localhost:3000/fasp/capabilities/trends/0/activation", nil)
		r.Header.Set("Content-Digest", emptyDigest)
		r.Header.Set("Signature-Input", mastodonInput(1754488634))
		base, err := SignatureBase(r, "http://localhost:3000/fasp/capabilities/trends/0/activation")
		if err != nil {
			t.Fatal(err)
		}
		want := `"@method": POST` + "\n" +
			`"@target-uri": http://localhost:3000/fasp/capabilities/trends/0/activation` + "\n" +
			`"content-digest": ` + emptyDigest + "\n" +
			`"@signature-params": ("@method" "@target-uri" "content-digest");created=1754488634;keyid="7"`
		if base != want {
			t.Fatalf("base:\n%s\nwant:\n%s", base, want)
		}
	})
}

func TestMastodonResponseVectors(t *testing.T) {
	pub := ed25519.PublicKey(b64(t, mastodonProviderPub))
	now := time.Unix(1754488635+60, 0)

	t.Run("204 activation", func(t *testing.T) {
		h := http.Header{}
		h.Set("Content-Digest", emptyDigest)
		h.Set("Signature-Input", `sig1=("@status" "content-digest");created=1754488635`)
		h.Set("Signature", "sig1=:F/9QpYlo48p35mcpvK4qDwvq0K8tnUMKS807sc8qle5ccBcqWs4astFu1jpEGaj058I6Ye7T3MYVNBnCHR+jDA==:")
		if err := VerifyResponse(204, h, nil, pub, now, 0); err != nil {
			t.Fatalf("VerifyResponse: %v", err)
		}
		wantCause(t, VerifyResponse(200, h, nil, pub, now, 0), CauseBadSignature)
		wantCause(t, VerifyResponse(204, h, []byte("{}"), pub, now, 0), CauseBadDigest)
		wantCause(t, VerifyResponse(204, h, nil, pub, time.Unix(1754488635+901, 0), 0), CauseExpired)
	})

	t.Run("200 provider_info over recorded digest", func(t *testing.T) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("Content-Digest", "sha-256=:AGiSIDFxhShUc7MMR6S9L0QI26LP1AszgQpFzWCxBfI=:")
		h.Set("Signature-Input", `sig1=("@status" "content-digest");created=1754488635`)
		h.Set("Signature", "sig1=:O5tkhmqrdnDxBnr1gRgNbmPOkCyCEgSF04EqqiUa5nzutUNEqKXwhA91Y2cEADRumumYCdlkRBFHdmNK4WfKBg==:")
		if err := VerifyResponseSignature(200, h, pub, now, 0); err != nil {
			t.Fatalf("VerifyResponseSignature: %v", err)
		}
		base, err := ResponseSignatureBase(200, h)
		if err != nil {
			t.Fatal(err)
		}
		want := `"@status": 200` + "\n" +
			`"content-digest": sha-256=:AGiSIDFxhShUc7MMR6S9L0QI26LP1AszgQpFzWCxBfI=:` + "\n" +
			`"@signature-params": ("@status" "content-digest");created=1754488635`
		if base != want {
			t.Fatalf("base:\n%s\nwant:\n%s", base, want)
		}
		// We do not have the 332-byte body, so the full check must fail on
		// the digest, not on the signature.
		wantCause(t, VerifyResponse(200, h, []byte(`{"name":"FaspBase"}`), pub, now, 0), CauseBadDigest)
	})
}
