package handlers_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
)

// Environment of the browser tests.
const (
	// envRequireBrowser=1 turns "Chromium is missing" into a failure (CI).
	envRequireBrowser = "BREAKWATER_TEST_REQUIRE_BROWSER"
	// envScreenshots names the directory screenshots are saved in.
	envScreenshots = "BREAKWATER_SCREENSHOTS"
	// envChromium overrides the browser binary (default /usr/bin/chromium).
	envChromium = "BREAKWATER_CHROMIUM"
)

// phoneWidth is the narrowest width every page is checked at.
const phoneWidth = 375

// chrome is one headless Chromium driven through the DevTools protocol.
type chrome struct {
	t       *testing.T
	ctx     context.Context
	shots   string
	mu      sync.Mutex
	console []string
	// Phone lists the pages checked at phone width.
	Phone []string
}

func startChrome(t *testing.T) *chrome {
	t.Helper()
	bin := os.Getenv(envChromium)
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(bin); err != nil {
		if os.Getenv(envRequireBrowser) == "1" {
			t.Fatalf("Chromium is required (%s=1) but %s is missing: %v", envRequireBrowser, bin, err)
		}
		t.Skipf("Chromium not found at %s (install Debian's chromium, or set %s); skipping browser tests", bin, envChromium)
	}
	shots := os.Getenv(envScreenshots)
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// A fresh profile, removed after Chromium has exited (it may still be
	// writing to it while t.TempDir's cleanup would run).
	profile, err := os.MkdirTemp("", "breakwater-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// Chromium must not reach the network: every background service off.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("password-store", "basic"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	c := &chrome{t: t, ctx: ctx, shots: shots}
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *log.EventEntryAdded:
			msg = string(e.Entry.Level) + ": " + e.Entry.Text
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning {
				msg = string(e.Type) + ": console"
			}
		}
		if msg != "" {
			c.mu.Lock()
			c.console = append(c.console, msg)
			c.mu.Unlock()
		}
	})
	// The first Run starts the browser; it must use the long-lived context,
	// whose end closes the browser.
	if err := chromedp.Run(ctx, log.Enable()); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Logf("screenshots: %s", shots)
	return c
}

// run performs actions, each batch within 30 seconds; on failure it saves
// a screenshot and the page's text next to the others.
func (c *chrome) run(actions ...chromedp.Action) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var url, text string
		var shot []byte
		_ = chromedp.Run(c.ctx, chromedp.Location(&url), chromedp.Text("body", &text, chromedp.ByQuery),
			chromedp.FullScreenshot(&shot, 100))
		_ = os.WriteFile(filepath.Join(c.shots, "failure.png"), shot, 0o644)
		c.t.Fatalf("browser at %s: %v; page text: %.1500s", url, err, text)
	}
}

func (c *chrome) text(sel string) string {
	c.t.Helper()
	var s string
	c.run(chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

// shoot saves the page at desktop and at phone width, and checks that at
// phone width nothing is wider than the screen (no sideways scrolling).
func (c *chrome) shoot(name string) {
	c.t.Helper()
	var desktop, phone []byte
	var width int64
	c.run(
		chromedp.EmulateViewport(1280, 900),
		chromedp.FullScreenshot(&desktop, 100),
		chromedp.EmulateViewport(phoneWidth, 812, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Sleep(100*time.Millisecond),
		chromedp.Evaluate(`document.documentElement.scrollWidth`, &width),
		chromedp.FullScreenshot(&phone, 100),
		chromedp.EmulateViewport(1280, 900),
	)
	for suffix, b := range map[string][]byte{"desktop": desktop, "phone": phone} {
		if err := os.WriteFile(filepath.Join(c.shots, name+"-"+suffix+".png"), b, 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	if width > phoneWidth+1 {
		c.t.Errorf("%s: the page is %d px wide at a %d px phone screen", name, width, phoneWidth)
	}
	c.Phone = append(c.Phone, name)
}

func (c *chrome) noConsoleErrors() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.console {
		if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception") || strings.HasPrefix(m, "error") {
			c.t.Errorf("browser console: %s", m)
		}
	}
}

// TestBrowserAdminJourney drives Debian's Chromium through what an admin
// and the operator do: register against a Mastodon-faithful fake and see
// the fingerprint; sign in; see a check the API made with its reasons; mark
// it spam; change a threshold and see the next decision change; switch to
// Japanese; and the operator's pages, where the operator dismisses a
// campaign. Every page is photographed at desktop
// and phone width.
func TestBrowserAdminJourney(t *testing.T) {
	c := startChrome(t)
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	u := app.URL

	// Keyboard: the first Tab reaches the skip link.
	var focused string
	c.run(chromedp.Navigate(u+"/"), chromedp.WaitVisible("h1", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Tab), chromedp.Evaluate(`document.activeElement.className`, &focused))
	if focused != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", focused)
	}
	c.shoot("01-landing")

	// Register.
	c.run(chromedp.Navigate(u+"/register"), chromedp.WaitVisible("#f-serverUrl", chromedp.ByQuery))
	c.shoot("02-register")
	c.run(
		chromedp.SendKeys("#f-serverUrl", m.Server.URL, chromedp.ByQuery),
		chromedp.SendKeys("#f-email", "admin@example.org", chromedp.ByQuery),
		chromedp.SendKeys("#f-password", "correct horse battery", chromedp.ByQuery),
		chromedp.Click("#f-acceptTerms", chromedp.ByQuery),
		chromedp.Click(`form[action="/register"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#fingerprint", chromedp.ByQuery),
	)
	p := m.Providers()[0]
	if got, want := strings.TrimSpace(c.text("#fingerprint")), provider.Fingerprint(p.ProviderPublicKey); got != want {
		t.Fatalf("fingerprint shown %q, Mastodon shows %q", got, want)
	}
	c.shoot("03-setup-fingerprint")
	m.Confirm(p)
	app.Activate(t, m, p, "signup_screening", "callback", "content_screening")

	// Checks made through the API.
	spam := screenSignup(t, m, p, signupPayload("zq7x9k2m", true))
	spamID := spam["checkId"].(string)
	reason := spam["reasons"].([]any)[0].(map[string]any)["code"].(string)
	mild := screenSignup(t, m, p, signupPayload("alice", false))
	if mild["decision"] != "allow" {
		t.Fatalf("mild sign-up %v", mild)
	}
	if r := m.Call(t, p, "POST", "/debug/v0/callback/logs", map[string]string{"hello": "from the browser test"}); r.Status != 201 {
		t.Fatalf("debug call %d", r.Status)
	}
	m.WaitCallback(t, 10*time.Second)
	// A second server, and a spam wave across both: a campaign.
	m2 := handlertest.NewMastodon(t)
	_, p2 := app.Register(t, m2)
	app.Activate(t, m2, p2, "content_screening")
	campaignID := textCampaign(t, app, m, p, m2, p2)

	// Sign out, sign in.
	c.run(chromedp.Click("form.signout button", chromedp.ByQuery), chromedp.WaitVisible("#f-email", chromedp.ByQuery))
	c.shoot("04-login")
	c.run(
		chromedp.SendKeys("#f-email", "admin@example.org", chromedp.ByQuery),
		chromedp.SendKeys("#f-password", "correct horse battery", chromedp.ByQuery),
		chromedp.Submit("#f-password", chromedp.ByQuery),
		chromedp.WaitVisible("figure.chart svg", chromedp.ByQuery),
	)
	c.shoot("05-overview")

	// The check log shows the API's check with its reasons.
	c.run(chromedp.Navigate(u+"/admin/checks"), chromedp.WaitVisible(`a[href="/admin/checks/`+spamID+`"]`, chromedp.ByQuery))
	if txt := c.text("ol.checks"); !strings.Contains(txt, reason) {
		t.Errorf("check log lacks the reason %s: %s", reason, txt)
	}
	c.shoot("06-checks")
	c.run(chromedp.Click(`a[href="/admin/checks/`+spamID+`"]`, chromedp.ByQuery), chromedp.WaitVisible("form.feedback button.spam", chromedp.ByQuery),
		chromedp.Click("form.feedback button.spam", chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	var pressed string
	var ok bool
	c.run(chromedp.AttributeValue("form.feedback button.spam", "aria-pressed", &pressed, &ok, chromedp.ByQuery))
	if pressed != "true" {
		t.Errorf("the spam button is not shown as pressed")
	}
	if rec, err := app.Svc.GetCheck(context.Background(), p.ServerID, spamID); err != nil || rec.Feedback == nil || rec.Feedback.Verdict != "spam" {
		t.Fatalf("feedback not recorded: %+v %v", rec, err)
	}
	c.shoot("07-check-marked-spam")

	// Policy: live validation of a bad rule, then a lower threshold.
	c.run(chromedp.Navigate(u+"/admin/policy"), chromedp.WaitVisible("#f-reviewAt", chromedp.ByQuery),
		chromedp.SendKeys(`#f-rule\.0\.pattern`, "(unclosed", chromedp.ByQuery),
		chromedp.Click(`#f-rule\.0\.regex`, chromedp.ByQuery),
		chromedp.SendKeys(`#f-rule\.0\.pattern`, " ", chromedp.ByQuery),
		chromedp.WaitVisible(`p[data-for="rule.0.pattern"]`, chromedp.ByQuery),
	)
	if msg := c.text(`p[data-for="rule.0.pattern"]`); !strings.Contains(msg, "RE2") {
		t.Errorf("live validation says %q", msg)
	}
	c.shoot("08-policy-live-validation")
	c.run(
		chromedp.SendKeys(`#f-rule\.0\.pattern`, strings.Repeat(kb.Backspace, 20), chromedp.ByQuery),
		chromedp.Clear("#f-reviewAt", chromedp.ByQuery),
		chromedp.SendKeys("#f-reviewAt", "5", chromedp.ByQuery),
		chromedp.Click(`#policy-form > button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(".flash", chromedp.ByQuery),
	)
	next := screenSignup(t, m, p, signupPayload("bobby", false))
	if next["decision"] != "review" {
		t.Fatalf("after lowering the review threshold to 5: %v (before: %v)", next, mild)
	}
	c.run(chromedp.Navigate(u+"/admin/checks?decision=review"), chromedp.WaitVisible(`a[href="/admin/checks/`+next["checkId"].(string)+`"]`, chromedp.ByQuery))
	c.shoot("09-checks-review-after-threshold")

	for _, pg := range []struct{ name, path, sel string }{
		{"10-debug", "/admin/debug", "table"},
		{"11-usage", "/admin/usage", "table"},
		{"12a-mastodon", "/admin/mastodon", "h1"},
		{"12b-alerts", "/admin/alerts", "#f-webhookUrl"},
		{"12d-campaigns", "/admin/campaigns", "ol.checks"},
		{"12c-policy", "/admin/policy", "#f-reviewAt"},
	} {
		c.run(chromedp.Navigate(u+pg.path), chromedp.WaitVisible(pg.sel, chromedp.ByQuery))
		c.shoot(pg.name)
	}
	if txt := c.text("ul.signals"); !strings.Contains(txt, "mention_flood") {
		t.Errorf("policy editor lacks the signals: %.200s", txt)
	}

	// Japanese, by the switch.
	c.run(chromedp.Navigate(u+"/admin"), chromedp.WaitVisible(`a[hreflang="ja"]`, chromedp.ByQuery),
		chromedp.Click(`a[hreflang="ja"]`, chromedp.ByQuery), chromedp.WaitVisible(`html[lang="ja"]`, chromedp.ByQuery))
	if h := c.text("h1"); h != "概要" {
		t.Errorf("Japanese overview heading %q", h)
	}
	c.shoot("13-overview-ja")
	c.run(chromedp.Navigate(u+"/admin/checks/"+spamID), chromedp.WaitVisible("form.feedback", chromedp.ByQuery))
	c.shoot("14-check-ja")
	c.run(chromedp.Click(`a[hreflang="en"]`, chromedp.ByQuery), chromedp.WaitVisible(`html[lang="en"]`, chromedp.ByQuery))

	// The operator.
	if err := app.Svc.CreateOperator(context.Background(), "ops@example.org", "operator passphrase"); err != nil {
		t.Fatal(err)
	}
	c.run(chromedp.Click("form.signout button", chromedp.ByQuery), chromedp.WaitVisible("#f-email", chromedp.ByQuery),
		chromedp.SendKeys("#f-email", "ops@example.org", chromedp.ByQuery),
		chromedp.SendKeys("#f-password", "operator passphrase", chromedp.ByQuery),
		chromedp.Submit("#f-password", chromedp.ByQuery),
		chromedp.WaitVisible(`a[href="/operator/servers/`+p.ServerID+`"]`, chromedp.ByQuery))
	c.shoot("15-operator-servers")
	c.run(chromedp.Click(`a[href="/operator/servers/`+p.ServerID+`"]`, chromedp.ByQuery), chromedp.WaitVisible("#f-quota", chromedp.ByQuery),
		chromedp.Clear("#f-quota", chromedp.ByQuery),
		chromedp.SendKeys("#f-quota", "3", chromedp.ByQuery),
		chromedp.Submit("#f-quota", chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	if txt := c.text("dl.facts"); !strings.Contains(txt, "quota used up") {
		t.Errorf("operator does not see the quota used up: %s", txt)
	}
	c.shoot("16-operator-server")
	// The operator dismisses the campaign.
	c.run(chromedp.Navigate(u+"/operator/campaigns"), chromedp.WaitVisible(`a[href="/operator/campaigns/`+campaignID+`"]`, chromedp.ByQuery))
	c.shoot("16a-operator-campaigns")
	c.run(chromedp.Click(`a[href="/operator/campaigns/`+campaignID+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`button[value="dismiss"]`, chromedp.ByQuery))
	c.shoot("16b-operator-campaign")
	c.run(chromedp.Click(`button[value="dismiss"]`, chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	if d, err := app.Svc.GetCampaign(context.Background(), campaignID); err != nil || d.Status != "dismissed" || d.DismissedBy != "ops@example.org" {
		t.Fatalf("campaign after the dismiss button: %+v %v", d, err)
	}
	c.shoot("16c-operator-campaign-dismissed")
	for _, pg := range []struct{ name, path, sel string }{
		{"16d-operator-feed", "/operator/feed", "h1"},
		{"17-operator-usage", "/operator/usage", "table"},
		{"18-operator-health", "/operator/health", "dl.facts"},
		{"19-privacy", "/privacy", "blockquote"},
	} {
		c.run(chromedp.Navigate(u+pg.path), chromedp.WaitVisible(pg.sel, chromedp.ByQuery))
		c.shoot(pg.name)
	}
	c.noConsoleErrors()
	t.Logf("checked at %d px phone width: %s", phoneWidth, strings.Join(c.Phone, ", "))
	fmt.Fprintf(os.Stderr, "browser test screenshots in %s\n", c.shots)
}
