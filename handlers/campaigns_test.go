package handlers_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

const waveText = "You have unclaimed investment credit waiting in your account, claim it today at the quick yield portal before it expires tonight"

// wavePost is post i of a nuke-style wave: a fresh remote account of
// spam.example, ten mentions of strangers, the same text and image.
func wavePost(i int, now time.Time) screening.ContentInput {
	no := false
	var html strings.Builder
	html.WriteString("<p>")
	var mentions []screening.Mention
	for j := 0; j < 10; j++ {
		acct := fmt.Sprintf("victim%d@other.example", (i+j)%40)
		mentions = append(mentions, screening.Mention{Acct: acct, FollowsAuthor: &no})
		fmt.Fprintf(&html, `<span class="h-card"><a href="https://other.example/@victim%d" class="u-url mention">@<span>victim%d</span></a></span> `, (i+j)%40, (i+j)%40)
	}
	html.WriteString(waveText + "</p>")
	occurred := now
	return screening.ContentInput{
		Post: screening.Post{ID: fmt.Sprintf("%d%04d", now.UnixNano(), i), Text: html.String(), Visibility: "public", Mentions: mentions,
			Media: []screening.Media{{SHA256: strings.Repeat("ab", 32), PHash: "f0e1d2c3b4a59687"}}},
		Author:     screening.Author{Acct: fmt.Sprintf("bot%d@spam.example", i), CreatedAt: now.Add(-time.Hour), Local: false},
		OccurredAt: &occurred,
	}
}

type waveAnswer struct {
	CheckID    string `json:"checkId"`
	Decision   string `json:"decision"`
	Score      int    `json:"score"`
	CampaignID string `json:"campaignId"`
	Reasons    []struct {
		Code   string `json:"code"`
		Weight int    `json:"weight"`
	} `json:"reasons"`
}

func (a waveAnswer) has(code string) bool {
	for _, r := range a.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

func postWaveCheck(t *testing.T, m *handlertest.Mastodon, p *handlertest.FaspProvider, in screening.ContentInput) waveAnswer {
	t.Helper()
	r := m.Call(t, p, "POST", "/spam_detection/v0/content_screening/checks", in)
	if r.Status != 200 {
		t.Fatalf("content check: %d %s", r.Status, r.Body)
	}
	var a waveAnswer
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatal(err)
	}
	if (a.CampaignID != "") != a.has("campaign") {
		t.Fatalf("campaignId without a campaign reason or the reverse: %s", r.Body)
	}
	return a
}

type waveServer struct {
	m *handlertest.Mastodon
	p *handlertest.FaspProvider
}

func waveFleet(t *testing.T, app *handlertest.App, n int) []waveServer {
	t.Helper()
	var out []waveServer
	for i := 0; i < n; i++ {
		m := handlertest.NewMastodon(t)
		_, p := app.Register(t, m)
		app.Activate(t, m, p, "signup_screening", "content_screening")
		out = append(out, waveServer{m, p})
	}
	return out
}

// openWaveCampaign sends the wave from the first two servers until a check comes
// back with a campaign, and returns that campaign's id.
func openWaveCampaign(t *testing.T, fl []waveServer) string {
	t.Helper()
	for i := 0; i < 8; i++ {
		f := fl[i%2]
		if a := postWaveCheck(t, f.m, f.p, wavePost(i, time.Now())); a.CampaignID != "" {
			if i < 3 {
				t.Fatalf("campaign after %d posts, before the threshold", i+1)
			}
			return a.CampaignID
		}
	}
	t.Fatal("no campaign after 8 posts of the same text and image from fresh accounts on two servers")
	return ""
}

// TestCampaignAcrossServers: a wave seen on two servers opens a campaign that
// then rejects the wave on a third server that never saw it; the operator
// confirms it, the feed lists the origin (signed JSON and public CSV), and a
// dismissal stops it.
func TestCampaignAcrossServers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app := handlertest.NewApp(t, tg, handlertest.Config{})
		fl := waveFleet(t, app, 3)
		ctx := context.Background()
		id := openWaveCampaign(t, fl)

		first := postWaveCheck(t, fl[2].m, fl[2].p, wavePost(100, time.Now()))
		if first.CampaignID != id || first.Decision != "reject" {
			t.Fatalf("third server's first spam post: %+v", first)
		}
		g := fl[2].m.Call(t, fl[2].p, "GET", "/spam_detection/v0/checks/"+first.CheckID, nil)
		if !strings.Contains(string(g.Body), `"campaignId":"`+id+`"`) {
			t.Fatalf("stored check without its campaign: %s", g.Body)
		}
		// An ordinary post of an established local account is untouched.
		ord := wavePost(101, time.Now())
		ord.Post.Text, ord.Post.Mentions, ord.Post.Media = "<p>Lovely sourdough today, the crumb came out just right after two days</p>", []screening.Mention{}, nil
		ord.Author = screening.Author{Acct: "baker", CreatedAt: time.Now().AddDate(-2, 0, 0), Local: true}
		if a := postWaveCheck(t, fl[2].m, fl[2].p, ord); a.CampaignID != "" || a.Decision != "allow" {
			t.Fatalf("ordinary post: %+v", a)
		}

		app.Svc.FlushCampaigns(ctx)
		d, err := app.Svc.GetCampaign(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != "active" || d.Servers != 3 || d.Hits < 5 || len(d.Sources) != 1 || d.Sources[0] != "spam.example" {
			t.Fatalf("campaign = %+v", d.CampaignSummary)
		}
		mine, err := app.Svc.CampaignsForServer(ctx, fl[2].p.ServerID)
		if err != nil || len(mine) != 1 || mine[0].OnThisServer.Hits != 1 || mine[0].Servers != 0 || len(mine[0].OnThisServer.SampleChecks) != 1 {
			t.Fatalf("third server's view = %+v %v", mine, err)
		}

		// Not confirmed yet: the feed is empty.
		feed := func() string {
			r := fl[0].m.Call(t, fl[0].p, "GET", "/spam_detection/v0/servers?t="+strconv.FormatInt(time.Now().UnixNano(), 10), nil)
			if r.Status != 200 {
				t.Fatalf("feed: %d %s", r.Status, r.Body)
			}
			if err := specSchemas(t)["servers-response.json"].Validate(decodeAny(t, r.Body)); err != nil {
				t.Fatalf("feed breaks the schema: %v\n%s", err, r.Body)
			}
			return strings.TrimSpace(string(r.Body))
		}
		if f := feed(); f != `{"servers":[]}` {
			t.Fatalf("unconfirmed campaign in the feed: %s", f)
		}
		if _, err := app.Svc.CampaignAction(ctx, id, "confirm", "ops@breakwater.test"); err != nil {
			t.Fatal(err)
		}
		f := feed()
		if !strings.Contains(f, `"domain":"spam.example","severity":"silence","campaigns":["`+id+`"]`) {
			t.Fatalf("feed = %s", f)
		}

		// The public CSV: Mastodon's import format, cacheable.
		resp, err := http.Get(app.URL + "/feeds/servers.csv")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || etag == "" ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
			t.Fatalf("csv: %d %v", resp.StatusCode, resp.Header)
		}
		want := "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\nspam.example,silence,true,false,Emitting spam campaign " + id + " (mass-mention posts with an image),false\n"
		if string(body) != want {
			t.Fatalf("csv =\n%s\nwant\n%s", body, want)
		}
		req, _ := http.NewRequest("GET", app.URL+"/feeds/servers.csv", nil)
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("revalidation: %d", resp.StatusCode)
		}

		// A server with only the debug capability may not read the feed.
		m4 := handlertest.NewMastodon(t)
		_, p4 := app.Register(t, m4)
		app.Activate(t, m4, p4, "callback")
		if r := m4.Call(t, p4, "GET", "/spam_detection/v0/servers", nil); r.Status != 403 || !strings.Contains(string(r.Body), "capability_inactive") {
			t.Fatalf("feed without a screening capability: %d %s", r.Status, r.Body)
		}

		// Dismissed: no campaign on later posts, nothing in the feed, and
		// the same wave does not open it again.
		if _, err := app.Svc.CampaignAction(ctx, id, "dismiss", "ops@breakwater.test"); err != nil {
			t.Fatal(err)
		}
		for i := 200; i < 210; i++ {
			f := fl[i%3]
			if a := postWaveCheck(t, f.m, f.p, wavePost(i, time.Now())); a.CampaignID != "" {
				t.Fatalf("dismissed pattern still applied or re-opened: %+v", a)
			}
		}
		if f := feed(); f != `{"servers":[]}` {
			t.Fatalf("dismissed campaign in the feed: %s", f)
		}
		list, err := app.Svc.ListCampaigns(ctx, provider.CampaignFilter{})
		if err != nil || len(list) != 1 || list[0].Status != "dismissed" {
			t.Fatalf("campaigns = %+v %v", list, err)
		}
		if _, err := app.Svc.CampaignAction(ctx, id, "destroy", "ops"); err == nil {
			t.Fatal("unknown action accepted")
		}
	})
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// alertSink answers 503 to the first failures requests, then 204, and
// verifies each request's signature with the provider's key for the server.
type alertSink struct {
	srv      *httptest.Server
	failures int32
	calls    atomic.Int32
	mu       sync.Mutex
	bodies   [][]byte
	bad      []string
}

func newAlertSink(t *testing.T, failures int32, faspID string, pub ed25519.PublicKey) *alertSink {
	w := &alertSink{failures: failures}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := w.calls.Add(1)
		lookup := func(keyID string) ([]ed25519.PublicKey, error) {
			if keyID != faspID {
				return nil, msgsig.ErrUnknownKey
			}
			return []ed25519.PublicKey{pub}, nil
		}
		_, err := msgsig.VerifyRequest(r, "http://"+r.Host+r.URL.RequestURI(), body, lookup, msgsig.VerifyOptions{})
		w.mu.Lock()
		if err != nil {
			w.bad = append(w.bad, err.Error())
		}
		if n > w.failures {
			w.bodies = append(w.bodies, body)
		}
		w.mu.Unlock()
		if n <= w.failures {
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// TestCampaignAlerts: opening a campaign alerts the affected servers' admins
// by signed webhook (retried with backoff after failures) and by e-mail
// through SMTP; alerts are recorded once and rate-limited.
func TestCampaignAlerts(t *testing.T) {
	smtp := newSMTPServer(t)
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{Provider: func(o *provider.Options) {
		o.SMTPURL, o.SMTPFrom = smtp.URL(), "breakwater@breakwater.test"
		o.Campaigns.AlertBackoff = 50 * time.Millisecond
		o.Campaigns.AlertsPerHour = 4
	}})
	fl := waveFleet(t, app, 2)
	ctx := context.Background()
	p0 := fl[0].p
	sink := newAlertSink(t, 2, strconv.Itoa(p0.ID), p0.ProviderPublicKey)
	if _, err := app.Svc.SetAlertSettings(ctx, p0.ServerID, provider.AlertSettings{WebhookURL: sink.srv.URL + "/hooks/breakwater", Email: "mods@one.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Svc.SetAlertSettings(ctx, p0.ServerID, provider.AlertSettings{WebhookURL: "ftp://x.example/"}); err == nil {
		t.Fatal("a non-http webhook URL was accepted")
	}
	id := openWaveCampaign(t, fl)

	// The webhook: two failures, then delivered on the third attempt.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if sink.calls.Load() >= 3 {
			break
		}
		app.Svc.DeliverAlerts(ctx)
		time.Sleep(20 * time.Millisecond)
	}
	sink.mu.Lock()
	bad, bodies := sink.bad, sink.bodies
	sink.mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("webhook signatures do not verify: %v", bad)
	}
	if len(bodies) != 1 {
		t.Fatalf("webhook calls %d, delivered bodies %d", sink.calls.Load(), len(bodies))
	}
	var got provider.AlertPayload
	if err := json.Unmarshal(bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "campaign" || got.Campaign == nil || got.Campaign.ID != id || got.Since.IsZero() || len(got.Actions) == 0 ||
		len(got.CheckIDs) == 0 || got.Seen == "" || strings.Contains(string(bodies[0]), "@spam.example") {
		t.Fatalf("alert = %s", bodies[0])
	}

	// The e-mail, to the configured address.
	mail := smtp.wait(t)
	if mail.To != "mods@one.example" || !strings.Contains(mail.Msg.Header.Get("Subject"), id) ||
		!strings.Contains(mail.Body, "What to do") || !strings.Contains(mail.Body, "Since:") {
		t.Fatalf("e-mail to %s: %s\n%s", mail.To, mail.Msg.Header.Get("Subject"), mail.Body)
	}

	recs, err := app.Svc.Alerts(ctx, p0.ServerID, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("alerts = %+v %v", recs, err)
	}
	for _, d := range recs[0].Deliveries {
		if d.Status != "delivered" {
			t.Fatalf("delivery %+v", d)
		}
		if d.Channel == "webhook" && (d.Attempts != 3 || d.LastStatus != 204) {
			t.Fatalf("webhook delivery %+v", d)
		}
	}
	// More of the wave: still one campaign alert for this server.
	for i := 50; i < 54; i++ {
		postWaveCheck(t, fl[0].m, fl[0].p, wavePost(i, time.Now()))
	}
	if recs, _ := app.Svc.Alerts(ctx, p0.ServerID, 10); len(recs) != 1 {
		t.Fatalf("campaign alerted %d times", len(recs))
	}
	// Rate limit: at most 4 alerts an hour, test alerts included.
	sent := 0
	for i := 0; i < 6; i++ {
		if aid, err := app.Svc.TestAlert(ctx, p0.ServerID); err != nil {
			t.Fatal(err)
		} else if aid != "" {
			sent++
		}
	}
	if sent != 3 {
		t.Fatalf("test alerts recorded = %d, want 3 (4 an hour, one campaign alert already)", sent)
	}
	// The other server got its campaign alert too, by e-mail to nobody
	// (no admin accounts, no contact address): recorded, no deliveries.
	if recs, _ := app.Svc.Alerts(ctx, fl[1].p.ServerID, 10); len(recs) != 1 || recs[0].Type != "campaign" {
		t.Fatalf("second server's alerts = %+v", recs)
	}
}

// offsetClock is real time plus an offset the test moves forward, so that
// signed requests stay fresh while campaigns age.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// TestCampaignExpires: 14 quiet days end a campaign; extending revives it.
func TestCampaignExpires(t *testing.T) {
	clk := &offsetClock{}
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{
		Provider: func(o *provider.Options) { o.Now = clk.Now },
		Engine:   func(o *screening.Options) { o.Now = clk.Now },
	})
	fl := waveFleet(t, app, 2)
	ctx := context.Background()
	id := openWaveCampaign(t, fl)
	app.Svc.FlushCampaigns(ctx)

	clk.advance(14*24*time.Hour + time.Hour)
	app.Svc.ExpireCampaignsNow(ctx)
	d, err := app.Svc.GetCampaign(ctx, id)
	if err != nil || d.Status != "expired" {
		t.Fatalf("after 14 quiet days: %+v %v", d, err)
	}
	res, err := app.Svc.ScreenContentFor(ctx, fl[0].p.ServerID, wavePost(300, clk.Now()))
	if err != nil || res.CampaignID == id {
		t.Fatalf("expired campaign applied: %+v %v", res, err)
	}
	if _, err := app.Svc.CampaignAction(ctx, id, "extend", "ops"); err != nil {
		t.Fatal(err)
	}
	res, err = app.Svc.ScreenContentFor(ctx, fl[0].p.ServerID, wavePost(301, clk.Now()))
	if err != nil || res.CampaignID != id {
		t.Fatalf("extended campaign not applied: %+v %v", res, err)
	}
}

// TestCampaignReplicas: a campaign opened on one replica applies on another
// within a second (PostgreSQL LISTEN/NOTIFY).
func TestCampaignReplicas(t *testing.T) {
	tg := testdb.Postgres(t)
	withPG := handlertest.Config{Provider: func(o *provider.Options) { o.DatabaseURL = tg.URL }}
	a := handlertest.NewApp(t, tg, withPG)
	b := handlertest.NewApp(t, tg, withPG)
	fl := waveFleet(t, a, 2)
	ctx := context.Background()
	id := openWaveCampaign(t, fl)
	opened := time.Now()
	for i := 0; ; i++ {
		res, err := b.Svc.ScreenContentFor(ctx, fl[1].p.ServerID, wavePost(400+i, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		if res.CampaignID == id {
			t.Logf("applied on the other replica after %v", time.Since(opened).Round(time.Millisecond))
			break
		}
		if time.Since(opened) > time.Second {
			t.Fatalf("campaign %s not applied on the other replica within 1s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// An operator's dismissal on b reaches a within a second too.
	if _, err := b.Svc.CampaignAction(ctx, id, "dismiss", "ops"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		res, _ := a.Svc.ScreenContentFor(ctx, fl[0].p.ServerID, wavePost(500, time.Now()))
		if res != nil && res.CampaignID == "" {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("dismissal not applied on the other replica within 1s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
