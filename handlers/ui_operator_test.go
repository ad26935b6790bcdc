package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

func newOperator(t testing.TB, app *uiApp) *browser {
	t.Helper()
	if err := app.Svc.CreateOperator(t.Context(), "ops@example.org", "operator passphrase"); err != nil {
		t.Fatal(err)
	}
	return signIn(t, app, "ops@example.org", "operator passphrase").wantRedirect("/operator")
}

// TestWebOperatorQuota: the operator sets a monthly quota; the admin is
// warned at 80 % and at 100 %, when the API refuses checks with 429 and
// Retry-After; usage shows to both and exports as CSV.
func TestWebOperatorQuota(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app := newUIApp(t, tg, uiOptions{})
		m := handlertest.NewMastodon(t)
		admin, p := registerServer(t, app, m, "admin@example.org", "signup_screening")
		op := newOperator(t, app)
		op.follow().want(200).contains("127.0.0.1", "unlimited")
		op.get("/operator/servers/" + p.ServerID).want(200).contains("admin@example.org")
		op.post("/operator/servers/"+p.ServerID+"/quota", url.Values{"quota": {"five"}}).want(http.StatusUnprocessableEntity).contains(`id="e-quota"`)
		op.post("/operator/servers/"+p.ServerID+"/quota", url.Values{"quota": {"5"}}).wantRedirect("/operator/servers/" + p.ServerID)

		for i, user := range []string{"carol", "dave", "erin", "frank"} {
			screenSignup(t, m, p, signupPayload(user, false))
			if i == 2 {
				admin.get("/admin").want(200).lacks(`class="warn"`)
			}
		}
		admin.get("/admin").want(200).contains(`class="warn"`, "80%")
		screenSignup(t, m, p, signupPayload("grace", false))
		admin.get("/admin/usage").want(200).contains(`class="alert"`, "HTTP 429", `<progress class="quota exceeded"`)
		r := m.Call(t, p, "POST", "/spam_detection/v0/signup_screening/checks", signupPayload("heidi", false))
		var body map[string]any
		_ = json.Unmarshal(r.Body, &body)
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || body["error"] != "rate_limited" {
			t.Fatalf("past the quota: %d %v %s", r.Status, r.Header, r.Body)
		}
		admin.get("/admin/usage.csv").want(200)
		if ct := admin.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("content type %q", ct)
		}
		if !strings.Contains(admin.Body, "day,capability,checks\n") || !strings.Contains(admin.Body, ",signup_screening,5\n") {
			t.Errorf("admin CSV %q", admin.Body)
		}
		op.get("/operator/usage").want(200).contains("100%", "quota used up")
		op.get("/operator/usage.csv").want(200).contains(p.ServerID + ",127.0.0.1,active,5,5,100")
	})
}

// TestWebOperatorServers suspends, reinstates and deletes a server.
func TestWebOperatorServers(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	admin, p := registerServer(t, app, m, "admin@example.org", "signup_screening")
	op := newOperator(t, app)
	op.get("/operator/servers/" + p.ServerID).want(200)
	op.post("/operator/servers/"+p.ServerID+"/suspend", url.Values{"suspend": {"yes"}}).wantRedirect("/operator/servers/" + p.ServerID)
	op.follow().want(200).contains("The server is suspended.", "Reinstate")
	if r := m.Call(t, p, "POST", "/spam_detection/v0/signup_screening/checks", signupPayload("ivan", false)); r.Status != http.StatusForbidden {
		t.Errorf("suspended server's check: %d", r.Status)
	}
	admin.get("/admin").want(200).contains("suspended this server")
	op.post("/operator/servers/"+p.ServerID+"/suspend", url.Values{"suspend": {"no"}}).wantRedirect("/operator/servers/" + p.ServerID)
	screenSignup(t, m, p, signupPayload("judy", false))

	op.post("/operator/servers/"+p.ServerID+"/delete", nil).want(http.StatusUnprocessableEntity).contains(`id="e-confirm"`)
	op.post("/operator/servers/"+p.ServerID+"/delete", url.Values{"confirm": {"yes"}}).wantRedirect("/operator?done=deleted")
	op.get("/operator/servers/" + p.ServerID).want(http.StatusNotFound)
	admin.get("/admin").wantRedirect("/login")
	signIn(t, app, "admin@example.org", "correct horse battery").want(http.StatusUnauthorized)
	op.get("/operator/health").want(200).contains("answers", "Request rates", "slots busy")
	op.get("/admin").want(http.StatusNotFound)
}

// TestWebPolicyErrors refuses an invalid policy as a whole and shows each
// problem next to its field; the live validation answers the same.
func TestWebPolicyErrors(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	b, p := registerServer(t, app, m, "admin@example.org")
	b.get("/admin/policy").want(200)
	form := policyFormValues(b.Body)
	form.Set("rule.0.pattern", "casino")
	form.Set("rule.0.weight", "30")
	form.Set("rule.1.pattern", "(unclosed")
	form.Set("rule.1.regex", "yes")
	form.Set("rule.1.weight", "20")
	form.Set("rejectAt", "10")
	form.Set("sig.mention_flood.weight", "9")
	b.post("/admin/policy/validate", form).want(200)
	var live struct{ Errors map[string]string }
	if err := json.Unmarshal([]byte(b.Body), &live); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"rule.1.pattern", "rejectAt", "sig.mention_flood.weight"} {
		if live.Errors[f] == "" {
			t.Errorf("live validation lacks %s: %v", f, live.Errors)
		}
	}
	if live.Errors["rule.0.pattern"] != "" {
		t.Errorf("a valid rule reported: %v", live.Errors)
	}
	b.post("/admin/policy", form).want(http.StatusUnprocessableEntity).
		contains(`id="e-rule.1.pattern" data-for="rule.1.pattern">`, "RE2", `value="(unclosed"`, `value="casino"`, `value="9"`)
	pol, _ := app.Svc.Policy(t.Context(), p.ServerID)
	if len(pol.Rules) != 0 || pol.RejectAt != 85 {
		t.Fatalf("an invalid policy was half-saved: %+v", pol)
	}
	form.Set("rule.1.pattern", `\bfree\s+money\b`)
	form.Set("rejectAt", "85")
	form.Set("sig.mention_flood.weight", "2.5")
	form.Del("sig.email_no_mx.on")
	form.Set("denyDomains", "Spam.Example\nscam.example")
	b.post("/admin/policy", form).wantRedirect("/admin/policy")
	pol, _ = app.Svc.Policy(t.Context(), p.ServerID)
	if len(pol.Rules) != 2 || pol.Rules[0].ID == "" || pol.Rules[0].ID == pol.Rules[1].ID || !pol.Rules[1].Regex {
		t.Errorf("rules %+v", pol.Rules)
	}
	if s := pol.Signals["mention_flood"]; s.Weight == nil || *s.Weight != 2.5 {
		t.Errorf("mention_flood %+v", s)
	}
	if s := pol.Signals["email_no_mx"]; s.Enabled == nil || *s.Enabled {
		t.Errorf("email_no_mx not switched off: %+v", s)
	}
	if strings.Join(pol.DenyDomains, ",") != "scam.example,spam.example" {
		t.Errorf("deny domains %v", pol.DenyDomains)
	}
	// Saving again unchanged keeps everything (ids included).
	b.follow().want(200)
	b.post("/admin/policy", policyFormValues(b.Body)).wantRedirect("/admin/policy")
	again, _ := app.Svc.Policy(t.Context(), p.ServerID)
	if again.Rules[0].ID != pol.Rules[0].ID || len(again.Rules) != 2 || *again.Signals["mention_flood"].Weight != 2.5 {
		t.Errorf("round trip changed the policy: %+v", again)
	}
}

// TestWebJapanese serves every admin and operator page in Japanese when
// the browser asks for it, and the switch overrides the browser.
func TestWebJapanese(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	b, p := registerServer(t, app, m, "admin@example.org", "signup_screening")
	id := screenSignup(t, m, p, signupPayload("kenkenken", true))["checkId"].(string)
	b.lang = "ja-JP,ja;q=0.9,en;q=0.5"
	pages := map[string]string{
		"/": "スパム審査", "/privacy": "プライバシーポリシー", "/admin": "過去 24 時間", "/admin/checks": "判定ログ",
		"/admin/checks/" + id: "あなたの判断", "/admin/policy": "しきい値", "/admin/setup": "鍵のフィンガープリント",
		"/admin/debug": "デバッグログ", "/admin/usage": "利用状況", "/nope": "エラー 404",
		"/admin/mastodon": "Mastodon との連携", "/admin/alerts": "テストアラートを送る", "/admin/campaigns": "このサーバーに届いた",
	}
	for path, want := range pages {
		b.get(path).contains(`<html lang="ja">`, want)
	}
	b.get("/lang/en?next=/admin/policy").wantRedirect("/admin/policy")
	b.follow().want(200).contains(`<html lang="en">`, "Thresholds")
	op := newOperator(t, app)
	op.lang = "ja"
	for path, want := range map[string]string{"/operator": "登録済みのサーバー", "/operator/usage": "サーバー別", "/operator/health": "稼働状況",
		"/operator/servers/" + p.ServerID: "月間上限", "/operator/campaigns": "キャンペーンはありません", "/operator/feed": "フィードは空"} {
		op.get(path).want(200).contains(`<html lang="ja">`, want)
	}
}
