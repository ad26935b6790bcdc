package msgsig

import (
	"crypto/ed25519"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const faspInput = `("@method" "@target-uri" "content-digest");created=1795293149;keyid="srv-1"`

func TestContentDigest(t *testing.T) {
	tests := []struct {
		body []byte
		want string
	}{
		{nil, emptyDigest},
		{[]byte{}, emptyDigest},
		{[]byte(`{"hello": "world"}`), "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"},
	}
	for _, tt := range tests {
		if got := ContentDigest(tt.body); got != tt.want {
			t.Errorf("ContentDigest(%q) = %s, want %s", tt.body, got, tt.want)
		}
	}
}

func TestCheckContentDigest(t *testing.T) {
	body := []byte(`{"hello": "world"}`)
	tests := []struct {
		name, header string
		body         []byte
		cause        string
	}{
		{"exact", ContentDigest(body), body, ""},
		{"empty body", emptyDigest, nil, ""},
		{"other members ignored", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:, " + ContentDigest(body), body, ""},
		{"unknown member and spaces", "  md5=:AAAA:,sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:  ", body, ""},
		{"missing", "", body, CauseMissingDigest},
		{"blank", "   ", body, CauseMissingDigest},
		{"sha-512 only", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:", body, CauseMissingDigest},
		{"body changed", ContentDigest(body), []byte(`{"hello": "World"}`), CauseBadDigest},
		{"not a dictionary", "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", body, CauseBadDigest},
		{"bad base64", "sha-256=:%%%:", body, CauseBadDigest},
		{"token not bytes", "sha-256=abc", body, CauseBadDigest},
		{"inner list", "sha-256=(:AAAA:)", body, CauseBadDigest},
		{"truncated", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBA==:", body, CauseBadDigest},
		{"upper-case key is another member", "SHA-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", body, CauseBadDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCause(t, CheckContentDigest(tt.header, tt.body), tt.cause)
		})
	}
}

func TestVerifyRequestRejections(t *testing.T) {
	body := []byte(`{"account":{"id":"1"}}`)
	keys := map[string][]ed25519.PublicKey{testKeyID: {testPub}}
	at := func(d time.Duration) VerifyOptions { return VerifyOptions{Now: fixedNow(testCreated.Add(d))} }

	tests := []struct {
		name   string
		mutate func(t *testing.T, r *http.Request, body *[]byte, target *string, opts *VerifyOptions)
		cause  string
	}{
		{"valid", nil, ""},
		{"valid at max age", func(_ *testing.T, _ *http.Request, _ *[]byte, _ *string, o *VerifyOptions) {
			*o = at(300 * time.Second)
		}, ""},
		{"valid at max skew", func(_ *testing.T, _ *http.Request, _ *[]byte, _ *string, o *VerifyOptions) {
			*o = at(-300 * time.Second)
		}, ""},
		{"body changed by one byte", func(_ *testing.T, _ *http.Request, b *[]byte, _ *string, _ *VerifyOptions) {
			c := append([]byte(nil), *b...)
			c[len(c)-2] = ']'
			*b = c
		}, CauseBadDigest},
		{"digest header missing", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Del("Content-Digest")
		}, CauseMissingDigest},
		{"digest sha-512 only (signed)", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:")
			resign(t, r, testPriv, "sig1", faspInput)
		}, CauseMissingDigest},
		{"digest malformed (signed)", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Content-Digest", "sha-256=not-bytes")
			resign(t, r, testPriv, "sig1", faspInput)
		}, CauseBadDigest},
		{"digest of another body (signed)", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Content-Digest", ContentDigest([]byte("{}")))
			resign(t, r, testPriv, "sig1", faspInput)
		}, CauseBadDigest},
		{"stale created", func(_ *testing.T, _ *http.Request, _ *[]byte, _ *string, o *VerifyOptions) {
			*o = at(301 * time.Second)
		}, CauseExpired},
		{"stale with custom max age", func(_ *testing.T, _ *http.Request, _ *[]byte, _ *string, o *VerifyOptions) {
			*o = at(61 * time.Second)
			o.MaxAge = time.Minute
		}, CauseExpired},
		{"future created", func(_ *testing.T, _ *http.Request, _ *[]byte, _ *string, o *VerifyOptions) {
			*o = at(-301 * time.Second)
		}, CauseFuture},
		{"future with custom skew", func(_ *testing.T, _ *http.Request, _ *[]byte, _ *string, o *VerifyOptions) {
			*o = at(-11 * time.Second)
			o.MaxSkew = 10 * time.Second
		}, CauseFuture},
		{"unknown keyid", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			resign(t, r, testPriv, "sig1", `("@method" "@target-uri" "content-digest");created=1795293149;keyid="srv-2"`)
		}, CauseUnknownKey},
		{"missing keyid", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			resign(t, r, testPriv, "sig1", `("@method" "@target-uri" "content-digest");created=1795293149`)
		}, CauseMalformed},
		{"keyid not a string", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest");created=1795293149;keyid=srv`)
		}, CauseMalformed},
		{"missing created", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			resign(t, r, testPriv, "sig1", `("@method" "@target-uri" "content-digest");keyid="srv-1"`)
		}, CauseMalformed},
		{"created not an integer", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest");created=1795293149.5;keyid="srv-1"`)
		}, CauseMalformed},
		{"two labels", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Add("Signature-Input", `sig2=("@method");created=1795293149;keyid="srv-1"`)
			r.Header.Add("Signature", `sig2=:AAAA:`)
		}, CauseMultipleSignatures},
		{"two labels in one line", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", "sig1="+faspInput+", sig2="+faspInput)
		}, CauseMultipleSignatures},
		{"two signature values", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Add("Signature", `sig2=:AAAA:`)
		}, CauseMultipleSignatures},
		{"@target-uri not covered", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			resign(t, r, testPriv, "sig1", `("@method" "content-digest");created=1795293149;keyid="srv-1"`)
		}, CauseMissingComponent},
		{"content-digest not covered", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			resign(t, r, testPriv, "sig1", `("@method" "@target-uri");created=1795293149;keyid="srv-1"`)
		}, CauseMissingComponent},
		{"custom required component not covered", func(_ *testing.T, _ *http.Request, _ *[]byte, _ *string, o *VerifyOptions) {
			o.RequiredComponents = []string{"@method", "content-type"}
		}, CauseMissingComponent},
		{"covered header absent", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			resign(t, r, testPriv, "sig1", `("@method" "@target-uri" "content-digest" "content-type");created=1795293149;keyid="srv-1"`)
			r.Header.Del("Content-Type")
		}, CauseMissingComponent},
		{"tampered @target-uri", func(_ *testing.T, _ *http.Request, _ *[]byte, target *string, _ *VerifyOptions) {
			*target = strings.Replace(*target, "lang=en", "lang=de", 1)
		}, CauseBadSignature},
		{"tampered method", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Method = "PUT"
		}, CauseBadSignature},
		{"lower-case method", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Method = "post"
		}, CauseBadSignature},
		{"tampered created", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", "sig1="+strings.Replace(faspInput, "1795293149", "1795293150", 1))
		}, CauseBadSignature},
		{"tampered digest header value (same body)", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Content-Digest", "sha-512=:AAAA:, "+r.Header.Get("Content-Digest"))
		}, CauseBadSignature},
		{"expires in the past", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, o *VerifyOptions) {
			resign(t, r, testPriv, "sig1", `("@method" "@target-uri" "content-digest");created=1795293149;keyid="srv-1";expires=1795293159`)
			*o = at(11 * time.Second)
		}, CauseExpired},
		{"expires in the future", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, o *VerifyOptions) {
			resign(t, r, testPriv, "sig1", `("@method" "@target-uri" "content-digest");created=1795293149;keyid="srv-1";expires=1795293159`)
			*o = at(10 * time.Second)
		}, ""},
		{"wrong key", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			resign(t, r, otherPriv, "sig1", faspInput)
		}, CauseBadSignature},
		{"no signature at all", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Del("Signature-Input")
			r.Header.Del("Signature")
		}, CauseMissingSignature},
		{"signature header missing", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Del("Signature")
		}, CauseMissingSignature},
		{"signature-input missing", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Del("Signature-Input")
		}, CauseMissingSignature},
		{"label mismatch", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "sig1=", "sig2=", 1))
		}, CauseMalformed},
		{"signature not bytes", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature", `sig1="abc"`)
		}, CauseMalformed},
		{"signature truncated", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature", `sig1=:AAAA:`)
		}, CauseBadSignature},
		{"input not a list", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1="@method"`)
		}, CauseMalformed},
		{"input garbage", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=(("`)
		}, CauseMalformed},
		{"alg other than ed25519", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest");created=1795293149;keyid="srv-1";alg="rsa-pss-sha512"`)
		}, CauseMalformed},
		{"alg ed25519, nonce, tag and unknown params tolerated", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			resign(t, r, testPriv, "sig1", `("@method" "@target-uri" "content-digest");alg="ed25519";keyid="srv-1";nonce="n0";tag="fasp";x-custom=?1;created=1795293149`)
		}, ""},
		{"any label and spaces after semicolons", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			resign(t, r, testPriv, "sig-x", faspInput)
			r.Header.Set("Signature-Input", `sig-x=("@method" "@target-uri" "content-digest"); created=1795293149; keyid="srv-1"`)
		}, ""},
		{"component parameters unsupported", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest";sf);created=1795293149;keyid="srv-1"`)
		}, CauseMalformed},
		{"duplicate component", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest" "@method");created=1795293149;keyid="srv-1"`)
		}, CauseMalformed},
		{"upper-case header component", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "Content-Digest");created=1795293149;keyid="srv-1"`)
		}, CauseMalformed},
		{"@status in a request", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest" "@status");created=1795293149;keyid="srv-1"`)
		}, CauseMalformed},
		{"@signature-params covered", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest" "@signature-params");created=1795293149;keyid="srv-1"`)
		}, CauseMalformed},
		{"header value with bare newline", func(t *testing.T, r *http.Request, _ *[]byte, _ *string, _ *VerifyOptions) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest" "x-evil");created=1795293149;keyid="srv-1"`)
			r.Header.Set("X-Evil", "a\n\"@method\": GET")
		}, CauseMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signedRequest(t, http.MethodPost, body)
			b, target, opts := body, testTarget, at(30*time.Second)
			if tt.mutate != nil {
				tt.mutate(t, r, &b, &target, &opts)
			}
			v, err := VerifyRequest(r, target, b, lookupWrapped(keys), opts)
			wantCause(t, err, tt.cause)
			if err == nil && (v.KeyID != testKeyID || v.Scheme != SchemeRFC9421) {
				t.Fatalf("unexpected result %+v", v)
			}
		})
	}
}

func TestVerifyRequestResult(t *testing.T) {
	body := []byte(`{"a":1}`)
	r := signedRequest(t, http.MethodPost, body)
	v, err := VerifyRequest(r, testTarget, body, lookupOf(map[string][]ed25519.PublicKey{testKeyID: {testPub}}), VerifyOptions{Now: fixedNow(testCreated)})
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyID != testKeyID || v.Label != "sig1" || !v.Created.Equal(testCreated) || v.Scheme != SchemeRFC9421 || v.KeyIndex != 0 || len(v.Signature) != ed25519.SignatureSize {
		t.Fatalf("unexpected result %+v", v)
	}
	if len(v.ReplayKey) != 64 || v.ReplayKey != replayKey(testKeyID, v.Signature) {
		t.Fatalf("replay key %q", v.ReplayKey)
	}
	// Same request verified twice gives the same replay key; another
	// signature gives another.
	v2, _ := VerifyRequest(r, testTarget, body, lookupOf(map[string][]ed25519.PublicKey{testKeyID: {testPub}}), VerifyOptions{Now: fixedNow(testCreated)})
	if v2.ReplayKey != v.ReplayKey {
		t.Fatal("replay key is not stable")
	}
	if other := signedRequest(t, http.MethodPost, []byte(`{"a":2}`)); other.Header.Get("Signature") == r.Header.Get("Signature") {
		t.Fatal("different bodies produced the same signature")
	}
}

func TestVerifyRequestKeyRotation(t *testing.T) {
	body := []byte(`{}`)
	oldPriv, newPriv := testPriv, otherPriv
	lookup := lookupOf(map[string][]ed25519.PublicKey{
		testKeyID: {ed25519.PublicKey{1, 2, 3}, testPub, otherPub}, // a corrupt entry must not panic
	})
	for _, tt := range []struct {
		name  string
		priv  ed25519.PrivateKey
		index int
	}{
		{"old key", oldPriv, 1},
		{"new key", newPriv, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := signedRequest(t, http.MethodPost, body)
			resign(t, r, tt.priv, "sig1", faspInput)
			v, err := VerifyRequest(r, testTarget, body, lookup, VerifyOptions{Now: fixedNow(testCreated)})
			if err != nil {
				t.Fatal(err)
			}
			if v.KeyIndex != tt.index {
				t.Fatalf("KeyIndex = %d, want %d", v.KeyIndex, tt.index)
			}
		})
	}
}

func TestVerifyRequestLookupErrors(t *testing.T) {
	body := []byte(`{}`)
	boom := errors.New("database is down")
	tests := []struct {
		name   string
		lookup KeyLookup
		cause  string
		is     error
	}{
		{"plain ErrUnknownKey", func(string) ([]ed25519.PublicKey, error) { return nil, ErrUnknownKey }, CauseUnknownKey, nil},
		{"wrapped ErrUnknownKey", func(string) ([]ed25519.PublicKey, error) { return nil, &wrapErr{ErrUnknownKey} }, CauseUnknownKey, nil},
		{"no keys", func(string) ([]ed25519.PublicKey, error) { return nil, nil }, CauseUnknownKey, nil},
		{"internal error passes through", func(string) ([]ed25519.PublicKey, error) { return nil, boom }, "", boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signedRequest(t, http.MethodPost, body)
			_, err := VerifyRequest(r, testTarget, body, tt.lookup, VerifyOptions{Now: fixedNow(testCreated)})
			if tt.is != nil {
				if !errors.Is(err, tt.is) || CauseOf(err) != "" {
					t.Fatalf("want internal error wrapping %v, got %v", tt.is, err)
				}
				return
			}
			wantCause(t, err, tt.cause)
		})
	}
}

func TestCauseOf(t *testing.T) {
	if got := CauseOf(&wrapErr{fail(CauseExpired, "x")}); got != CauseExpired {
		t.Fatalf("CauseOf = %q", got)
	}
	if got := CauseOf(errors.New("x")); got != "" {
		t.Fatalf("CauseOf = %q", got)
	}
	if got := fail(CauseBadDigest, "n=%d", 1).Error(); got != "bad_digest: n=1" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestDerivedComponents(t *testing.T) {
	tests := []struct {
		name, host, target, component, want string
	}{
		{"authority lower-cased", "FASP.Example", "https://fasp.example/x", "@authority", "fasp.example"},
		{"authority keeps odd port", "fasp.example:8443", "https://fasp.example:8443/x", "@authority", "fasp.example:8443"},
		{"authority drops https default port", "fasp.example:443", "https://fasp.example/x", "@authority", "fasp.example"},
		{"authority drops http default port", "fasp.example:80", "http://fasp.example/x", "@authority", "fasp.example"},
		{"authority keeps 80 on https", "fasp.example:80", "https://fasp.example/x", "@authority", "fasp.example:80"},
		{"authority ipv6", "[::1]:3000", "http://[::1]:3000/x", "@authority", "[::1]:3000"},
		{"scheme", "h", "HTTPS://fasp.example/x", "@scheme", "https"},
		{"path", "h", "https://fasp.example/a%20b/c?q=1", "@path", "/a%20b/c"},
		{"empty path", "h", "https://fasp.example", "@path", "/"},
		{"query", "h", "https://fasp.example/x?param=Value&Pet=dog", "@query", "?param=Value&Pet=dog"},
		{"no query", "h", "https://fasp.example/x", "@query", "?"},
		{"request-target", "h", "https://fasp.example/x?q=a%20b", "@request-target", "/x?q=a%20b"},
		{"request-target without query", "h", "https://fasp.example/x", "@request-target", "/x"},
		{"target-uri verbatim", "h", "https://fasp.example/x?b=2&a=1", "@target-uri", "https://fasp.example/x?b=2&a=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &message{method: "GET", targetURI: tt.target, host: tt.host, header: http.Header{}}
			got, err := m.component(tt.component)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("%s = %q, want %q", tt.component, got, tt.want)
			}
		})
	}
}

func TestFieldValues(t *testing.T) {
	h := http.Header{}
	h["X-Multi"] = []string{" a ", "b\t", "c"}
	h["X-Fold"] = []string{"one  \r\n   two"}
	h["X-Bare-Cr"] = []string{"one\rtwo"}
	h["X-Empty"] = []string{""}
	m := &message{method: "GET", targetURI: "https://h/", host: "fasp.example", header: h}
	for _, tt := range []struct {
		name, want, cause string
	}{
		{"x-multi", "a, b, c", ""},
		{"x-fold", "one two", ""},
		{"x-empty", "", ""},
		{"host", "fasp.example", ""},
		{"x-bare-cr", "", CauseMalformed},
		{"x-absent", "", CauseMissingComponent},
	} {
		got, err := m.component(tt.name)
		wantCause(t, err, tt.cause)
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, got, tt.want)
		}
	}
}
