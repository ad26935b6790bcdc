package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

// TestSecretsNeverLogged runs serve at debug level beside the operator
// commands through registration, checks (valid and invalid), the debug
// capability, a Mastodon connection and its webhooks, web sign-up, a
// failed sign-in and a password reset whose e-mail cannot be sent, with
// every process's output captured, and then greps it all for every secret
// and every piece of personal data the test used: the secret key, the
// database and SMTP passwords, Breakwater's private keys (as base64 and
// hex of their seeds, and sealed), the Mastodon token and webhook secret,
// web passwords and session cookies, e-mail addresses and IP addresses.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	ctx := deadline(t, 60*time.Second)
	tg := testdb.Postgres(t)
	const dbPassword = "db-password-9f3a1c77e2"
	u, err := url.Parse(tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), dbPassword) // the test cluster trusts loopback: any password works
	const smtpPassword = "smtp-password-41d0be5c"
	addr := freeAddr(t)
	e := baseEnv(t, u.String()).at(addr).with(
		"BREAKWATER_LOG_LEVEL", "debug",
		"BREAKWATER_REGISTRATION_MODE", "open",
		"BREAKWATER_SMTP_URL", "smtp://breakwater:"+smtpPassword+"@"+freeAddr(t), // nobody listens: every send fails
		"BREAKWATER_SMTP_FROM", "noreply@breakwater.test")
	logs := &logBuffer{}
	run := func(args ...string) string { // an operator command, its log captured
		t.Helper()
		out, errOut, err := cliResult(e, "", args...)
		_, _ = logs.Write([]byte(errOut))
		if err != nil {
			t.Fatalf("breakwater %s: %v\n%s", strings.Join(args, " "), err, errOut)
		}
		return out
	}
	p := serve(t, "serve", e, addr)

	// Registration and checks through the FASP API.
	f := newFediverse(t, "127.0.0.10")
	var reg struct {
		ServerID string `json:"serverId"`
	}
	const adminEmail = "registering.admin@secret-mail.example"
	if err := json.Unmarshal([]byte(run("servers", "register", f.URL, "--admin-email", adminEmail, "--json")), &reg); err != nil {
		t.Fatal(err)
	}
	s := f.server(t, reg.ServerID)
	for _, c := range []string{"signup_screening", "content_screening", "callback"} {
		if a, err := s.call(ctx, p.URL, http.MethodPost, "/capabilities/"+c+"/0/activation", nil); err != nil || a.Status != 204 {
			t.Fatalf("activate %s: %v %s", c, err, a)
		}
	}
	emails := []string{adminEmail, "signup.person@secret-mail.example", "spam.person@mailinator.com", "debug.body@secret-mail.example"}
	ips := []string{"203.0.113.77", "2001:db8:77::1", "198.51.100.177"}
	calls := []struct {
		path string
		body any
	}{
		{"/spam_detection/v0/signup_screening/checks", signup("signup_person", emails[1], ips[0])},
		{"/spam_detection/v0/signup_screening/checks", signup("spam_person", emails[2], ips[1])},
		{"/spam_detection/v0/signup_screening/checks", signup("bad email", "not an address "+emails[1], ips[2])},
		{"/spam_detection/v0/content_screening/checks", post("someone@"+f.Domain, "Write to "+emails[1]+" from "+ips[0]+" for the prize")},
		{"/debug/v0/callback/logs", map[string]string{"email": emails[3], "ip": ips[2]}},
	}
	for _, c := range calls {
		if _, err := s.call(ctx, p.URL, http.MethodPost, c.path, c.body); err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
	}
	select {
	case <-f.callbacks:
	case <-time.After(5 * time.Second):
		t.Error("no debug callback")
	}

	// Mastodon: connect with a token, deliver sign-up webhooks.
	m := handlertest.NewMastodonAdmin(t)
	const token = "mastodon-token-5b2e9d0c1a7f"
	m.AddToken(token, true, "admin:read:accounts", "admin:write:accounts", "write:reports")
	var added struct {
		ServerID string `json:"serverId"`
	}
	if err := json.Unmarshal([]byte(run("mastodon", "add", m.Server.URL, "--json")), &added); err != nil {
		t.Fatal(err)
	}
	var setup struct {
		WebhookURL    string `json:"webhookUrl"`
		WebhookSecret string `json:"webhookSecret"`
	}
	if err := json.Unmarshal([]byte(run("mastodon", "connect", added.ServerID, "--api-url", m.Server.URL, "--token", token, "--json")), &setup); err != nil {
		t.Fatal(err)
	}
	m.AddWebhook(setup.WebhookURL, setup.WebhookSecret, "account.created")
	hookEmail := "webhook.person@secret-mail.example"
	emails = append(emails, hookEmail)
	m.SignUp(handlertest.FakeAccount{Username: "webhook_person", Email: hookEmail, IP: "192.0.2.177", Locale: "en"})
	ips = append(ips, "192.0.2.177")
	m.DeliverAll(t)
	run("mastodon", "status", added.ServerID)

	// The web interface: sign-up, a wrong password, a reset e-mail that
	// cannot be sent.
	const password = "web-password-horse-battery-3e1f"
	webEmail := "web.admin@secret-mail.example"
	emails = append(emails, webEmail)
	f2 := newFediverse(t, "127.0.0.11")
	b := newBrowser(t, p.URL)
	if _, _, err := b.get("/register"); err != nil {
		t.Fatal(err)
	}
	if status, _, err := b.post("/register", url.Values{"serverUrl": {f2.URL}, "email": {webEmail}, "password": {password},
		"acceptTerms": {"yes"}}); err != nil || status != http.StatusSeeOther {
		t.Fatalf("web registration: %d %v", status, err)
	}
	b2 := newBrowser(t, p.URL)
	_, _, _ = b2.get("/login")
	if status, _, _ := b2.post("/login", url.Values{"email": {webEmail}, "password": {password + "-wrong"}}); status == http.StatusSeeOther {
		t.Error("a wrong password signed in")
	}
	_, _, _ = b2.get("/password/forgot")
	_, _, _ = b2.post("/password/forgot", url.Values{"email": {webEmail}})

	// Wait until the webhook was processed, so its logs are in.
	db := openDB(t, e)
	waitFor(t, 10*time.Second, "the webhook event is processed", func() bool {
		var n int64
		db.WithContext(ctx).Model(&models.MastodonEvent{}).Where("server_id = ? AND state <> ?", added.ServerID, models.MastodonPending).Count(&n)
		return n == 1
	})
	if err := p.stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	_, _ = logs.Write([]byte(p.Logs.String()))
	all := logs.String()
	if !strings.Contains(all, "level=DEBUG") || !strings.Contains(all, "server registered") {
		t.Fatalf("the captured logs look empty:\n%s", tailString(all, 2000))
	}

	secrets := map[string]string{
		"secret key": testSecret, "database password": dbPassword, "SMTP password": smtpPassword,
		"Mastodon token": token, "webhook secret": setup.WebhookSecret, "web password": password,
	}
	box, err := sealbox.Load(testSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []models.ServerKey
	if err := db.WithContext(ctx).Find(&keys).Error; err != nil || len(keys) == 0 {
		t.Fatalf("server keys: %v (%d)", err, len(keys))
	}
	for _, k := range keys {
		seed, err := box.Open("server-key", k.PrivateKey)
		if err != nil {
			t.Fatalf("open private key %d: %v", k.ID, err)
		}
		secrets["private key (base64)"] = base64.StdEncoding.EncodeToString(seed)
		secrets["private key (base64url)"] = base64.RawURLEncoding.EncodeToString(seed)
		secrets["private key (hex)"] = hex.EncodeToString(seed)
		secrets["private key (sealed)"] = k.PrivateKey
		for name, v := range secrets {
			if strings.Contains(all, v) {
				t.Errorf("the logs contain the %s", name)
			}
		}
	}
	for _, c := range b.hc.Jar.Cookies(mustURL(t, p.URL)) {
		if len(c.Value) >= 16 && strings.Contains(all, c.Value) {
			t.Errorf("the logs contain the %s cookie", c.Name)
		}
	}
	lower := strings.ToLower(all)
	for _, em := range emails {
		if strings.Contains(lower, strings.ToLower(em)) {
			t.Errorf("the logs contain the e-mail address %s", em)
		}
		if local, _, _ := strings.Cut(em, "@"); strings.Contains(lower, strings.ToLower(local)) {
			t.Errorf("the logs contain the local part of %s", em)
		}
	}
	for _, ip := range ips { // people's addresses; the service's and the servers' own may be logged
		if strings.Contains(all, ip) {
			t.Errorf("the logs contain the IP address %s", ip)
		}
	}
	t.Logf("%d log lines checked for %d secrets, %d e-mail addresses and %d IP addresses", strings.Count(all, "\n"), len(secrets), len(emails), len(ips))
}

func mustURL(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
