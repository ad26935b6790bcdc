package handlers_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestRegistrationToDebugCallback is the full FASP round trip against a fake
// Mastodon: registration (unsigned, answered 200), confirmation,
// provider_info, activation with major version 0 and an empty body, and the
// debug callback, with every answer checked the way Mastodon checks it.
func TestRegistrationToDebugCallback(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app := handlertest.NewApp(t, tg, handlertest.Config{})
		m := handlertest.NewMastodon(t)
		reg, p := app.Register(t, m)

		if reg.BaseURL != m.Server.URL+"/api/fasp" {
			t.Errorf("base URL %q, want Mastodon's fallback %q", reg.BaseURL, m.Server.URL+"/api/fasp")
		}
		if got := provider.Fingerprint(p.ProviderPublicKey); got != reg.Fingerprint {
			t.Errorf("fingerprint shown %q, Mastodon computes %q", reg.Fingerprint, got)
		}
		if p.ServerID != reg.ServerID || p.BaseURL != app.URL {
			t.Errorf("Mastodon stored serverId %q baseUrl %q, want %q %q", p.ServerID, p.BaseURL, reg.ServerID, app.URL)
		}
		if !strings.HasSuffix(reg.CompletionURI, "/registration/new") {
			t.Errorf("completion URI %q", reg.CompletionURI)
		}

		// Confirm: Mastodon fetches provider_info, signed.
		r := m.Call(t, p, "GET", "/provider_info", nil)
		if r.Status != 200 {
			t.Fatalf("provider_info: %d %s", r.Status, r.Body)
		}
		var info map[string]any
		if err := json.Unmarshal(r.Body, &info); err != nil {
			t.Fatal(err)
		}
		caps, _ := info["capabilities"].([]any)
		ids := map[string]bool{}
		for _, c := range caps {
			obj := c.(map[string]any)
			if len(obj) != 2 {
				t.Errorf("capability %v has keys other than id and version: Mastodon would fail to render it", obj)
			}
			if _, ok := obj["version"].(string); !ok {
				t.Errorf("capability %v version is not a string", obj)
			}
			ids[obj["id"].(string)] = true
		}
		for _, want := range []string{"callback", "signup_screening", "content_screening"} {
			if !ids[want] {
				t.Errorf("provider_info lacks capability %s", want)
			}
		}
		if pp, _ := info["privacyPolicy"].([]any); len(pp) == 0 {
			t.Error("privacyPolicy is empty though Breakwater receives personal data")
		} else {
			u := pp[0].(map[string]any)["url"].(string)
			resp, err := http.Get(u)
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("privacy policy %s not served: %v", u, err)
			} else {
				resp.Body.Close()
			}
		}

		app.Activate(t, m, p, "callback")
		r = m.Call(t, p, "POST", "/debug/v0/callback/logs", map[string]string{"hello": "world"})
		if r.Status != 201 {
			t.Fatalf("debug logs: %d %s", r.Status, r.Body)
		}
		got := m.WaitCallback(t, 5*time.Second)
		if string(got) != `{"hello":"world"}` {
			t.Errorf("callback body %s, want the same object", got)
		}
		var calls []provider.DebugCall
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			calls, _ = app.Svc.DebugCalls(context.Background(), reg.ServerID, 10)
			if len(calls) == 1 && calls[0].CallbackStatus != 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(calls) != 1 || calls[0].CallbackStatus != 201 || calls[0].CallbackError != "" || calls[0].SourceIP == "" {
			t.Fatalf("debug call log %+v, want one call with callback status 201 and a source IP", calls)
		}

		// Disabling answers 204, signed.
		if r := m.Call(t, p, "DELETE", "/capabilities/callback/0/activation", nil); r.Status != 204 {
			t.Fatalf("deactivate: %d", r.Status)
		}
		if r := m.Call(t, p, "POST", "/debug/v0/callback/logs", nil); r.Status != 403 || !strings.Contains(string(r.Body), "capability_inactive") {
			t.Fatalf("debug call after deactivation: %d %s, want 403 capability_inactive", r.Status, r.Body)
		}
	})
}

func TestActivationUnknownCapability(t *testing.T) {
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	m := handlertest.NewMastodon(t)
	_, p := app.Register(t, m)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/capabilities/trends/0/activation", 404},
		{"POST", "/capabilities/callback/1/activation", 404},
		{"DELETE", "/capabilities/trends/0/activation", 204},
		{"POST", "/capabilities/signup_screening/0/activation", 204},
		{"POST", "/capabilities/signup_screening/0.1/activation", 204}, // full version accepted, idempotent
	} {
		if r := m.Call(t, p, tc.method, tc.path, nil); r.Status != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.want)
		}
	}
}

// signedRequest builds a request to the app signed like Mastodon, for tests
// that then tamper with it.
func signedRequest(t *testing.T, app *handlertest.App, p *handlertest.FaspProvider, method, path string, body []byte, created time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, app.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if err := msgsig.SignRequest(req, body, p.ServerID, p.ServerPrivateKey, created); err != nil {
		t.Fatal(err)
	}
	return req
}

func send(t *testing.T, req *http.Request, body []byte) (int, map[string]any, http.Header) {
	t.Helper()
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out, resp.Header
}

func TestSignatureRejections(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app := handlertest.NewApp(t, tg, handlertest.Config{})
		m := handlertest.NewMastodon(t)
		_, p := app.Register(t, m)
		app.Activate(t, m, p, "callback")
		body := []byte(`{"hello":"world"}`)
		path := "/debug/v0/callback/logs"
		_, otherKey, _ := ed25519.GenerateKey(nil)

		cases := []struct {
			name  string
			build func() (*http.Request, []byte)
			cause string
		}{
			{"body changed by one byte", func() (*http.Request, []byte) {
				return signedRequest(t, app, p, "POST", path, body, time.Now()), []byte(`{"hello":"World"}`)
			}, "bad_digest"},
			{"stale created", func() (*http.Request, []byte) {
				return signedRequest(t, app, p, "POST", path, body, time.Now().Add(-10*time.Minute)), body
			}, "expired"},
			{"created in the future", func() (*http.Request, []byte) {
				return signedRequest(t, app, p, "POST", path, body, time.Now().Add(10*time.Minute)), body
			}, "created_in_future"},
			{"unknown keyid", func() (*http.Request, []byte) {
				req, _ := http.NewRequest("POST", app.URL+path, nil)
				_ = msgsig.SignRequest(req, body, "01nosuchserver000000000000", p.ServerPrivateKey, time.Now())
				return req, body
			}, "unknown_keyid"},
			{"wrong key", func() (*http.Request, []byte) {
				req, _ := http.NewRequest("POST", app.URL+path, nil)
				_ = msgsig.SignRequest(req, body, p.ServerID, otherKey, time.Now())
				return req, body
			}, "bad_signature"},
			{"no signature", func() (*http.Request, []byte) {
				req, _ := http.NewRequest("POST", app.URL+path, nil)
				req.Header.Set("Content-Digest", msgsig.ContentDigest(body))
				return req, body
			}, "missing_signature"},
			{"no content-digest", func() (*http.Request, []byte) {
				req := signedRequest(t, app, p, "POST", path, body, time.Now())
				req.Header.Del("Content-Digest")
				return req, body
			}, "missing_digest"},
			{"path changed", func() (*http.Request, []byte) {
				req := signedRequest(t, app, p, "POST", path, body, time.Now())
				req.URL.Path = "/capabilities/callback/0/activation"
				return req, body
			}, "bad_signature"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, b := tc.build()
				status, out, _ := send(t, req, b)
				if status != 401 || out["error"] != tc.cause {
					t.Fatalf("got %d %v, want 401 %s", status, out, tc.cause)
				}
				if msg, _ := out["message"].(string); msg == "" {
					t.Error("401 without a message")
				}
			})
		}
		t.Run("replay", func(t *testing.T) {
			req := signedRequest(t, app, p, "POST", path, body, time.Now())
			replay := req.Clone(context.Background())
			if status, out, _ := send(t, req, body); status != 201 {
				t.Fatalf("first use: %d %v", status, out)
			}
			status, out, _ := send(t, replay, body)
			if status != 401 || out["error"] != "replayed" {
				t.Fatalf("replay: %d %v, want 401 replayed", status, out)
			}
		})
		metrics := get(t, app.URL+"/metrics")
		if !strings.Contains(metrics, `breakwater_signature_failures_total{cause="bad_digest"} 1`) {
			t.Error("signature failures are not counted by cause in /metrics")
		}
	})
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestCavageSignedRequest(t *testing.T) {
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	m := handlertest.NewMastodon(t)
	_, p := app.Register(t, m)
	app.Activate(t, m, p, "callback")
	body := []byte(`{"hello":"cavage"}`)
	req, _ := http.NewRequest("POST", app.URL+"/debug/v0/callback/logs", nil)
	req.Header.Set("Content-Type", "application/json")
	if err := msgsig.SignCavageRequest(req, body, p.ServerID, p.ServerPrivateKey, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp := m.Do(t, p, req, body) // the answer is signed RFC 9421 as for any caller
	if resp.Status != 201 {
		t.Fatalf("cavage-signed call: %d %s", resp.Status, resp.Body)
	}
	req2, _ := http.NewRequest("POST", app.URL+"/debug/v0/callback/logs", nil)
	_ = msgsig.SignCavageRequest(req2, body, p.ServerID, p.ServerPrivateKey, time.Now())
	if status, out, _ := send(t, req2, []byte(`{"hello":"tampered"}`)); status != 401 || out["error"] != "bad_digest" {
		t.Fatalf("tampered cavage body: %d %v", status, out)
	}
}

func TestSuspendedServerAndRateLimit(t *testing.T) {
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{Provider: func(o *provider.Options) {
		o.RatePerSecond, o.RateBurst = 1, 3
	}})
	m := handlertest.NewMastodon(t)
	reg, p := app.Register(t, m)
	var last handlertest.Response
	for i := 0; i < 5; i++ {
		// distinct query strings: identical requests in one second would
		// carry identical (deterministic Ed25519) signatures, i.e. replays
		last = m.Call(t, p, "GET", "/provider_info?n="+strconv.Itoa(i), nil)
	}
	if last.Status != 429 || last.Header.Get("Retry-After") == "" {
		t.Fatalf("burst past the limit: %d Retry-After=%q, want 429 with Retry-After", last.Status, last.Header.Get("Retry-After"))
	}
	if err := app.Svc.SuspendServer(context.Background(), reg.ServerID, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	r := m.Call(t, p, "POST", "/capabilities/callback/0/activation", nil)
	if r.Status != 403 || !strings.Contains(string(r.Body), `"suspended"`) {
		t.Fatalf("suspended server: %d %s", r.Status, r.Body)
	}
}

func TestKeyRotationGracePeriod(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app := handlertest.NewApp(t, tg, handlertest.Config{})
		m := handlertest.NewMastodon(t)
		reg, oldP := app.Register(t, m)
		rot, err := app.Svc.RotateKey(context.Background(), reg.ServerID)
		if err != nil {
			t.Fatal(err)
		}
		if rot.Fingerprint == reg.Fingerprint || rot.ServerID != reg.ServerID {
			t.Fatalf("rotation kept the key or changed the serverId: %+v", rot)
		}
		ps := m.Providers()
		newP := ps[len(ps)-1]
		m.Confirm(newP)
		for name, p := range map[string]*handlertest.FaspProvider{"old": oldP, "new": newP} {
			// Each answer is signed with the key pair the request matched,
			// so Mastodon verifies it with the provider key of that row.
			if r := m.Call(t, p, "GET", "/provider_info", nil); r.Status != 200 {
				t.Errorf("%s key during grace: %d", name, r.Status)
			}
		}
	})
}

func TestBadInput(t *testing.T) {
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	m := handlertest.NewMastodon(t)
	_, p := app.Register(t, m)
	app.Activate(t, m, p, "callback")
	big := bytes.Repeat([]byte("a"), 300<<10)
	req := signedRequest(t, app, p, "POST", "/debug/v0/callback/logs", big, time.Now())
	if status, out, _ := send(t, req, big); status != 413 || out["error"] != "too_large" {
		t.Errorf("oversized body: %d %v", status, out)
	}
	bad := []byte(`{"hello":`)
	req = signedRequest(t, app, p, "POST", "/debug/v0/callback/logs", bad, time.Now())
	if status, out, _ := send(t, req, bad); status != 422 || out["error"] != "invalid_field" {
		t.Errorf("malformed JSON to debug: %d %v", status, out)
	}
	for _, path := range []string{"/nope", "/spam_detection/v0/nope"} {
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !json.Valid(b) {
			t.Errorf("GET %s: %d %s, want a JSON 404", path, resp.StatusCode, b)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	for _, path := range []string{"/healthz", "/readyz"} {
		if body := get(t, app.URL+path); !strings.Contains(body, `"ok"`) {
			t.Errorf("%s: %s", path, body)
		}
	}
	metrics := get(t, app.URL+"/metrics")
	for _, name := range []string{"breakwater_http_requests_total", "breakwater_db_open_connections", "breakwater_shed_total",
		"breakwater_engine_series ", `breakwater_engine_index_entries{index="text"}`, "breakwater_engine_series_evictions_total",
		`breakwater_campaign_candidates{kind="text"}`} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	_ = app.DB.Close()
	resp, err := http.Get(app.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("readyz with the database closed: %d, want 503 with Retry-After", resp.StatusCode)
	}
}

func signRequest(req *http.Request, body []byte, p *handlertest.FaspProvider) error {
	req.Header.Set("Accept", "application/json")
	return msgsig.SignRequest(req, body, p.ServerID, p.ServerPrivateKey, time.Now())
}
