package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
)

// TestWebRegistrationToFeedback walks the admin's path over HTTP: register
// against a Mastodon-faithful fake, see the fingerprint Mastodon computes,
// sign out and in, see a check the API made with its reasons, mark it spam,
// and change a threshold so that the next decision changes.
func TestWebRegistrationToFeedback(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app := newUIApp(t, tg, uiOptions{})
		m := handlertest.NewMastodon(t)
		b, p := registerServer(t, app, m, "Admin@Example.org", "signup_screening")

		b.follow().want(200).contains(provider.Fingerprint(p.ProviderPublicKey), "EXPERIMENTAL_FEATURES=fasp",
			"/admin/fasp/providers/", "registration/new")

		b.post("/logout", nil).wantRedirect("/login")
		b.get("/admin").wantRedirect("/login?next=%2Fadmin")
		b = signIn(t, app, "admin@example.org", "correct horse battery").wantRedirect("/admin")
		b.follow().want(200).contains("Overview", "<svg")

		first := screenSignup(t, m, p, signupPayload("zq7x9k2m", true))
		id := first["checkId"].(string)
		reasons := first["reasons"].([]any)
		if len(reasons) == 0 {
			t.Fatalf("spammy sign-up has no reasons: %v", first)
		}
		code := reasons[0].(map[string]any)["code"].(string)
		b.get("/admin/checks").want(200).contains("/admin/checks/"+id, code)
		b.get("/admin/checks/"+id).want(200).contains(code, first["decision"].(string))
		b.post("/admin/checks/"+id+"/feedback", url.Values{"verdict": {"spam"}}).wantRedirect("/admin/checks/" + id)
		b.follow().want(200).contains(`aria-pressed="true"`, "Marked as spam")
		rec, err := app.Svc.GetCheck(context.Background(), p.ServerID, id)
		if err != nil || rec.Feedback == nil || rec.Feedback.Verdict != "spam" {
			t.Fatalf("feedback not recorded: %+v %v", rec, err)
		}

		// A sign-up that scores a little is allowed; with the review
		// threshold below its score, the next such sign-up goes to review.
		plain := screenSignup(t, m, p, signupPayload("alice", false))
		score := int(plain["score"].(float64))
		if plain["decision"] != "allow" || score < 5 {
			t.Fatalf("a mild sign-up: %v, want allow with a score of at least 5", plain)
		}
		b.get("/admin/policy").want(200).contains(`name="reviewAt" type="number" value="65"`)
		form := policyFormValues(b.Body)
		form.Set("reviewAt", "5")
		b.post("/admin/policy", form).wantRedirect("/admin/policy")
		b.follow().want(200).contains(`value="5"`, "The policy is saved")
		next := screenSignup(t, m, p, signupPayload("bobby", false))
		if next["decision"] != "review" {
			t.Fatalf("after reviewAt=5 the same kind of sign-up (score %d before) got %v", score, next)
		}
		b.get("/admin/checks?decision=review").want(200).contains(next["checkId"].(string))
	})
}

// policyFormValues reads the current values of the policy editor, as a
// browser would submit them.
func policyFormValues(page string) url.Values {
	v := url.Values{}
	for _, m := range inputRe.FindAllStringSubmatch(page, -1) {
		tag := m[0]
		name := formAttr(tag, "name")
		if name == "" || name == "csrf" {
			continue
		}
		typ := formAttr(tag, "type")
		if typ == "checkbox" {
			if strings.Contains(tag, " checked") {
				v.Set(name, formAttr(tag, "value"))
			}
			continue
		}
		v.Set(name, formAttr(tag, "value"))
	}
	for _, m := range textareaRe.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], htmlUnescape(m[2]))
	}
	for _, m := range selectRe.FindAllStringSubmatch(page, -1) {
		if sel := selectedRe.FindStringSubmatch(m[2]); sel != nil {
			v.Set(m[1], sel[1])
		}
	}
	return v
}

func formAttr(tag, name string) string {
	i := strings.Index(tag, " "+name+`="`)
	if i < 0 {
		return ""
	}
	rest := tag[i+len(name)+3:]
	return htmlUnescape(rest[:strings.Index(rest, `"`)])
}

// TestWebCSRF refuses forms without the token of this browser and session.
func TestWebCSRF(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	b, _ := registerServer(t, app, m, "admin@example.org")
	b.get("/admin/policy").want(200)
	good := policyFormValues(b.Body)

	cases := []struct {
		name  string
		token string
		hdr   map[string]string
	}{
		{"no token", "", nil},
		{"forged token", "AAAA", nil},
		{"another browser's token", "", nil},
		{"cross-site fetch", b.csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign origin", b.csrf, map[string]string{"Origin": "https://evil.example"}},
	}
	other := newBrowser(t, app.URL).get("/login")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range good {
				v[k] = vs
			}
			v.Set("reviewAt", "2")
			v.Set("csrf", tc.token)
			if tc.name == "another browser's token" {
				v.Set("csrf", other.csrf)
			}
			req, _ := http.NewRequest(http.MethodPost, app.URL+"/admin/policy", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, val := range tc.hdr {
				req.Header.Set(k, val)
			}
			b.do(req).want(http.StatusForbidden).contains("did not come from this site")
		})
	}
	pol, err := app.Svc.Policy(context.Background(), m.Providers()[0].ServerID)
	if err != nil || pol.ReviewAt != 65 {
		t.Fatalf("a forged form changed the policy: %+v %v", pol, err)
	}
	// The same form with the right token and a same-origin header works.
	good.Set("reviewAt", "50")
	good.Set("csrf", b.csrf)
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/admin/policy", strings.NewReader(good.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", app.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	b.do(req).wantRedirect("/admin/policy")
	// Sign-in itself is protected too (login CSRF).
	newBrowser(t, app.URL).post("/login", url.Values{"email": {"admin@example.org"}, "password": {"correct horse battery"}}).want(http.StatusForbidden)
}

// TestWebSessionExpiry ends sessions left idle and sessions past their
// lifetime, server-side, whatever the cookie says.
func TestWebSessionExpiry(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	b, _ := registerServer(t, app, m, "admin@example.org")
	b.get("/admin").want(200)
	for _, c := range b.client.Jar.Cookies(uiURL(app.URL)) {
		if c.Name == "bw_session" {
			if c.Value == "" {
				t.Fatal("empty session cookie")
			}
		}
	}

	app.clock.Advance(90 * time.Minute)
	b.get("/admin").want(200) // still within the idle limit; touches the session
	app.clock.Advance(90 * time.Minute)
	b.get("/admin").want(200)
	app.clock.Advance(2*time.Hour + time.Minute) // idle too long
	b.get("/admin").wantRedirect("/login")
	b.post("/admin/policy", url.Values{"reviewAt": {"3"}}).wantRedirect("/login")

	b = signIn(t, app, "admin@example.org", "correct horse battery").wantRedirect("/admin")
	for i := 0; i < 12; i++ { // active all the time, but the lifetime is 12 hours
		app.clock.Advance(time.Hour + time.Minute)
		if i < 11 {
			b.get("/admin").want(200)
		}
	}
	b.get("/admin").wantRedirect("/login")
}

func uiURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestWebCookies are HttpOnly, SameSite=Lax, with an expiry, and the
// session is stored hashed.
func TestWebCookies(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	b := newBrowser(t, app.URL).get("/register")
	b.post("/register", url.Values{"serverUrl": {m.Server.URL}, "email": {"a@example.org"}, "password": {"correct horse battery"},
		"acceptTerms": {"yes"}}).wantRedirect("/admin/setup")
	var session string
	for _, line := range b.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "bw_session=") {
			session = line
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Expires=", "Path=/"} {
		if !strings.Contains(session, want) {
			t.Errorf("session cookie %q lacks %s", session, want)
		}
	}
	token := strings.TrimPrefix(strings.Split(session, ";")[0], "bw_session=")
	var n int64
	if err := app.DB.Raw("SELECT COUNT(*) FROM sessions WHERE token_hash = ?", token).Scan(&n).Error; err != nil || n != 0 {
		t.Errorf("the raw cookie token is stored (%d, %v)", n, err)
	}
	if strings.Contains(app.Logs.String(), "a@example.org") || strings.Contains(app.Logs.String(), token) {
		t.Error("an e-mail address or session token was logged")
	}
}

// TestWebLockout locks an address after repeated failures, even for the
// right password, and says so with 429 and Retry-After.
func TestWebLockout(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	registerServer(t, app, m, "admin@example.org")
	b := newBrowser(t, app.URL).get("/login")
	for i := 0; i < 4; i++ {
		b.post("/login", url.Values{"email": {"admin@example.org"}, "password": {fmt.Sprintf("wrong-%d-xxxxxx", i)}}).
			want(http.StatusUnauthorized).contains("Wrong e-mail address or password")
	}
	b.post("/login", url.Values{"email": {"admin@example.org"}, "password": {"wrong again xxxx"}}).want(http.StatusTooManyRequests)
	b.post("/login", url.Values{"email": {"admin@example.org"}, "password": {"correct horse battery"}}).
		want(http.StatusTooManyRequests).contains("locked for 15 minutes")
	if ra := b.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	// An unknown address locks the same way, so lockout reveals nothing.
	for i := 0; i < 5; i++ {
		b.post("/login", url.Values{"email": {"nobody@example.org"}, "password": {"whatever whatever"}})
	}
	if b.Status != http.StatusTooManyRequests {
		t.Errorf("unknown address: %d after 5 failures, want 429 like a known one", b.Status)
	}
	app.clock.Advance(16 * time.Minute)
	b.post("/login", url.Values{"email": {"admin@example.org"}, "password": {"correct horse battery"}}).wantRedirect("/admin")
}

// TestWebClientThrottle limits sign-in attempts per client address across
// e-mail addresses.
func TestWebClientThrottle(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	b := newBrowser(t, app.URL).get("/login")
	got429 := false
	for i := 0; i < 25 && !got429; i++ {
		b.post("/login", url.Values{"email": {fmt.Sprintf("u%d@example.org", i)}, "password": {"nope nope nope"}})
		got429 = b.Status == http.StatusTooManyRequests
	}
	if !got429 {
		t.Fatal("25 sign-ins for different addresses from one client were all tried")
	}
}
