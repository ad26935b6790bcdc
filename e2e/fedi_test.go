package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// fediverse is a fake fediverse server that speaks FASP the way Mastodon
// does (nodeinfo without faspBaseUrl, registration answered 200 and signed,
// the debug callback endpoint), on its own loopback address so that it has
// its own domain. Any of its endpoints can be made to hang, to play the
// slow server.
type fediverse struct {
	URL    string
	Domain string
	srv    *http.Server

	// Hang* make the endpoint accept the request and never answer (until
	// the test ends).
	HangNodeinfo, HangRegistration, HangCallback, HangAlerts atomic.Bool
	release                                                  chan struct{}
	// alerts receives the alert webhook deliveries (POST /alerts);
	// alertsHanging counts those being held.
	alerts        chan []byte
	alertsHanging atomic.Int64

	mu        sync.Mutex
	regs      map[string]*fedServer // by serverId
	byFaspID  map[string]*fedServer
	callbacks chan []byte
	hanging   atomic.Int64
	// requests counts every request the fake received.
	requests atomic.Int64
}

// newFediverse starts a fake on ip (127.0.0.x).
func newFediverse(t testing.TB, ip string) *fediverse {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listen for fake server: %v", err)
	}
	f := &fediverse{URL: "http://" + ln.Addr().String(), Domain: ip, release: make(chan struct{}),
		regs: map[string]*fedServer{}, byFaspID: map[string]*fedServer{}, callbacks: make(chan []byte, 64), alerts: make(chan []byte, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/nodeinfo", func(w http.ResponseWriter, r *http.Request) {
		if f.HangNodeinfo.Load() {
			f.hang(r)
			return
		}
		writeJSON(w, 200, map[string]any{"links": []map[string]string{
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": f.URL + "/nodeinfo/2.0"}}})
	})
	mux.HandleFunc("GET /nodeinfo/2.0", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"version": "2.0", "software": map[string]string{"name": "mastodon", "version": "4.5.7"},
			"protocols": []string{"activitypub"}, "openRegistrations": true, "metadata": map[string]any{}})
	})
	mux.HandleFunc("POST /api/fasp/registration", f.registration)
	mux.HandleFunc("POST /api/fasp/debug/v0/callback/responses", f.callback)
	mux.HandleFunc("POST /alerts", func(w http.ResponseWriter, r *http.Request) {
		if f.HangAlerts.Load() {
			f.alertsHanging.Add(1)
			defer f.alertsHanging.Add(-1)
			f.hang(r)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		select {
		case f.alerts <- body:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	f.srv = &http.Server{Handler: counting(&f.requests, mux), ReadHeaderTimeout: 5 * time.Second}
	go f.srv.Serve(ln) //nolint:errcheck // ends at Close
	t.Cleanup(func() {
		close(f.release)
		_ = f.srv.Close()
	})
	return f
}

// hang holds a request open until the client gives up or the test ends.
func (f *fediverse) hang(r *http.Request) {
	f.hanging.Add(1)
	defer f.hanging.Add(-1)
	select {
	case <-r.Context().Done():
	case <-f.release:
	}
}

func (f *fediverse) registration(w http.ResponseWriter, r *http.Request) {
	if f.HangRegistration.Load() {
		f.hang(r)
		return
	}
	var in struct {
		ServerID  string `json:"serverId"`
		PublicKey string `json:"publicKey"`
		BaseURL   string `json:"baseUrl"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return
	}
	pub, err := base64.StdEncoding.DecodeString(in.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize || in.ServerID == "" {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return
	}
	spub, spriv, _ := ed25519.GenerateKey(rand.Reader)
	f.mu.Lock()
	s := &fedServer{ID: in.ServerID, Domain: f.Domain, FaspID: strconv.Itoa(len(f.regs) + 7), priv: spriv,
		providerPub: pub, public: in.BaseURL}
	f.regs[s.ID], f.byFaspID[s.FaspID] = s, s
	f.mu.Unlock()
	body, _ := json.Marshal(map[string]string{"faspId": s.FaspID, "publicKey": base64.StdEncoding.EncodeToString(spub),
		"registrationCompletionUri": f.URL + "/admin/fasp/providers/" + s.FaspID + "/registration/new"})
	w.Header().Set("Content-Type", "application/json")
	msgsig.SignResponse(w.Header(), 200, body, spriv, time.Now())
	w.WriteHeader(200)
	_, _ = w.Write(body)
}

var keyIDRe = regexp.MustCompile(`keyid="([^"]+)"`)

func (f *fediverse) callback(w http.ResponseWriter, r *http.Request) {
	if f.HangCallback.Load() {
		f.hang(r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	m := keyIDRe.FindStringSubmatch(r.Header.Get("Signature-Input"))
	f.mu.Lock()
	var s *fedServer
	if m != nil {
		s = f.byFaspID[m[1]]
	}
	f.mu.Unlock()
	if s == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	select {
	case f.callbacks <- body:
	default:
	}
	msgsig.SignResponse(w.Header(), 201, nil, s.priv, time.Now())
	w.WriteHeader(201)
}

// server returns the registration stored for serverID.
func (f *fediverse) server(t testing.TB, serverID string) *fedServer {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.regs[serverID]
	if s == nil {
		t.Fatalf("fake %s has no registration for %s", f.Domain, serverID)
	}
	return s
}

// register registers the fake with Breakwater through the operator command
// (the normal path), then activates caps with signed calls to `to`.
func register(t testing.TB, e env, f *fediverse, to string, caps ...string) *fedServer {
	t.Helper()
	out := cli(t, e, "servers", "register", f.URL, "--json")
	var reg struct {
		ServerID string `json:"serverId"`
	}
	if err := json.Unmarshal([]byte(out), &reg); err != nil || reg.ServerID == "" {
		t.Fatalf("servers register printed %q: %v", out, err)
	}
	s := f.server(t, reg.ServerID)
	for _, c := range caps {
		a, err := s.call(context.Background(), to, http.MethodPost, "/capabilities/"+c+"/0/activation", nil)
		if err != nil || a.Status != http.StatusNoContent {
			t.Fatalf("activate %s: %v %+v", c, err, a)
		}
	}
	return s
}

// fedServer is a registered server as its own side knows it: its key
// pair, Breakwater's public key for it, and the public base URL it signs
// against.
type fedServer struct {
	ID, Domain, FaspID string
	priv               ed25519.PrivateKey
	providerPub        ed25519.PublicKey
	public             string
}

// signedRequest is a request signed once, which may be sent (or replayed)
// to any replica.
type signedRequest struct {
	method, path string
	body         []byte
	header       http.Header
}

// answer is Breakwater's response as the caller saw it.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
	Took   time.Duration
}

// JSON decodes the body as an object.
func (a *answer) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(a.Body, &m)
	return m
}

func (a *answer) String() string {
	if a == nil {
		return "<no answer>"
	}
	return fmt.Sprintf("%d %s", a.Status, bytes.TrimSpace(a.Body))
}

// sign builds a request signed against the public base URL.
func (s *fedServer) sign(method, path string, payload any) (*signedRequest, error) {
	var body []byte
	if payload != nil {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequest(method, s.public+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if err := msgsig.SignRequest(req, body, s.ID, s.priv, time.Now()); err != nil {
		return nil, err
	}
	return &signedRequest{method: method, path: path, body: body, header: req.Header}, nil
}

// apiClient keeps connections open for load; its timeout bounds any call.
var apiClient = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
	MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}}

// send delivers a signed request to the replica at base and checks the
// signature of a 2xx/3xx answer, as Mastodon does.
func (s *fedServer) send(ctx context.Context, base string, sr *signedRequest) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, sr.method, base+sr.path, bytes.NewReader(sr.body))
	if err != nil {
		return nil, err
	}
	req.Header = sr.header.Clone()
	start := time.Now()
	resp, err := apiClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	a := &answer{Status: resp.StatusCode, Header: resp.Header, Body: rb, Took: time.Since(start)}
	if err != nil {
		return a, err
	}
	if a.Status < 400 {
		if err := msgsig.VerifyResponse(a.Status, a.Header, rb, s.providerPub, time.Now(), 15*time.Minute); err != nil {
			return a, fmt.Errorf("answer %d not correctly signed: %w", a.Status, err)
		}
	}
	return a, nil
}

// call signs and sends one request.
func (s *fedServer) call(ctx context.Context, base, method, path string, payload any) (*answer, error) {
	sr, err := s.sign(method, path, payload)
	if err != nil {
		return nil, err
	}
	return s.send(ctx, base, sr)
}

var postSeq atomic.Int64

// post is a content check body: acct posts text.
func post(acct, text string) map[string]any {
	n := postSeq.Add(1)
	return map[string]any{
		"post": map[string]any{"id": fmt.Sprintf("%d%06d", time.Now().UnixMilli(), n), "text": "<p>" + text + "</p>",
			"language": "en", "visibility": "public", "mentions": []any{}},
		"author": map[string]any{"acct": acct, "local": true,
			"createdAt": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339), "followers": 0},
	}
}

// ordinaryPost is a post that trips nothing: words vary with n.
func ordinaryPost(n int) map[string]any {
	words := []string{"garden", "coffee", "train", "river", "museum", "bread", "sunset", "library", "chess", "soup", "bike", "tea"}
	text := ""
	for i := 0; i < 12; i++ {
		text += words[(n*7+i*i+i)%len(words)] + " "
	}
	p := post(fmt.Sprintf("user%d", n%500), text+strconv.Itoa(n))
	p["author"].(map[string]any)["createdAt"] = time.Now().Add(-400 * 24 * time.Hour).UTC().Format(time.RFC3339)
	p["author"].(map[string]any)["followers"] = 120
	return p
}

// signup is a sign-up check body.
func signup(user, email, ip string) map[string]any {
	secs := 45.0
	return map[string]any{"account": map[string]any{"username": user, "displayName": "Someone", "email": email, "locale": "en",
		"reason": "I would like to join to talk about gardens and bread."},
		"ip": ip, "userAgent": "Mozilla/5.0 (X11; Linux x86_64)", "client": map[string]any{"formSeconds": secs}}
}

// counting counts the requests h receives.
func counting(n *atomic.Int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
