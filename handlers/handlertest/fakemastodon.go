// Package handlertest builds Breakwater end to end for tests: a complete app
// on a real database behind a real listener, and a fake fediverse server that
// behaves on the wire the way Mastodon 4.4+ does (mastodon-interop.md), so
// that tests exercise real HTTP round trips, signatures included.
package handlertest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// Mastodon is a fake fediverse server following Mastodon's FASP behaviour:
// no faspBaseUrl in nodeinfo (base is /api/fasp), unsigned registration
// answered 200 with a signed body (no keyid), signed requests to the provider
// with keyid = the provider's serverId, and responses checked the way
// Mastodon's Fasp::Request#validate! checks them.
type Mastodon struct {
	t      testing.TB
	Server *httptest.Server

	mu sync.Mutex
	// registration state, as Mastodon's fasp_providers row holds it
	providers []*FaspProvider
	callbacks [][]byte
	callbackC chan []byte
	// Software is what nodeinfo reports (default "mastodon").
	Software string
	// FaspBaseURL, when set, is published in nodeinfo metadata.
	FaspBaseURL string
}

// FaspProvider is one registration request Mastodon stored.
type FaspProvider struct {
	ID                  int
	Name                string
	BaseURL             string
	ServerID            string // keyid Mastodon uses towards the provider
	ProviderPublicKey   ed25519.PublicKey
	ServerPrivateKey    ed25519.PrivateKey
	Confirmed           bool
	registrationCreated time.Time
}

// NewMastodon starts the fake on loopback.
func NewMastodon(t testing.TB) *Mastodon {
	m := &Mastodon{t: t, Software: "mastodon", callbackC: make(chan []byte, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/nodeinfo", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"links": []map[string]string{
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": m.Server.URL + "/nodeinfo/2.0"},
		}})
	})
	mux.HandleFunc("GET /nodeinfo/2.0", func(w http.ResponseWriter, r *http.Request) {
		meta := map[string]any{"nodeName": "Fake", "nodeDescription": ""}
		if m.FaspBaseURL != "" {
			meta["faspBaseUrl"] = m.FaspBaseURL
		}
		writeJSON(w, 200, map[string]any{"version": "2.0", "software": map[string]string{"name": m.Software, "version": "4.5.7"},
			"protocols": []string{"activitypub"}, "openRegistrations": true, "metadata": meta})
	})
	mux.HandleFunc("POST /api/fasp/registration", m.registration)
	mux.HandleFunc("POST /api/fasp/debug/v0/callback/responses", m.callbackResponses)
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Server.Close)
	return m
}

var sha256Re = regexp.MustCompile(`sha-256=:(.*?):`)

func (m *Mastodon) registration(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name, BaseURL, ServerID, PublicKey string
	}
	body, _ := io.ReadAll(r.Body)
	var raw map[string]string
	if err := json.Unmarshal(body, &raw); err != nil {
		w.WriteHeader(422)
		return
	}
	in.Name, in.BaseURL, in.ServerID, in.PublicKey = raw["name"], raw["baseUrl"], raw["serverId"], raw["publicKey"]
	pub, err := base64.StdEncoding.Strict().DecodeString(in.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize || in.BaseURL == "" || in.ServerID == "" {
		w.WriteHeader(422)
		return
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	m.mu.Lock()
	p := &FaspProvider{ID: len(m.providers) + 42, Name: in.Name, BaseURL: in.BaseURL, ServerID: in.ServerID,
		ProviderPublicKey: pub, ServerPrivateKey: priv, registrationCreated: time.Now()}
	m.providers = append(m.providers, p)
	m.mu.Unlock()
	out, _ := json.Marshal(map[string]string{
		"faspId":                    strconv.Itoa(p.ID),
		"publicKey":                 base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)),
		"registrationCompletionUri": fmt.Sprintf("%s/admin/fasp/providers/%d/registration/new", m.Server.URL, p.ID),
	})
	w.Header().Set("Content-Type", "application/json")
	msgsig.SignResponse(w.Header(), 200, out, priv, time.Now())
	w.WriteHeader(200) // Mastodon answers 200, not the spec's 201
	_, _ = w.Write(out)
}

// callbackResponses is Mastodon's Api::Fasp::Debug::V0::Callback::ResponsesController:
// authenticate (digest, signature ≤ 300 s old, keyid = faspId of a confirmed
// provider), log the body, answer 201 signed.
func (m *Mastodon) callbackResponses(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p, ok := m.authenticate(r, body)
	if !ok {
		w.WriteHeader(401)
		return
	}
	m.mu.Lock()
	m.callbacks = append(m.callbacks, body)
	m.mu.Unlock()
	select {
	case m.callbackC <- body:
	default:
	}
	msgsig.SignResponse(w.Header(), 201, nil, p.ServerPrivateKey, time.Now())
	w.WriteHeader(201)
}

func (m *Mastodon) authenticate(r *http.Request, body []byte) (*FaspProvider, bool) {
	cd := r.Header.Get("Content-Digest")
	match := sha256Re.FindStringSubmatch(cd)
	if match == nil || match[1] != base64.StdEncoding.EncodeToString(sha256Sum(body)) {
		return nil, false
	}
	var found *FaspProvider
	lookup := func(keyID string) ([]ed25519.PublicKey, error) {
		id, err := strconv.Atoi(keyID)
		if err != nil {
			return nil, msgsig.ErrUnknownKey
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, p := range m.providers {
			if p.ID == id && p.Confirmed {
				found = p
				return []ed25519.PublicKey{p.ProviderPublicKey}, nil
			}
		}
		return nil, msgsig.ErrUnknownKey
	}
	target := "http://" + r.Host + r.URL.RequestURI()
	if _, err := msgsig.VerifyRequest(r, target, body, lookup, msgsig.VerifyOptions{MaxAge: 5 * time.Minute, MaxSkew: 24 * time.Hour}); err != nil {
		m.t.Logf("fake mastodon: rejected request: %v", err)
		return nil, false
	}
	return found, true
}

// Providers returns the registration requests received so far.
func (m *Mastodon) Providers() []*FaspProvider {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*FaspProvider(nil), m.providers...)
}

// Confirm is the admin pressing "Confirm" on a registration request.
func (m *Mastodon) Confirm(p *FaspProvider) {
	m.mu.Lock()
	p.Confirmed = true
	m.mu.Unlock()
}

// WaitCallback waits for the provider's debug callback to arrive.
func (m *Mastodon) WaitCallback(t testing.TB, within time.Duration) []byte {
	t.Helper()
	select {
	case b := <-m.callbackC:
		return b
	case <-time.After(within):
		t.Fatalf("no debug callback within %s", within)
		return nil
	}
}

// Response is a provider answer as the fake saw it.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Call is Mastodon's Fasp::Request: it signs a request to the provider with
// keyid = serverId (empty body for GET/DELETE, content-type json always) and,
// for 2xx/3xx answers, validates the response exactly as Mastodon does:
// content-digest string-equal, signature-input present, one label, created
// ≤ 900 s old, signed by the provider key registered.
func (m *Mastodon) Call(t testing.TB, p *FaspProvider, method, path string, payload any) Response {
	t.Helper()
	var body []byte
	if payload != nil {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, p.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	if err := msgsig.SignRequest(req, body, p.ServerID, p.ServerPrivateKey, time.Now()); err != nil {
		t.Fatal(err)
	}
	return m.Do(t, p, req, body)
}

// Do sends an already-built request and validates the answer as Mastodon does.
func (m *Mastodon) Do(t testing.TB, p *FaspProvider, req *http.Request, body []byte) Response {
	t.Helper()
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 400 {
		if got, want := resp.Header.Get("Content-Digest"), msgsig.ContentDigest(rb); got != want {
			t.Fatalf("%s %s: content-digest %q, Mastodon wants exactly %q", req.Method, req.URL.Path, got, want)
		}
		if len(resp.Header.Values("Signature-Input")) != 1 {
			t.Fatalf("%s %s: %d Signature-Input headers, Mastodon wants exactly one", req.Method, req.URL.Path, len(resp.Header.Values("Signature-Input")))
		}
		if err := msgsig.VerifyResponse(resp.StatusCode, resp.Header, rb, p.ProviderPublicKey, time.Now(), 900*time.Second); err != nil {
			t.Fatalf("%s %s: Mastodon would reject the response signature: %v", req.Method, req.URL.Path, err)
		}
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: rb}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
