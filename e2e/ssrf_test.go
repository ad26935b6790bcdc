package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models"
)

// blocked reports whether an error text is netguard's refusal of a
// private address.
func blocked(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "blocked") || strings.Contains(s, "private")
}

// waitFor polls cond every 50 ms until it holds or within passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	until := time.Now().Add(within)
	for !cond() {
		if time.Now().After(until) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOutboundCallsRefusePrivateAddresses takes every place Breakwater
// calls a URL someone else chose, points it at a loopback address, and
// shows the call is refused (and nothing reaches the address) unless the
// operator allowed that range with BREAKWATER_ALLOW_PRIVATE_RANGES: server
// registration (nodeinfo and the registration call, from the command line
// and from the web form), key rotation (which registers again), the debug
// callback, alert webhooks (setting one,
// and serve delivering to one set earlier), and the Mastodon Admin API
// (connecting, and the actions serve's worker takes). The address checks
// themselves (ranges, IPv6 forms, DNS rebinding, redirects) are
// provider/netguard's tests; these prove each call site goes through them.
func TestOutboundCallsRefusePrivateAddresses(t *testing.T) {
	t.Parallel()
	ctx := deadline(t, 60*time.Second)
	addr := freeAddr(t)
	closed := baseEnv(t, "").at(addr).with("BREAKWATER_ALLOW_PRIVATE_RANGES", "", "BREAKWATER_REGISTRATION_MODE", "open")
	allowed := closed.with("BREAKWATER_ALLOW_PRIVATE_RANGES", "127.0.0.0/8")
	p := serve(t, "serve (no private ranges)", closed, addr)
	f := newFediverse(t, "127.0.0.9")

	t.Run("registration from the command line", func(t *testing.T) {
		out, errOut, err := cliResult(closed, "", "servers", "register", f.URL, "--json")
		if err == nil || !blocked(errOut) {
			t.Errorf("register %s without the range allowed: %v\n%s%s", f.URL, err, out, errOut)
		}
		// An explicit base URL on a private address is refused as well.
		_, errOut, err = cliResult(closed, "", "servers", "register", "https://mastodon.example", "--base-url", f.URL+"/api/fasp")
		if err == nil || !blocked(errOut) {
			t.Errorf("register with a private --base-url: %v\n%s", err, errOut)
		}
		if n := f.requests.Load(); n != 0 {
			t.Errorf("the private address received %d requests", n)
		}
	})

	t.Run("registration from the web form", func(t *testing.T) {
		b := newBrowser(t, p.URL)
		if status, _, err := b.get("/register"); err != nil || status != http.StatusOK {
			t.Fatalf("GET /register: %d %v", status, err)
		}
		status, body, err := b.post("/register", url.Values{"serverUrl": {f.URL}, "email": {"ssrf@example.org"},
			"password": {"correct horse battery staple"}, "acceptTerms": {"yes"}})
		if err != nil || status != http.StatusUnprocessableEntity || !blocked(body) {
			t.Errorf("web registration of a private address: %d %v", status, err)
		}
		if n := f.requests.Load(); n != 0 {
			t.Errorf("the private address received %d requests", n)
		}
	})

	// Registered while the range was allowed (a local test set-up), the
	// server's base URL is private; serve, without the range, must not
	// call it back.
	s := register(t, allowed, f, p.URL, "callback")
	before := f.requests.Load()
	db := openDB(t, closed)
	t.Run("debug callback", func(t *testing.T) {
		ans, err := s.call(ctx, p.URL, http.MethodPost, "/debug/v0/callback/logs", map[string]string{"probe": "ssrf"})
		if err != nil || ans.Status != http.StatusCreated {
			t.Fatalf("debug call: %v %s", err, ans)
		}
		var row models.DebugCall
		waitFor(t, 10*time.Second, "the callback outcome is recorded", func() bool {
			return db.WithContext(ctx).Where("server_id = ?", s.ID).Order("id DESC").First(&row).Error == nil && row.CallbackAt != nil
		})
		if !blocked(row.CallbackError) || row.CallbackStatus != 0 {
			t.Errorf("callback outcome %d %q, want blocked", row.CallbackStatus, row.CallbackError)
		}
		if n := f.requests.Load() - before; n != 0 {
			t.Errorf("the private address received %d requests", n)
		}
	})

	t.Run("key rotation", func(t *testing.T) {
		n := f.requests.Load()
		_, errOut, err := cliResult(closed, "", "servers", "rotate-key", s.ID)
		if err == nil || !blocked(errOut) {
			t.Errorf("rotate-key towards a private base URL: %v %s", err, errOut)
		}
		if got := f.requests.Load() - n; got != 0 {
			t.Errorf("the private address received %d requests", got)
		}
	})

	alerts := true
	t.Run("alert webhook", func(t *testing.T) {
		n := f.requests.Load()
		_, errOut, err := cliResult(closed, "", "campaigns", "alerts", s.ID, "--webhook-url", f.URL+"/alerts")
		if err != nil && strings.Contains(errOut, `unknown command "campaigns"`) {
			alerts = false
			t.Skip("this build has no alerts (no campaigns command)")
		}
		if err == nil || !blocked(errOut) {
			t.Errorf("alert webhook on a private address: %v %s", err, errOut)
		}
		// Set while the range was allowed, serve (without it) refuses to deliver.
		cli(t, allowed, "campaigns", "alerts", s.ID, "--webhook-url", f.URL+"/alerts", "--test")
		var d models.AlertDelivery
		waitFor(t, 10*time.Second, "the alert delivery is attempted", func() bool {
			return db.WithContext(ctx).Where("server_id = ? AND channel = ? AND attempts > 0", s.ID, "webhook").First(&d).Error == nil
		})
		if !blocked(d.LastError) || d.DeliveredAt != nil {
			t.Errorf("alert delivery to a private address: %q delivered %v, want blocked", d.LastError, d.DeliveredAt)
		}
		if got := f.requests.Load() - n; got != 0 {
			t.Errorf("the private address received %d requests", got)
		}
	})

	m := handlertest.NewMastodonAdmin(t)
	var mreq atomic.Int64
	m.Server.Config.Handler = counting(&mreq, m.Server.Config.Handler)
	m.AddToken("tok-ssrf", true, "admin:read:accounts", "admin:write:accounts", "write:reports")
	var sid, secret string
	t.Run("mastodon connect", func(t *testing.T) {
		_, errOut, err := cliResult(closed, "", "mastodon", "add", m.Server.URL, "--json")
		if err == nil || !blocked(errOut) {
			t.Errorf("mastodon add of a private address: %v %s", err, errOut)
		}
		var added struct {
			ServerID string `json:"serverId"`
		}
		if err := json.Unmarshal([]byte(cli(t, allowed, "mastodon", "add", m.Server.URL, "--json")), &added); err != nil {
			t.Fatal(err)
		}
		sid = added.ServerID
		n := mreq.Load()
		_, errOut, err = cliResult(closed, "", "mastodon", "connect", sid, "--api-url", m.Server.URL, "--token", "tok-ssrf", "--json")
		if err == nil || !blocked(errOut) {
			t.Errorf("mastodon connect to a private API: %v %s", err, errOut)
		}
		if d := mreq.Load() - n; d != 0 {
			t.Errorf("the private Mastodon received %d requests", d)
		}
		var setup struct {
			WebhookURL    string `json:"webhookUrl"`
			WebhookSecret string `json:"webhookSecret"`
		}
		if err := json.Unmarshal([]byte(cli(t, allowed, "mastodon", "connect", sid, "--api-url", m.Server.URL, "--token", "tok-ssrf", "--json")), &setup); err != nil {
			t.Fatal(err)
		}
		secret = setup.WebhookSecret
		m.AddWebhook(setup.WebhookURL, secret, "account.created")
	})
	if sid == "" {
		t.FailNow()
	}

	t.Run("mastodon actions", func(t *testing.T) {
		n := mreq.Load()
		acc := m.SignUp(handlertest.FakeAccount{Username: "pending_one", Email: "pending.one@example.org", IP: "203.0.113.50", Locale: "en"})
		if done := m.DeliverAll(t); done != 1 {
			t.Fatalf("webhook delivery not accepted: %+v", m.Outbox()[0].Statuses)
		}
		var act models.MastodonAction
		waitFor(t, 10*time.Second, "the action on the pending sign-up ends", func() bool {
			return db.WithContext(ctx).Where("server_id = ? AND account_id = ? AND state <> ?", sid, acc.ID, models.MastodonPending).
				First(&act).Error == nil
		})
		if act.State != models.MastodonFailed || !blocked(act.LastError) {
			t.Errorf("action %s on a private Mastodon: %s %q, want failed as blocked", act.Kind, act.State, act.LastError)
		}
		if d := mreq.Load() - n; d != 0 {
			t.Errorf("the private Mastodon received %d requests from serve", d)
		}

	})

	// Allowed, the same calls go through.
	if err := p.stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	p = serve(t, "serve (loopback allowed)", allowed, addr)
	t.Run("mastodon actions allowed", func(t *testing.T) {
		acc2 := m.SignUp(handlertest.FakeAccount{Username: "pending_two", Email: "pending.two@example.org", IP: "203.0.113.51", Locale: "en"})
		m.DeliverAll(t)
		waitFor(t, 10*time.Second, "the action reaches the allowed Mastodon", func() bool {
			for _, c := range m.Calls("POST /api/v1/") {
				if strings.Contains(c.Path, acc2.ID) || c.Path == "/api/v1/reports" {
					return true
				}
			}
			return false
		})
	})

	t.Run("alert webhook allowed", func(t *testing.T) {
		if !alerts {
			t.Skip("this build has no alerts")
		}
		cli(t, allowed, "campaigns", "alerts", s.ID, "--test")
		select {
		case <-f.alerts:
		case <-time.After(10 * time.Second):
			t.Error("no alert delivered within 10s with the range allowed")
		}
	})

	t.Run("debug callback allowed", func(t *testing.T) {
		ans, err := s.call(ctx, p.URL, http.MethodPost, "/debug/v0/callback/logs", map[string]string{"probe": "allowed"})
		if err != nil || ans.Status != http.StatusCreated {
			t.Fatalf("debug call: %v %s", err, ans)
		}
		select {
		case body := <-f.callbacks:
			if !strings.Contains(string(body), "allowed") {
				t.Errorf("callback body %s", body)
			}
		case <-time.After(10 * time.Second):
			t.Error("no callback within 10s with the range allowed")
		}
	})
}
