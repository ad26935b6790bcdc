package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
)

// uiSpamPost is a post from a ten-minute-old account that mentions strangers
// and links out: the kind a wave is made of.
func uiSpamPost(acct string) map[string]any {
	var mentions []map[string]any
	for i := 0; i < 8; i++ {
		mentions = append(mentions, map[string]any{"acct": fmt.Sprintf("victim%d@elsewhere.example", i), "followsAuthor": false})
	}
	return map[string]any{
		"post": map[string]any{"text": "<p>Claim your free crypto airdrop today, only a few spots left! https://airdrop-claim.example/now</p>",
			"visibility": "public", "mentions": mentions, "links": []string{"https://airdrop-claim.example/now"}},
		"author": map[string]any{"acct": acct, "createdAt": time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339), "local": true,
			"followers": 0, "following": 3, "statuses": 1},
	}
}

// textCampaign makes the same spam text arrive from three new accounts on
// two servers, which opens a text campaign, and returns its id.
func textCampaign(t testing.TB, app *uiApp, ma *handlertest.Mastodon, pa *handlertest.FaspProvider, mb *handlertest.Mastodon, pb *handlertest.FaspProvider) string {
	t.Helper()
	for i, call := range []struct {
		m *handlertest.Mastodon
		p *handlertest.FaspProvider
	}{{ma, pa}, {ma, pa}, {mb, pb}, {mb, pb}} {
		r := call.m.Call(t, call.p, "POST", "/spam_detection/v0/content_screening/checks", uiSpamPost(fmt.Sprintf("wave%d", i)))
		if r.Status != 200 {
			t.Fatalf("content check: %d %s", r.Status, r.Body)
		}
	}
	app.Svc.FlushCampaigns(context.Background())
	list, err := app.Svc.ListCampaigns(context.Background(), provider.CampaignFilter{})
	if err != nil || len(list) == 0 {
		t.Fatalf("no campaign opened: %v %v", list, err)
	}
	return list[0].ID
}

// TestWebCampaigns: the operator sees a campaign across servers and
// dismisses it; each admin sees only their own server's share of it.
func TestWebCampaigns(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app := newUIApp(t, tg, uiOptions{})
		ma, mb, mc := handlertest.NewMastodon(t), handlertest.NewMastodon(t), handlertest.NewMastodon(t)
		a, pa := registerServer(t, app, ma, "a@example.org", "content_screening")
		_, pb := registerServer(t, app, mb, "b@example.org", "content_screening")
		c, _ := registerServer(t, app, mc, "c@example.org", "content_screening")
		id := textCampaign(t, app, ma, pa, mb, pb)

		a.get("/admin/campaigns").want(200).contains("Here: 2 checks").lacks(pb.ServerID)
		c.get("/admin/campaigns").want(200).contains("No network-wide campaign has reached this server.")

		op := newOperator(t, app)
		op.get("/operator/campaigns").want(200).contains("/operator/campaigns/" + id)
		op.get("/operator/campaigns?status=dismissed").want(200).lacks("/operator/campaigns/" + id)
		op.get("/operator/campaigns?status=bogus").want(http.StatusUnprocessableEntity)
		op.get("/operator/campaigns/"+id).want(200).contains(pa.ServerID, pb.ServerID, `value="dismiss"`)
		op.post("/operator/campaigns/"+id+"/action", url.Values{"action": {"dismiss"}}).wantRedirect("/operator/campaigns/" + id)
		op.follow().want(200).contains("The campaign is dismissed", "ops@example.org").lacks(`value="dismiss"`)
		d, err := app.Svc.GetCampaign(context.Background(), id)
		if err != nil || d.Status != "dismissed" {
			t.Fatalf("after dismiss: %+v %v", d, err)
		}
		op.post("/operator/campaigns/"+id+"/action", url.Values{"action": {"explode"}}).want(http.StatusUnprocessableEntity)
		op.get("/operator/campaigns/nonexistent").want(http.StatusNotFound)
		op.get("/operator/feed").want(200)
		a.get("/operator/campaigns").want(http.StatusNotFound)
	})
}

// TestWebAlerts stores where alerts go, refuses a bad webhook address next
// to its field, and delivers a test alert to the webhook.
func TestWebAlerts(t *testing.T) {
	got := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("Signature-Input") + "\n" + string(b)
		w.WriteHeader(204)
	}))
	t.Cleanup(hook.Close)
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	b, _ := registerServer(t, app, m, "admin@example.org")
	b.get("/admin/alerts").want(200).contains(`name="webhookUrl"`, "No alerts yet.")
	b.post("/admin/alerts", url.Values{"webhookUrl": {"ftp://example.org/x"}, "email": {"ops@example.org"}}).
		want(http.StatusUnprocessableEntity).contains(`id="e-webhookUrl"`, `value="ops@example.org"`)
	b.post("/admin/alerts", url.Values{"webhookUrl": {hook.URL + "/alerts"}, "email": {""}}).wantRedirect("/admin/alerts")
	b.follow().want(200).contains("Alert settings saved", hook.URL+"/alerts")
	b.post("/admin/alerts/test", nil).wantRedirect("/admin/alerts")
	app.Svc.DeliverAlerts(context.Background())
	select {
	case body := <-got:
		if !strings.Contains(body, `"type":"test"`) || !strings.HasPrefix(body, "sig") {
			t.Errorf("webhook got %q", body)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the test alert did not reach the webhook")
	}
	b.get("/admin/alerts").want(200).contains("Test alert", "Webhook")
}
