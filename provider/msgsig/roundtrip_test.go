package msgsig

import (
	"bytes"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-fed/httpsig"
)

func TestSignRequestRoundTrip(t *testing.T) {
	lookup := lookupOf(map[string][]ed25519.PublicKey{testKeyID: {testPub}})
	for _, tt := range []struct {
		name, method, url string
		body              []byte
	}{
		{"POST JSON", "POST", "https://fasp.example/spam_detection/v0/screen", []byte(`{"text":"buy now"}`)},
		{"GET with query", "GET", "https://fasp.example/base/search?limit=10&term=foo%20bar", nil},
		{"DELETE empty", "DELETE", "https://fasp.example/capabilities/spam_detection/0/activation", nil},
		{"POST empty JSON body", "POST", "http://localhost:3000/capabilities/spam_detection/0/activation", []byte{}},
		{"non-default port", "POST", "https://fasp.example:8443/x", []byte("{}")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := http.NewRequest(tt.method, tt.url, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if err := SignRequest(c, tt.body, testKeyID, testPriv, testCreated); err != nil {
				t.Fatal(err)
			}
			if got, want := c.Header.Get("Content-Digest"), ContentDigest(tt.body); got != want {
				t.Fatalf("Content-Digest %q, want %q", got, want)
			}
			wantInput := `sig1=("@method" "@target-uri" "content-digest");created=1795293149;keyid="srv-1"`
			if got := c.Header.Get("Signature-Input"); got != wantInput {
				t.Fatalf("Signature-Input %q", got)
			}
			r := serverRequest(t, c, tt.body)
			v, err := VerifyRequest(r, tt.url, tt.body, lookup, VerifyOptions{Now: fixedNow(testCreated.Add(time.Second))})
			if err != nil {
				t.Fatal(err)
			}
			if v.KeyID != testKeyID {
				t.Fatalf("KeyID %q", v.KeyID)
			}
		})
	}
}

func TestSignRequestErrors(t *testing.T) {
	newReq := func() *http.Request {
		r, _ := http.NewRequest("GET", "https://fasp.example/", nil)
		return r
	}
	if err := SignRequest(newReq(), nil, "bad\nkeyid", testPriv, testCreated); err == nil {
		t.Error("non-printable keyid accepted")
	}
	if err := SignRequest(newReq(), nil, "é", testPriv, testCreated); err == nil {
		t.Error("non-ASCII keyid accepted")
	}
	if err := SignRequest(newReq(), nil, testKeyID, testPriv[:10], testCreated); err == nil {
		t.Error("short private key accepted")
	}
	if err := SignRequest(&http.Request{Method: "GET"}, nil, testKeyID, testPriv, testCreated); err == nil {
		t.Error("request without URL accepted")
	}
	// A keyid needing escapes survives the round trip.
	r := newReq()
	id := `we"ird\id`
	if err := SignRequest(r, nil, id, testPriv, testCreated); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Header.Get("Signature-Input"), `keyid="we\"ird\\id"`) {
		t.Fatalf("Signature-Input %q", r.Header.Get("Signature-Input"))
	}
	_, err := VerifyRequest(serverRequest(t, r, nil), "https://fasp.example/", nil,
		lookupOf(map[string][]ed25519.PublicKey{id: {testPub}}), VerifyOptions{Now: fixedNow(testCreated)})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSignResponseRoundTrip(t *testing.T) {
	now := testCreated.Add(10 * time.Second)
	for _, tt := range []struct {
		name       string
		status     int
		body       []byte
		wantDigest string
	}{
		{"204 empty", http.StatusNoContent, nil, emptyDigest},
		{"200 JSON", http.StatusOK, []byte(`{"name":"Breakwater","capabilities":[{"id":"spam_detection","version":"0.1"}]}`), ""},
		{"201 created", http.StatusCreated, []byte(`{"id":"1"}`), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			SignResponse(h, tt.status, tt.body, testPriv, testCreated)
			if tt.wantDigest != "" && h.Get("Content-Digest") != tt.wantDigest {
				t.Fatalf("Content-Digest %q, want %q", h.Get("Content-Digest"), tt.wantDigest)
			}
			if got := h.Get("Signature-Input"); got != `sig1=("@status" "content-digest");created=1795293149` {
				t.Fatalf("Signature-Input %q", got)
			}
			if n := len(h.Values("Signature")); n != 1 {
				t.Fatalf("%d Signature lines", n)
			}
			if err := VerifyResponse(tt.status, h, tt.body, testPub, now, 0); err != nil {
				t.Fatal(err)
			}
			// Signing again replaces rather than adds a label.
			SignResponse(h, tt.status, tt.body, testPriv, testCreated.Add(time.Second))
			if err := VerifyResponse(tt.status, h, tt.body, testPub, now, 0); err != nil {
				t.Fatalf("after re-signing: %v", err)
			}
		})
	}
}

func TestVerifyResponseRejections(t *testing.T) {
	body := []byte(`{"ok":true}`)
	tests := []struct {
		name   string
		mutate func(h http.Header, status *int, body *[]byte, pub *ed25519.PublicKey, now *time.Time, maxAge *time.Duration)
		cause  string
	}{
		{"valid", nil, ""},
		{"valid at 900s", func(_ http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, n *time.Time, _ *time.Duration) {
			*n = testCreated.Add(900 * time.Second)
		}, ""},
		{"stale", func(_ http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, n *time.Time, _ *time.Duration) {
			*n = testCreated.Add(901 * time.Second)
		}, CauseExpired},
		{"stale with custom max age", func(_ http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, n *time.Time, m *time.Duration) {
			*n, *m = testCreated.Add(61*time.Second), time.Minute
		}, CauseExpired},
		{"far future", func(_ http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, n *time.Time, _ *time.Duration) {
			*n = testCreated.Add(-901 * time.Second)
		}, CauseFuture},
		{"status changed", func(_ http.Header, s *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			*s = http.StatusAccepted
		}, CauseBadSignature},
		{"body changed", func(_ http.Header, _ *int, b *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			*b = []byte(`{"ok":false}`)
		}, CauseBadDigest},
		{"digest missing", func(h http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			h.Del("Content-Digest")
		}, CauseMissingDigest},
		{"digest not exactly formatted", func(h http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			h.Set("Content-Digest", " "+h.Get("Content-Digest"))
		}, CauseBadDigest},
		{"digest with an extra member", func(h http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			h.Add("Content-Digest", "sha-512=:AAAA:")
		}, CauseBadDigest},
		{"signature-input missing", func(h http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			h.Del("Signature-Input")
		}, CauseMissingSignature},
		{"signature missing", func(h http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			h.Del("Signature")
		}, CauseMissingSignature},
		{"two labels", func(h http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			h.Add("Signature-Input", `sig2=("@status");created=1795293149`)
		}, CauseMultipleSignatures},
		{"created missing", func(h http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			h.Set("Signature-Input", `sig1=("@status" "content-digest")`)
		}, CauseMalformed},
		{"expires passed", func(h http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			h.Set("Signature-Input", `sig1=("@status" "content-digest");created=1795293149;expires=1795293150`)
		}, CauseExpired},
		{"request component", func(h http.Header, _ *int, _ *[]byte, _ *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			h.Set("Signature-Input", `sig1=("@method" "content-digest");created=1795293149`)
		}, CauseMalformed},
		{"wrong key", func(_ http.Header, _ *int, _ *[]byte, p *ed25519.PublicKey, _ *time.Time, _ *time.Duration) {
			*p = otherPub
		}, CauseBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			SignResponse(h, http.StatusOK, body, testPriv, testCreated)
			status, b, pub, now, maxAge := http.StatusOK, body, testPub, testCreated.Add(5*time.Second), time.Duration(0)
			if tt.mutate != nil {
				tt.mutate(h, &status, &b, &pub, &now, &maxAge)
			}
			wantCause(t, VerifyResponse(status, h, b, pub, now, maxAge), tt.cause)
		})
	}
	if err := VerifyResponse(200, http.Header{}, nil, ed25519.PublicKey{1}, testCreated, 0); err == nil {
		t.Fatal("want error")
	}
	if err := VerifyResponseSignature(200, http.Header{}, ed25519.PublicKey{1}, testCreated, 0); err == nil || CauseOf(err) != "" {
		t.Fatalf("bad key length must be an internal error, got %v", err)
	}
}

// cavageRequest signs a request with go-fed the ActivityPub way and returns
// what the server sees.
func cavageRequest(t testing.TB, body []byte, now time.Time) *http.Request {
	t.Helper()
	c, err := http.NewRequest("POST", "https://fasp.example/inbox?x=1", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c.Header.Set("Content-Type", "application/activity+json")
	if err := SignCavageRequest(c, body, "https://social.example/actor#main-key", testPriv, now); err != nil {
		t.Fatal(err)
	}
	return serverRequest(t, c, body)
}

func TestCavageRoundTrip(t *testing.T) {
	body := []byte(`{"type":"Create"}`)
	keyID := "https://social.example/actor#main-key"
	lookup := lookupOf(map[string][]ed25519.PublicKey{keyID: {otherPub, testPub}})
	r := cavageRequest(t, body, testCreated)
	sigHeader := r.Header.Get("Signature")
	for _, want := range []string{`keyId="` + keyID + `"`, `algorithm="hs2019"`, `headers="(request-target) host date digest"`} {
		if !strings.Contains(sigHeader, want) {
			t.Fatalf("Signature %q lacks %s", sigHeader, want)
		}
	}
	if !IsCavage(r) {
		t.Fatal("IsCavage = false")
	}
	v, err := VerifyCavageRequest(r, body, lookup, VerifyOptions{Now: fixedNow(testCreated.Add(time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	if v.Scheme != SchemeCavage || v.KeyID != keyID || !v.Created.Equal(testCreated) || v.KeyIndex != 1 || len(v.Signature) != ed25519.SignatureSize || v.ReplayKey != replayKey(keyID, v.Signature) {
		t.Fatalf("unexpected result %+v", v)
	}
	if r.Header.Get("Host") != "" {
		t.Fatal("verification mutated the request headers")
	}
}

func TestCavageRejections(t *testing.T) {
	body := []byte(`{"type":"Create"}`)
	keyID := "https://social.example/actor#main-key"
	keys := map[string][]ed25519.PublicKey{keyID: {testPub}}
	tests := []struct {
		name   string
		mutate func(t *testing.T, r *http.Request, body *[]byte, opts *VerifyOptions, keys map[string][]ed25519.PublicKey)
		cause  string
	}{
		{"valid", nil, ""},
		{"digest mismatch", func(_ *testing.T, _ *http.Request, b *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			*b = []byte(`{"type":"Delete"}`)
		}, CauseBadDigest},
		{"digest header missing", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Del("Digest")
		}, CauseMissingDigest},
		{"digest without SHA-256", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Digest", "SHA-512=AAAA")
		}, CauseMissingDigest},
		{"digest not base64", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Digest", "SHA-256=%%%")
		}, CauseBadDigest},
		{"digest replaced by a matching one of another form", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Digest", "sha-256="+strings.TrimPrefix(r.Header.Get("Digest"), "SHA-256="))
		}, CauseBadSignature},
		{"stale Date", func(_ *testing.T, _ *http.Request, _ *[]byte, o *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			o.Now = fixedNow(testCreated.Add(301 * time.Second))
		}, CauseExpired},
		{"future Date", func(_ *testing.T, _ *http.Request, _ *[]byte, o *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			o.Now = fixedNow(testCreated.Add(-301 * time.Second))
		}, CauseFuture},
		{"Date tampered", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Date", testCreated.Add(time.Second).UTC().Format(http.TimeFormat))
		}, CauseBadSignature},
		{"Date unparsable", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Date", "yesterday")
		}, CauseMalformed},
		{"two Date headers", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Add("Date", r.Header.Get("Date"))
		}, CauseMalformed},
		{"Date missing", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Del("Date")
		}, CauseMissingComponent},
		{"digest not covered", func(t *testing.T, r *http.Request, b *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			resignCavage(t, r, *b, []string{"(request-target)", "host", "date"})
		}, CauseMissingComponent},
		{"request-target not covered", func(t *testing.T, r *http.Request, b *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			resignCavage(t, r, *b, []string{"host", "date", "digest"})
		}, CauseMissingComponent},
		{"headers parameter absent", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Signature", removeParam(r.Header.Get("Signature"), "headers"))
		}, CauseMissingComponent},
		{"path tampered", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.URL.Path = "/outbox"
		}, CauseBadSignature},
		{"host tampered", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Host = "evil.example"
		}, CauseBadSignature},
		{"unknown keyId", func(_ *testing.T, _ *http.Request, _ *[]byte, _ *VerifyOptions, k map[string][]ed25519.PublicKey) {
			delete(k, keyID)
		}, CauseUnknownKey},
		{"wrong key", func(_ *testing.T, _ *http.Request, _ *[]byte, _ *VerifyOptions, k map[string][]ed25519.PublicKey) {
			k[keyID] = []ed25519.PublicKey{otherPub, {9}}
		}, CauseBadSignature},
		{"keyId missing", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Signature", removeParam(r.Header.Get("Signature"), "keyId"))
		}, CauseMalformed},
		{"signature not base64", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Signature", removeParam(r.Header.Get("Signature"), "signature")+`,signature="%%%"`)
		}, CauseMalformed},
		{"rsa algorithm", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "hs2019", "rsa-sha256", 1))
		}, CauseMalformed},
		{"repeated headers parameter", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Signature", r.Header.Get("Signature")+`,headers="date"`)
		}, CauseMalformed},
		{"two Signature headers", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Add("Signature", r.Header.Get("Signature"))
		}, CauseMultipleSignatures},
		{"not signed", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Del("Signature")
		}, CauseMissingSignature},
		{"expires param in the past", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Signature", r.Header.Get("Signature")+`,expires="1000"`)
		}, CauseExpired},
		{"Authorization signature ignored", func(_ *testing.T, r *http.Request, _ *[]byte, _ *VerifyOptions, _ map[string][]ed25519.PublicKey) {
			r.Header.Set("Authorization", `Signature keyId="x",signature="AAAA"`)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cavageRequest(t, body, testCreated)
			b, opts := body, VerifyOptions{Now: fixedNow(testCreated.Add(5 * time.Second))}
			k := map[string][]ed25519.PublicKey{}
			for id, v := range keys {
				k[id] = v
			}
			if tt.mutate != nil {
				tt.mutate(t, r, &b, &opts, k)
			}
			_, err := VerifyCavageRequest(r, b, lookupOf(k), opts)
			wantCause(t, err, tt.cause)
		})
	}
}

// resignCavage re-signs r with go-fed over another header list.
func resignCavage(t *testing.T, r *http.Request, body []byte, headers []string) {
	t.Helper()
	signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.ED25519}, httpsig.DigestSha256, headers, httpsig.Signature, 0)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Del("Signature")
	r.Header.Del("Digest")
	r.Header.Set("Host", r.Host)
	defer r.Header.Del("Host")
	if err := signer.SignRequest(testPriv, "https://social.example/actor#main-key", r, body); err != nil {
		t.Fatal(err)
	}
}

func removeParam(sig, name string) string {
	var keep []string
	for _, p := range strings.Split(sig, ",") {
		if !strings.HasPrefix(p, name+"=") {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ",")
}

func TestIsCavage(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    map[string]string
		want bool
	}{
		{"cavage", map[string]string{"Signature": `keyId="a",signature="b"`}, true},
		{"rfc9421", map[string]string{"Signature": "sig1=:AAAA:", "Signature-Input": `sig1=();created=1`}, false},
		{"rfc9421 with keyId text", map[string]string{"Signature": `keyId="a"`, "Signature-Input": `sig1=();created=1`}, false},
		{"unsigned", nil, false},
		{"signature without keyId", map[string]string{"Signature": "sig1=:AAAA:"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range tt.h {
				r.Header.Set(k, v)
			}
			if got := IsCavage(r); got != tt.want {
				t.Fatalf("IsCavage = %v", got)
			}
		})
	}
}

func TestSignCavageRequestErrors(t *testing.T) {
	r, _ := http.NewRequest("GET", "https://fasp.example/", nil)
	if err := SignCavageRequest(r, nil, "k", testPriv[:3], testCreated); err == nil {
		t.Error("short key accepted")
	}
	if err := SignCavageRequest(&http.Request{}, nil, "k", testPriv, testCreated); err == nil {
		t.Error("request without URL accepted")
	}
	// A GET with no body still gets a Digest of the empty body.
	if err := SignCavageRequest(r, nil, "k", testPriv, testCreated); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("Digest"); got != "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" {
		t.Fatalf("Digest %q", got)
	}
	if got := r.Header.Get("Date"); got != "Sat, 21 Nov 2026 20:32:29 GMT" {
		t.Fatalf("Date %q", got)
	}
	// Signing twice replaces the signature instead of failing on Digest.
	if err := SignCavageRequest(r, nil, "k", testPriv, testCreated); err != nil {
		t.Fatal(err)
	}
}

// signResponseGeneric is SignResponse built from the generic parts, as it
// was before its constant parts were written directly.
func signResponseGeneric(h http.Header, status int, body []byte, priv ed25519.PrivateKey, created time.Time) {
	line, err := paramsLine(responseComponents, created, "", false)
	if err != nil {
		panic(err)
	}
	h.Set("Content-Digest", ContentDigest(body))
	in := &sigInput{label: Label, components: responseComponents, paramsLine: line}
	base, err := buildBase(&message{response: true, status: status, header: h}, in)
	if err != nil {
		panic(err)
	}
	setSignature(h, line, ed25519.Sign(priv, base))
}

func TestSignResponseMatchesGenericPath(t *testing.T) {
	for _, status := range []int{200, 201, 204, 301, 399} {
		for _, created := range []time.Time{testCreated, time.Unix(0, 0), time.Unix(1, 999), time.Unix(99999999999, 0), time.Unix(-5, 0)} {
			for _, body := range [][]byte{nil, []byte(`{"checkId":"x"}`)} {
				got, want := http.Header{"Content-Digest": {"stale", "values"}}, http.Header{"Content-Digest": {"stale", "values"}}
				SignResponse(got, status, body, testPriv, created)
				signResponseGeneric(want, status, body, testPriv, created)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("status %d created %d: headers\n%v, want\n%v", status, created.Unix(), got, want)
				}
			}
		}
	}
}
