package handlers_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// The authorisation matrix. Every route the router has (read from
// e.Routes(), so a new route cannot escape) belongs to one class, and every
// class says what each kind of caller gets:
//
//	caller                       signed API   provider_info  webhook  /admin/*            /operator/*  public
//	unsigned                     401          200 (public)   401      303 /login          303 /login   <500
//	signed by an unknown key     401          401            401      303 /login          303 /login   <500
//	A's keyid, B's key           401          401            401      303 /login          303 /login   <500
//	suspended server             403 ¹        200 (public)   403 ²    303 /login          303 /login   <500
//	unauthenticated browser      401          200 (public)   401      303 /login          303 /login   <500
//	admin of another server (B)  401          200 (public)   401      404 for A's ids ³   404          <500
//	B signing for itself         404 for A's resources ⁴
//
// ¹ a suspended server may still erase data (DELETE /checks/:id) — here
// aimed at A's check, so 404; ² its own correctly signed delivery, sent to
// its own webhook URL; ³ pages without an id show only B's own data (A's
// ids, check and debug marker must not appear) and their forms change only
// B; ⁴ checks/:id and feedback about A's check. Nothing may answer 5xx, and
// after the whole matrix A's data is unchanged.

// routeClass names how a route is protected.
type routeClass string

const (
	classSigned   routeClass = "signed API"
	classOptional routeClass = "optionally signed (provider_info)"
	classWebhook  routeClass = "webhook (HMAC)"
	classAdmin    routeClass = "server admin pages"
	classOperator routeClass = "operator pages"
	classPublic   routeClass = "public"
)

// publicPaths are the routes anyone may call, by design. A new route must
// be added here deliberately, or it falls into no class and fails.
var publicPaths = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true, // operations; the proxy keeps /metrics private (docs/operations.md)
	"/feeds/servers.csv": true, // the public server feed
	"/static*":           true,
	"/":                  true, "/privacy": true, "/lang/:lang": true,
	"/register": true, "/register/requested": true, "/login": true, "/logout": true,
	"/password/forgot": true, "/password/reset": true,
}

func classify(path string) (routeClass, bool) {
	switch {
	case publicPaths[path]:
		return classPublic, true
	case path == "/provider_info":
		return classOptional, true
	case strings.HasPrefix(path, "/webhooks/"):
		return classWebhook, true
	case path == "/admin" || strings.HasPrefix(path, "/admin/"):
		return classAdmin, true
	case path == "/operator" || strings.HasPrefix(path, "/operator/"):
		return classOperator, true
	case strings.HasPrefix(path, "/capabilities/"), strings.HasPrefix(path, "/debug/v0/"), strings.HasPrefix(path, "/spam_detection/"):
		return classSigned, true
	}
	return "", false
}

// authzWorld is what the matrix runs against: server A (the target, with
// data), server B (another tenant, with a signed-in admin), server S
// (suspended), each connected to its own fake Mastodon.
type authzWorld struct {
	app              *uiApp
	a, b, s          *handlertest.FaspProvider
	checkA           string
	secretA, secretB string
	secretS          string
	adminB           *browser
	keysA            int
	policyA          string
	unknownID        string
	unknownKey       ed25519.PrivateKey
	markerA          string
	// signed counts signatures: each gets its own created time, because
	// Ed25519 signatures are deterministic and the same request signed in
	// the same second as set-up's would be a replay.
	signed int
}

func newAuthzWorld(t *testing.T, tg testdb.Target) *authzWorld {
	t.Helper()
	ctx := context.Background()
	w := &authzWorld{app: newUIApp(t, tg, uiOptions{}), markerA: "marker-only-for-a"}
	caps := []string{"signup_screening", "content_screening", "callback"}
	reg := func(email string) (*handlertest.MastodonAdmin, *browser, *handlertest.FaspProvider, string) {
		m := handlertest.NewMastodonAdmin(t)
		b, p := registerServer(t, w.app, m.Mastodon, email, caps...)
		m.AddToken("tok-"+p.ServerID, true, fullScopes...)
		secret := randomHex(20)
		if _, err := w.app.Svc.ConnectMastodon(ctx, p.ServerID, provider.MastodonConnectInput{
			APIURL: m.Server.URL, Token: "tok-" + p.ServerID, WebhookSecret: secret}); err != nil {
			t.Fatalf("connect mastodon: %v", err)
		}
		return m, b, p, secret
	}
	ma, _, a, secretA := reg("a@example.org")
	_, adminB, b, secretB := reg("b@example.org")
	_, _, s, secretS := reg("s@example.org")
	w.a, w.b, w.s, w.adminB, w.secretA, w.secretB, w.secretS = a, b, s, adminB, secretA, secretB, secretS
	w.checkA = screenSignup(t, ma.Mastodon, w.a, signupPayload("annaaaa", true))["checkId"].(string)
	if r := ma.Call(t, w.a, "POST", "/debug/v0/callback/logs", map[string]string{"marker": w.markerA}); r.Status != 201 {
		t.Fatalf("debug call: %d", r.Status)
	}
	if err := w.app.Svc.SuspendServer(ctx, w.s.ServerID, true); err != nil {
		t.Fatal(err)
	}
	_, w.unknownKey, _ = ed25519.GenerateKey(rand.Reader)
	w.unknownID = "06h0000000000000000unknown"
	srv, err := w.app.Svc.GetServer(ctx, w.a.ServerID)
	if err != nil {
		t.Fatal(err)
	}
	w.keysA = len(srv.Keys)
	pol, err := w.app.Svc.Policy(ctx, w.a.ServerID)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := json.Marshal(pol)
	w.policyA = string(pb)
	w.adminB.get("/admin").want(http.StatusOK) // a fresh form token
	return w
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// concrete fills a route's parameters with A's ids.
func (w *authzWorld) concrete(t *testing.T, path string) string {
	t.Helper()
	out := []string{}
	for _, seg := range strings.Split(path, "/") {
		switch {
		case seg == "static*":
			seg = "static/style.css"
		case !strings.HasPrefix(seg, ":"):
		case seg == ":version":
			seg = "0"
		case seg == ":lang":
			seg = "en"
		case seg == ":serverId":
			seg = w.a.ServerID
		case seg == ":id" && strings.HasPrefix(path, "/capabilities/"):
			seg = "signup_screening"
		case seg == ":id" && (strings.Contains(path, "/checks/")):
			seg = w.checkA
		case seg == ":id" && strings.HasPrefix(path, "/operator/servers/"):
			seg = w.a.ServerID
		case seg == ":id":
			seg = "01jzzzzzzzzzzzzzzzzzzzzzzz" // registrations, campaigns: any id; the role check comes first
		default:
			t.Fatalf("route %s has a parameter %s the matrix cannot fill: add it to authzWorld.concrete", path, seg)
		}
		out = append(out, seg)
	}
	return strings.Join(out, "/")
}

// body is a plausible request body for a signed POST route, so a refusal
// is never just a validation error.
func (w *authzWorld) body(path string) []byte {
	var v any = map[string]any{}
	switch {
	case strings.HasSuffix(path, "/signup_screening/checks"):
		v = signupPayload("mallory", false)
	case strings.HasSuffix(path, "/content_screening/checks"):
		v = map[string]any{"post": map[string]any{"text": "hello there", "visibility": "public", "mentions": []any{}},
			"author": map[string]any{"acct": "mallory", "local": true}}
	case strings.HasSuffix(path, "/feedback"):
		v = map[string]any{"checkId": w.checkA, "verdict": "ham"}
	case strings.HasSuffix(path, "/activation"):
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

// answer is one response of the matrix.
type answer struct {
	status   int
	location string
	body     string
}

var noRedirect = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func sendAuthz(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}
}

// signedRequest signs as keyID with priv, the way a fediverse server does.
func (w *authzWorld) signedRequest(t *testing.T, method, path string, body []byte, keyID string, priv ed25519.PrivateKey) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, w.app.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	w.signed++
	if err := msgsig.SignRequest(req, body, keyID, priv, time.Now().Add(-time.Duration(10+w.signed)*time.Second)); err != nil {
		t.Fatal(err)
	}
	return req
}

func plainRequest(t *testing.T, method, url string, body []byte, accept string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func hubSig(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// webhookBody is a sign-up event, new each time so no delivery is a
// duplicate of another.
func webhookBody() []byte {
	id := fmt.Sprintf("1100000%011d", time.Now().UnixNano()%1e11)
	return []byte(`{"event":"account.created","created_at":"2025-03-14T09:26:53.412Z","object":{"id":"` + id +
		`","username":"x` + id[10:] + `","email":"x@mail.example","ip":"192.0.2.1","approved":false,"created_at":"2025-03-14T09:26:53.000Z"}}`)
}

// expectation checks one answer; "" means as expected.
type expectation func(a answer) string

func wantStatus(codes ...int) expectation {
	return func(a answer) string {
		for _, c := range codes {
			if a.status == c {
				return ""
			}
		}
		return fmt.Sprintf("got %d, want %v", a.status, codes)
	}
}

func wantLogin(a answer) string {
	if a.status == http.StatusSeeOther && strings.HasPrefix(a.location, "/login") {
		return ""
	}
	return fmt.Sprintf("got %d Location %q, want 303 to /login", a.status, a.location)
}

// wantError wants status and, for a JSON answer, the error code (a
// browser gets the same error as a page).
func wantError(status int, code string) expectation {
	return func(a answer) string {
		isJSON := strings.HasPrefix(strings.TrimSpace(a.body), "{")
		if a.status != status || (isJSON && !strings.Contains(a.body, `"error":"`+code+`"`)) {
			return fmt.Sprintf("got %d %.200s, want %d %s", a.status, a.body, status, code)
		}
		return ""
	}
}

func wantBelow500(a answer) string {
	if a.status >= 500 {
		return fmt.Sprintf("got %d", a.status)
	}
	return ""
}

// TestAuthorisationMatrix calls every route as every kind of caller that
// must be refused, on both databases.
func TestAuthorisationMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		w := newAuthzWorld(t, tg)
		routes := w.app.Echo.Routes()
		sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
		counts := map[routeClass]int{}
		cells, notFound := 0, 0
		for _, r := range routes {
			if strings.HasPrefix(r.Method, "echo_") { // the router's not-found handlers
				notFound++
				continue
			}
			class, ok := classify(r.Path)
			if !ok {
				t.Errorf("route %s %s is in no class of the authorisation matrix: classify it in authz_test.go", r.Method, r.Path)
				continue
			}
			counts[class]++
			path := w.concrete(t, r.Path)
			for _, c := range w.callers(t, class, r.Method, r.Path, path) {
				cells++
				a := sendAuthz(t, c.req)
				if a.status >= 500 {
					t.Errorf("%s %s as %s: %d (never 5xx)", r.Method, path, c.name, a.status)
					continue
				}
				if msg := c.want(a); msg != "" {
					t.Errorf("%s %s [%s] as %s: %s", r.Method, r.Path, class, c.name, msg)
				}
			}
		}
		t.Logf("%d routes by class %v, %d calls", len(routes)-notFound, counts, cells)
		for _, need := range []routeClass{classSigned, classOptional, classWebhook, classAdmin, classOperator, classPublic} {
			if counts[need] == 0 {
				t.Errorf("no %s routes found: the classification is stale", need)
			}
		}
		w.assertAUnchanged(t)
	})
}

type matrixCall struct {
	name string
	req  *http.Request
	want expectation
}

// callers builds the refused calls of one route.
func (w *authzWorld) callers(t *testing.T, class routeClass, method, route, path string) []matrixCall {
	t.Helper()
	body := w.body(route)
	if method == http.MethodGet || method == http.MethodDelete {
		body = nil
	}
	url := w.app.URL + path
	bPriv := w.b.ServerPrivateKey
	apiCallers := func(unsigned, unknown, forged, suspended, anon, otherAdmin expectation) []matrixCall {
		return []matrixCall{
			{"unsigned", plainRequest(t, method, url, body, "application/json"), unsigned},
			{"signed by an unknown key", w.signedRequest(t, method, path, body, w.unknownID, w.unknownKey), unknown},
			{"A's keyid signed with B's key", w.signedRequest(t, method, path, body, w.a.ServerID, bPriv), forged},
			{"a suspended server", w.signedRequest(t, method, path, body, w.s.ServerID, w.s.ServerPrivateKey), suspended},
			{"an unauthenticated browser", plainRequest(t, method, url, body, "text/html"), anon},
			{"the admin of another server", w.adminB.request(t, method, path, class != classPublic, adminForm(route)), otherAdmin},
		}
	}
	switch class {
	case classSigned:
		calls := apiCallers(wantError(401, "missing_signature"), wantError(401, "unknown_keyid"), wantError(401, "bad_signature"),
			wantError(403, "suspended"), wantError(401, "missing_signature"), wantError(401, "missing_signature"))
		if method == http.MethodDelete && strings.HasSuffix(route, "/checks/:id") {
			calls[3].want = wantError(404, "not_found") // erasure stays open to a suspended server, but not of A's check
		}
		if strings.Contains(route, "/checks/:id") || strings.HasSuffix(route, "/feedback") {
			calls = append(calls, matrixCall{"server B about A's check", w.signedRequest(t, method, path, body, w.b.ServerID, bPriv), wantError(404, "not_found")})
		}
		return calls
	case classOptional:
		ok := wantStatus(http.StatusOK)
		return apiCallers(ok, wantError(401, "unknown_keyid"), wantError(401, "bad_signature"), ok, ok, ok)
	case classWebhook:
		post := func(name, id, secret string, want expectation) matrixCall {
			b := webhookBody()
			req := plainRequest(t, method, w.app.URL+"/webhooks/mastodon/"+id, b, "application/json")
			if secret != "" {
				req.Header.Set("X-Hub-Signature", hubSig(secret, b))
			}
			return matrixCall{name, req, want}
		}
		calls := apiCallers(wantError(401, "missing_webhook_signature"), wantError(401, "missing_webhook_signature"),
			wantError(401, "missing_webhook_signature"), wantError(401, "missing_webhook_signature"),
			wantError(401, "missing_webhook_signature"), wantError(401, "missing_webhook_signature"))
		return append(calls,
			post("HMAC with an unknown secret", w.a.ServerID, randomHex(20), wantError(401, "bad_webhook_signature")),
			post("HMAC with B's secret", w.a.ServerID, w.secretB, wantError(401, "bad_webhook_signature")),
			post("a suspended server's own delivery", w.s.ServerID, w.secretS, wantError(403, "suspended")),
			post("an unknown server", w.unknownID, w.secretA, wantError(404, "not_found")))
	case classAdmin:
		login := expectation(wantLogin)
		var other expectation = func(a answer) string {
			if strings.Contains(route, ":id") {
				return wantStatus(http.StatusNotFound)(a)
			}
			for _, leak := range []string{w.a.ServerID, w.checkA, w.markerA} {
				if strings.Contains(a.body, leak) {
					return "shows A's " + leak
				}
			}
			return wantBelow500(a)
		}
		return apiCallers(login, login, login, login, login, other)
	case classOperator:
		login := expectation(wantLogin)
		return apiCallers(login, login, login, login, login, wantStatus(http.StatusNotFound))
	}
	return apiCallers(wantBelow500, wantBelow500, wantBelow500, wantBelow500, wantBelow500, wantBelow500)
}

// adminForm is a valid form for a page route with an id, so the answer
// is about whose the id is, not about the form.
func adminForm(route string) url.Values {
	if strings.HasSuffix(route, "/feedback") {
		return url.Values{"verdict": {"spam"}}
	}
	return nil
}

// request builds a request carrying the browser's cookies and, for a POST
// with withToken, its current form token, so the call reaches the role and
// tenant checks. (Public forms get no token: signing out or registering is
// not what the matrix is about.)
func (b *browser) request(t *testing.T, method, path string, withToken bool, form url.Values) *http.Request {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	var body io.Reader
	if method == http.MethodPost {
		if withToken {
			form.Set("csrf", b.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range b.client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	return req
}

// assertAUnchanged: nothing in the matrix reached A's data.
func (w *authzWorld) assertAUnchanged(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	rec, err := w.app.Svc.GetCheck(ctx, w.a.ServerID, w.checkA)
	if err != nil || rec.Erased || rec.Feedback != nil {
		t.Errorf("A's check after the matrix: %+v %v", rec, err)
	}
	srv, err := w.app.Svc.GetServer(ctx, w.a.ServerID)
	if err != nil || srv.Status != "active" || len(srv.Keys) != w.keysA {
		t.Errorf("A after the matrix: %+v %v (had %d keys)", srv, err, w.keysA)
	}
	pol, err := w.app.Svc.Policy(ctx, w.a.ServerID)
	pb, _ := json.Marshal(pol)
	if err != nil || string(pb) != w.policyA {
		t.Errorf("A's policy changed: %v", err)
	}
}
