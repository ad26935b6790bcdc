package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// fakeBreakwater verifies each request as Breakwater does and answers with
// the scripted responses in turn (the last one repeats).
type fakeBreakwater struct {
	srv      *httptest.Server
	serverID string
	server   ed25519.PrivateKey // the fediverse server's key
	provider ed25519.PrivateKey // Breakwater's key for that server
	requests atomic.Int32
}

type answer struct {
	status     int
	body       string
	retryAfter string
	delay      time.Duration
	signWith   ed25519.PrivateKey // nil: the provider key; answers ≥ 400 are unsigned
}

func newFake(t *testing.T, answers ...answer) *fakeBreakwater {
	t.Helper()
	_, serverKey, _ := ed25519.GenerateKey(rand.Reader)
	_, providerKey, _ := ed25519.GenerateKey(rand.Reader)
	f := &fakeBreakwater{serverID: "01jtestserver", server: serverKey, provider: providerKey}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(f.requests.Add(1)) - 1
		a := answers[min(n, len(answers)-1)]
		body, _ := io.ReadAll(r.Body)
		lookup := func(keyID string) ([]ed25519.PublicKey, error) {
			if keyID != f.serverID {
				return nil, msgsig.ErrUnknownKey
			}
			return []ed25519.PublicKey{f.server.Public().(ed25519.PublicKey)}, nil
		}
		if _, err := msgsig.VerifyRequest(r, f.srv.URL+r.URL.RequestURI(), body, lookup, msgsig.VerifyOptions{}); err != nil {
			t.Errorf("the request signature does not verify: %v", err)
			w.WriteHeader(401)
			return
		}
		if a.delay > 0 {
			time.Sleep(a.delay)
		}
		w.Header().Set("Content-Type", "application/json")
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		if a.status < 400 {
			key := a.signWith
			if key == nil {
				key = f.provider
			}
			msgsig.SignResponse(w.Header(), a.status, []byte(a.body), key, time.Now())
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBreakwater) client(t *testing.T, mode FailMode) *Client {
	t.Helper()
	c, err := New(Options{BaseURL: f.srv.URL, ServerID: f.serverID, PrivateKey: f.server,
		ProviderKey: f.provider.Public().(ed25519.PublicKey), FailMode: mode, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const allowBody = `{"checkId":"01jcheck","decision":"allow","score":3,"reasons":[]}`
const rejectBody = `{"checkId":"01jcheck","decision":"reject","score":95,"reasons":[{"code":"campaign","message":"Part of a wave.","weight":60}],"campaignId":"01jcamp"}`

func TestCheckOutcomes(t *testing.T) {
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name     string
		mode     FailMode
		answers  []answer
		decision string
		fallback bool
		requests int32
		apiCode  int
	}{
		{"allow", FailOpen, []answer{{status: 200, body: allowBody}}, Allow, false, 1, 0},
		{"reject with campaign", FailOpen, []answer{{status: 200, body: rejectBody}}, Reject, false, 1, 0},
		{"503 then decision: one repeat after Retry-After", FailOpen,
			[]answer{{status: 503, body: `{"error":"unavailable","message":"retry"}`, retryAfter: "0"}, {status: 200, body: rejectBody}}, Reject, false, 2, 0},
		{"429 then decision", FailClosed,
			[]answer{{status: 429, body: `{"error":"rate_limited","message":"slow down"}`, retryAfter: "0"}, {status: 200, body: allowBody}}, Allow, false, 2, 0},
		{"503 twice: fail open", FailOpen, []answer{{status: 503, retryAfter: "0", body: `{"error":"unavailable"}`}}, Allow, true, 2, 503},
		{"503 twice: fail closed holds for review", FailClosed, []answer{{status: 503, retryAfter: "0", body: `{"error":"unavailable"}`}}, Review, true, 2, 503},
		{"Retry-After too long: no repeat", FailClosed, []answer{{status: 429, retryAfter: "600", body: `{"error":"rate_limited"}`}}, Review, true, 1, 429},
		{"500: no repeat", FailClosed, []answer{{status: 500, body: `{"error":"internal"}`}}, Review, true, 1, 500},
		{"422 is an integration bug: allow even when closed", FailClosed,
			[]answer{{status: 422, body: `{"error":"invalid_field","message":"account.email: bad","field":"account.email"}`}}, Allow, true, 1, 422},
		{"timeout: never repeated", FailClosed, []answer{{status: 200, body: allowBody, delay: 600 * time.Millisecond}}, Review, true, 1, 0},
		{"answer signed by another key", FailClosed, []answer{{status: 200, body: rejectBody, signWith: stranger}}, Review, true, 1, 0},
		{"answer without a decision", FailOpen, []answer{{status: 200, body: `{"checkId":"x","decision":"maybe"}`}}, Allow, true, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.answers...)
			res, err := f.client(t, tc.mode).CheckSignup(context.Background(), SignupCheck{
				Account: SignupAccount{Username: "maren", Email: "maren@mail.example"}, IP: "198.51.100.23"})
			if res == nil {
				t.Fatal("nil result")
			}
			if res.Decision != tc.decision || res.Fallback != tc.fallback {
				t.Errorf("decision %s fallback %v (err %v), want %s %v", res.Decision, res.Fallback, err, tc.decision, tc.fallback)
			}
			if got := f.requests.Load(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if tc.fallback != errors.Is(err, ErrNoDecision) {
				t.Errorf("err = %v, ErrNoDecision expected %v", err, tc.fallback)
			}
			var ae *APIError
			if tc.apiCode != 0 && (!errors.As(err, &ae) || ae.Status != tc.apiCode) {
				t.Errorf("err = %v, want APIError %d", err, tc.apiCode)
			}
			if !tc.fallback && res.CheckID == "" {
				t.Error("decided result without check id")
			}
		})
	}
}

func TestConnectionRefusedIsRepeatedThenFallsBack(t *testing.T) {
	f := newFake(t, answer{status: 200, body: allowBody})
	c := f.client(t, FailClosed)
	f.srv.Close()
	start := time.Now()
	res, err := c.CheckContent(context.Background(), ContentCheck{Post: Post{Text: "hi", Visibility: "public"},
		Author: Author{Acct: "maren", CreatedAt: time.Now(), Local: true}})
	if !errors.Is(err, ErrNoDecision) || res.Decision != Review || !res.Fallback {
		t.Fatalf("res %+v err %v", res, err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestContentMentionsAlwaysSent(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		w.WriteHeader(200)
		_, _ = io.WriteString(w, allowBody)
	}))
	defer srv.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	c, _ := New(Options{BaseURL: srv.URL, ServerID: "s", PrivateKey: key})
	if _, err := c.CheckContent(context.Background(), ContentCheck{Post: Post{Text: "x", Visibility: "public"},
		Author: Author{Acct: "a", CreatedAt: time.Now(), Local: true}}); err != nil {
		t.Fatal(err)
	}
	if m, ok := got["post"].(map[string]any)["mentions"].([]any); !ok || len(m) != 0 {
		t.Errorf("mentions %v, the schema requires an array", got["post"])
	}
}

// TestTypesMatchSpecExamples decodes every valid request of the
// specification's examples into this package's types, refusing unknown
// members, and checks that encoding gives the same JSON back.
func TestTypesMatchSpecExamples(t *testing.T) {
	files, err := filepath.Glob("../spec/spam_detection/v0.1/examples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	n := 0
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "invalid-") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ex struct {
			Request struct {
				Path string          `json:"path"`
				Body json.RawMessage `json:"body"`
			} `json:"request"`
		}
		if err := json.Unmarshal(raw, &ex); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var v any
		switch ex.Request.Path {
		case SignupPath:
			v = &SignupCheck{}
		case ContentPath:
			v = &ContentCheck{}
		default:
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(ex.Request.Body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		again, _ := json.Marshal(v)
		var a, b any
		_ = json.Unmarshal(ex.Request.Body, &a)
		_ = json.Unmarshal(again, &b)
		if !reflect.DeepEqual(dropZero(a), dropZero(b)) {
			t.Errorf("%s: round trip changed the body:\n%s\n%s", filepath.Base(f), ex.Request.Body, again)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d request examples checked", n)
	}
}

// dropZero removes members whose value is "", false or 0: omitempty leaves
// them out, and the specification gives them the same meaning as absent.
func dropZero(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e == "" || e == false || e == 0.0 {
				continue
			}
			out[k] = dropZero(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dropZero(e)
		}
		return out
	}
	return v
}

func TestParseKeys(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	pubDER, _ := x509.MarshalPKIXPublicKey(pub)
	tests := []struct {
		name string
		data string
		ok   bool
	}{
		{"PKCS #8 PEM (openssl, Mastodon)", string(pemKey), true},
		{"seed, standard base64", base64.StdEncoding.EncodeToString(priv.Seed()), true},
		{"seed, url base64 without padding", base64.RawURLEncoding.EncodeToString(priv.Seed()) + "\n", true},
		{"64-byte key", base64.StdEncoding.EncodeToString(priv), true},
		{"64-byte key with a wrong public half", base64.StdEncoding.EncodeToString(append(priv.Seed(), make([]byte, 32)...)), false},
		{"public key PEM", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), false},
		{"16 bytes", base64.StdEncoding.EncodeToString(make([]byte, 16)), false},
		{"garbage", "not a key at all!", false},
	}
	for _, tc := range tests {
		got, err := ParsePrivateKey([]byte(tc.data))
		if tc.ok != (err == nil) {
			t.Errorf("%s: err %v", tc.name, err)
			continue
		}
		if tc.ok && !got.Equal(priv) {
			t.Errorf("%s: a different key", tc.name)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "server.key")
	if err := os.WriteFile(path, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := LoadPrivateKey(path); err != nil || !k.Equal(priv) {
		t.Errorf("LoadPrivateKey: %v", err)
	}
	if p, err := ParsePublicKey(base64.StdEncoding.EncodeToString(pub)); err != nil || !p.Equal(pub) {
		t.Errorf("ParsePublicKey base64: %v", err)
	}
	if p, err := ParsePublicKey(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))); err != nil || !p.Equal(pub) {
		t.Errorf("ParsePublicKey PEM: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	for _, o := range []Options{
		{BaseURL: "breakwater.example", ServerID: "s", PrivateKey: key},
		{BaseURL: "https://breakwater.example", PrivateKey: key},
		{BaseURL: "https://breakwater.example", ServerID: "s"},
		{BaseURL: "https://breakwater.example", ServerID: "s", PrivateKey: key, ProviderKey: []byte{1}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("accepted %+v", o)
		}
	}
}
