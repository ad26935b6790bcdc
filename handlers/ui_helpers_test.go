package handlers_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
)

// uiClock is a clock tests can move forward.
type uiClock struct{ offset atomic.Int64 }

func (c *uiClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *uiClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// uiApp is a running Breakwater with a clock, in a registration mode.
type uiApp struct {
	*handlertest.App
	clock *uiClock
}

type uiOptions struct {
	mode    string
	invite  string
	smtpURL string
}

func newUIApp(t testing.TB, tg testdb.Target, o uiOptions) *uiApp {
	t.Helper()
	clock := &uiClock{}
	if o.mode == "" {
		o.mode = provider.RegistrationOpen
	}
	app := handlertest.NewApp(t, tg, handlertest.Config{Provider: func(p *provider.Options) {
		p.RegistrationMode = o.mode
		p.InviteCode = o.invite
		p.Now = clock.Now
		if o.smtpURL != "" {
			p.SMTPURL, p.SMTPFrom = o.smtpURL, "Breakwater <noreply@breakwater.test>"
		}
	}})
	return &uiApp{App: app, clock: clock}
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so tests see each answer; it remembers the last page's form token.
type browser struct {
	t      testing.TB
	base   string
	client *http.Client
	lang   string
	csrf   string
	// Last holds the last answer's status, body and headers.
	Status int
	Body   string
	Header http.Header
}

func newBrowser(t testing.TB, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	csrfRe     = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	inputRe    = regexp.MustCompile(`<input[^>]*>`)
	textareaRe = regexp.MustCompile(`<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>`)
	selectRe   = regexp.MustCompile(`(?s)<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	selectedRe = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func (b *browser) do(req *http.Request) *browser {
	b.t.Helper()
	req.Header.Set("Accept", "text/html")
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.Status, b.Body, b.Header = resp.StatusCode, string(body), resp.Header
	if m := csrfRe.FindStringSubmatch(b.Body); m != nil {
		b.csrf = m[1]
	}
	return b
}

// get loads a page.
func (b *browser) get(path string) *browser {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form with the last page's token (unless the values
// already carry one).
func (b *browser) post(path string, v url.Values) *browser {
	b.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if _, ok := v["csrf"]; !ok {
		v.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(v.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// follow loads the page the last answer redirected to.
func (b *browser) follow() *browser {
	b.t.Helper()
	loc := b.Header.Get("Location")
	if loc == "" {
		b.t.Fatalf("no redirect: %d %.300s", b.Status, b.Body)
	}
	return b.get(loc)
}

func (b *browser) want(status int) *browser {
	b.t.Helper()
	if b.Status != status {
		b.t.Fatalf("status %d, want %d; body: %.1500s", b.Status, status, b.Body)
	}
	return b
}

func (b *browser) wantRedirect(prefix string) *browser {
	b.t.Helper()
	if b.Status != http.StatusSeeOther || !strings.HasPrefix(b.Header.Get("Location"), prefix) {
		b.t.Fatalf("got %d Location %q, want 303 to %s...; body %.800s", b.Status, b.Header.Get("Location"), prefix, b.Body)
	}
	return b
}

func (b *browser) contains(parts ...string) *browser {
	b.t.Helper()
	text := html.UnescapeString(b.Body)
	for _, p := range parts {
		if !strings.Contains(b.Body, p) && !strings.Contains(text, p) {
			b.t.Fatalf("page lacks %q; body: %.3000s", p, b.Body)
		}
	}
	return b
}

func (b *browser) lacks(parts ...string) *browser {
	b.t.Helper()
	text := html.UnescapeString(b.Body)
	for _, p := range parts {
		if strings.Contains(b.Body, p) || strings.Contains(text, p) {
			b.t.Fatalf("page shows %q but must not", p)
		}
	}
	return b
}

// registerServer registers m through the web form as admin email and
// returns the browser, signed in, and the fake's record of the provider,
// confirmed and with capabilities enabled.
func registerServer(t testing.TB, app *uiApp, m *handlertest.Mastodon, email string, caps ...string) (*browser, *handlertest.FaspProvider) {
	t.Helper()
	b := newBrowser(t, app.URL)
	b.get("/register").want(200)
	b.post("/register", url.Values{"serverUrl": {m.Server.URL}, "email": {email}, "password": {"correct horse battery"},
		"acceptTerms": {"yes"}}).wantRedirect("/admin/setup")
	ps := m.Providers()
	p := ps[len(ps)-1]
	m.Confirm(p)
	app.Activate(t, m, p, caps...)
	return b, p
}

func signIn(t testing.TB, app *uiApp, email, password string) *browser {
	t.Helper()
	b := newBrowser(t, app.URL)
	b.get("/login").want(200)
	b.post("/login", url.Values{"email": {email}, "password": {password}})
	return b
}

// signupPayload is a sign-up check body. A mild one trips one weak signal
// (display name equal to the username: a low score, allowed by default); a
// spammy one trips several.
func signupPayload(user string, spammy bool) map[string]any {
	acct := map[string]any{"username": user, "displayName": user, "email": user + "@example.org", "locale": "en"}
	client := map[string]any{}
	if spammy {
		acct["email"] = user + "@mailinator.com"
		client["formSeconds"] = 1.0
	}
	return map[string]any{"account": acct, "ip": "203.0.113.7", "userAgent": "Mozilla/5.0", "client": client}
}

func screenSignup(t testing.TB, m *handlertest.Mastodon, p *handlertest.FaspProvider, payload map[string]any) map[string]any {
	t.Helper()
	r := m.Call(t, p, "POST", "/spam_detection/v0/signup_screening/checks", payload)
	if r.Status != 200 {
		t.Fatalf("signup check: %d %s", r.Status, r.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// regexpFind returns the first group of pattern in s, or "".
func regexpFind(s, pattern string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
