package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

var fullScopes = []string{"admin:read:accounts", "admin:write:accounts", "write:reports"}

// mastodonPolicy makes decisions predictable: server rules that push a
// sign-up reason or a post over the reject or review threshold, and a
// trust rule that keeps the ordinary ones clear of any signal.
func mastodonPolicy(t *testing.T, app *handlertest.App, serverID string) {
	t.Helper()
	p := screening.DefaultPolicy()
	p.Rules = []screening.Rule{
		{ID: "followers", Pattern: "cheap followers", Gate: screening.GateSignup, Weight: 100},
		{ID: "curious", Pattern: "crypto curious", Gate: screening.GateSignup, Weight: 75},
		{ID: "prize", Pattern: "claim your prize", Gate: screening.GateContent, Weight: 100},
		{ID: "giveaway", Pattern: "token giveaway", Gate: screening.GateContent, Weight: 45}, // + new_account: review
		{ID: "bakers", Pattern: "bakery", Weight: -60},
	}
	if _, err := app.Svc.SetPolicy(context.Background(), serverID, p); err != nil {
		t.Fatalf("set policy: %v", err)
	}
}

// connectMastodon registers the fake with the app (FASP), connects its
// Admin API with a token, and creates the webhook the way an admin does on
// Mastodon: Mastodon generates the secret, the admin copies it into
// Breakwater.
func connectMastodon(t *testing.T, app *handlertest.App, m *handlertest.MastodonAdmin, settings provider.MastodonSettings) (string, *provider.MastodonSetup) {
	t.Helper()
	ctx := context.Background()
	reg, _ := app.Register(t, m.Mastodon)
	mastodonPolicy(t, app, reg.ServerID)
	m.AddToken("tok-moderator", true, fullScopes...)
	setup, err := app.Svc.ConnectMastodon(ctx, reg.ServerID, provider.MastodonConnectInput{
		APIURL: m.Server.URL, Token: "tok-moderator", Settings: settings})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if want := app.URL + "/webhooks/mastodon/" + reg.ServerID; setup.WebhookURL != want {
		t.Fatalf("webhook URL %q, want %q", setup.WebhookURL, want)
	}
	secret := m.AddWebhook(setup.WebhookURL, "", setup.Events...)
	if err := app.Svc.SetMastodonWebhookSecret(ctx, reg.ServerID, secret); err != nil {
		t.Fatalf("set webhook secret: %v", err)
	}
	return reg.ServerID, setup
}

// deliver sends every queued delivery once and checks each answer.
func deliver(t *testing.T, m *handlertest.MastodonAdmin, want ...int) {
	t.Helper()
	for _, d := range m.Outbox() {
		if d.Done && len(want) == 1 && want[0] == 202 {
			continue
		}
		got := m.Send(t, d)
		ok := false
		for _, w := range want {
			ok = ok || got == w
		}
		if !ok {
			t.Fatalf("delivery of %s answered %d, want %v", d.Event, got, want)
		}
	}
}

// waitIdle waits until the worker has processed every event and taken (or
// given up) every action; watches stay open by design.
func waitIdle(t *testing.T, app *handlertest.App, serverID string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var events, actions int64
		app.DB.WithContext(ctx).Model(&models.MastodonEvent{}).Where("server_id = ? AND state = ?", serverID, models.MastodonPending).Count(&events)
		app.DB.WithContext(ctx).Model(&models.MastodonAction{}).Where("server_id = ? AND state = ? AND kind <> ?", serverID, models.MastodonPending, models.ActionWatch).Count(&actions)
		if events == 0 && actions == 0 {
			return
		}
		if time.Now().After(deadline) {
			st, _ := app.Svc.MastodonStatus(ctx, serverID)
			t.Fatalf("worker still busy: %d events, %d actions pending; status %+v", events, actions, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eventCheck returns the check an event of this object was screened into.
func eventCheck(t *testing.T, app *handlertest.App, serverID, eventType, objectID string) (checkID, decision string) {
	t.Helper()
	var e models.MastodonEvent
	if err := app.DB.Where("server_id = ? AND event_type = ? AND object_id = ?", serverID, eventType, objectID).Take(&e).Error; err != nil {
		t.Fatalf("no %s event for %s: %v", eventType, objectID, err)
	}
	if e.CheckID == "" {
		t.Fatalf("%s event for %s has no check (%s: %s)", eventType, objectID, e.State, e.Outcome)
	}
	return e.CheckID, e.Decision
}

func verdict(t *testing.T, app *handlertest.App, serverID, checkID string) string {
	t.Helper()
	rec, err := app.Svc.GetCheck(context.Background(), serverID, checkID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Feedback == nil {
		return ""
	}
	return rec.Feedback.Verdict
}

// succeeded counts the answered calls to "METHOD /path" with a 2xx.
func succeeded(m *handlertest.MastodonAdmin, methodPath string) int {
	n := 0
	for _, c := range m.Calls(methodPath) {
		if c.Method+" "+c.Path == methodPath && c.Status/100 == 2 {
			n++
		}
	}
	return n
}

// TestMastodonEndToEnd runs a Mastodon admin's whole day against the fake:
// connect, webhook deliveries (each delivered twice, as Mastodon's retries
// do, and Breakwater restarted in the middle), the decisions and the Admin
// API calls they cause (each exactly once, a 503 retried), and moderators'
// outcomes turned into feedback.
func TestMastodonEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		app := handlertest.NewApp(t, tg, handlertest.Config{})
		m := handlertest.NewMastodonAdmin(t)
		sid, setup := connectMastodon(t, app, m, provider.MastodonSettings{})
		if len(setup.WebhookSecret) != 40 || setup.Settings.PostReject != "report" || setup.State != models.MastodonActive {
			t.Fatalf("setup %+v", setup)
		}

		// Sign-ups in approval mode.
		alice := m.SignUp(handlertest.FakeAccount{Username: "alice", Email: "alice@mail.example", IP: "198.51.100.20",
			Locale: "en", InviteRequest: "I run the local bakery and want to meet neighbours", Confirmed: true})
		spammer := m.SignUp(handlertest.FakeAccount{Username: "promo4u", Email: "promo4u@mail.example", IP: "203.0.113.50",
			Locale: "en", InviteRequest: "buy cheap followers at my site", Confirmed: true})
		heldRejected := m.SignUp(handlertest.FakeAccount{Username: "kim", Email: "kim@mail.example", IP: "192.0.2.77",
			Locale: "en", InviteRequest: "crypto curious, want to learn", Confirmed: true})
		m.FailNext("POST /api/v1/admin/accounts/"+alice.ID+"/approve", 503)

		deliver(t, m, 202)
		deliver(t, m, 200) // Mastodon retried: duplicates are acknowledged, not stored again

		// Restart Breakwater in the middle. A sign-up made while it is down
		// cannot be delivered; Mastodon's retry brings it after the restart.
		oldURL := app.URL
		app.Stop(t)
		heldApproved := m.SignUp(handlertest.FakeAccount{Username: "sam", Email: "sam@mail.example", IP: "192.0.2.78",
			Locale: "de", InviteRequest: "crypto curious researcher", Confirmed: true})
		down := m.Outbox()[len(m.Outbox())-1]
		if status := m.Send(t, down); status != 0 || down.Done {
			t.Fatalf("delivery while Breakwater is down: %d", status)
		}
		app = handlertest.NewApp(t, tg, handlertest.Config{})
		m.MoveWebhooks(oldURL, app.URL)
		if status := m.Send(t, down); status != 202 {
			t.Fatalf("retried delivery after the restart: %d", status)
		}
		deliver(t, m, 200)
		waitIdle(t, app, sid)

		for _, tc := range []struct {
			acc      *handlertest.FakeAccount
			decision string
		}{{alice, "allow"}, {spammer, "reject"}, {heldRejected, "review"}, {heldApproved, "review"}} {
			if _, d := eventCheck(t, app, sid, "account.created", tc.acc.ID); d != tc.decision {
				t.Errorf("%s: decision %s, want %s", tc.acc.Username, d, tc.decision)
			}
		}
		if n := succeeded(m, "POST /api/v1/admin/accounts/"+alice.ID+"/approve"); n != 1 {
			t.Errorf("alice approved %d times, want once (after a 503)", n)
		}
		if n := len(m.Calls("POST /api/v1/admin/accounts/" + alice.ID + "/approve")); n != 2 {
			t.Errorf("%d approve attempts for alice, want 2 (503, then success)", n)
		}
		if n := succeeded(m, "POST /api/v1/admin/accounts/"+spammer.ID+"/reject"); n != 1 {
			t.Errorf("spammer rejected %d times, want once", n)
		}
		if !m.Account(alice.ID).Approved || !m.Account(spammer.ID).Deleted {
			t.Error("Mastodon's state does not reflect the decisions")
		}
		if m.Account(heldRejected.ID).Approved || m.Account(heldApproved.ID).Approved {
			t.Error("a held sign-up was approved")
		}
		reportOn := func(accountID string) []handlertest.FakeReport {
			var out []handlertest.FakeReport
			for _, r := range m.Reports() {
				if r.TargetAccountID == accountID {
					out = append(out, r)
				}
			}
			return out
		}
		for _, held := range []*handlertest.FakeAccount{heldRejected, heldApproved} {
			rs := reportOn(held.ID)
			if len(rs) != 1 || rs[0].Category != "spam" || !strings.Contains(rs[0].Comment, "Breakwater: review") {
				t.Errorf("reports on held %s: %+v", held.Username, rs)
			}
		}
		if calls := m.Calls("POST /api/v1/reports"); len(calls) != 2 {
			t.Errorf("%d reports filed, want 2", len(calls))
		}

		// Posts by alice, now approved.
		clean := m.Post(handlertest.FakeStatus{AccountID: alice.ID, Content: "<p>Fresh sourdough from the bakery today</p>", Language: "en"})
		spam := m.Post(handlertest.FakeStatus{AccountID: alice.ID, Content: "<p>claim your prize at https://prize.example/now</p>", Language: "en",
			Mentions: []string{"bob@other.example"}, Media: []handlertest.FakeMedia{{Type: "image", URL: m.Server.URL + "/system/media/original/a.png",
				Blurhash: "UTQcbkVY%gIU8w8_%Mxu%2Rjayt7.8?bMxRj", Width: 1009, Height: 200}}})
		deliver(t, m, 202, 200)
		deliver(t, m, 200)
		waitIdle(t, app, sid)
		if _, d := eventCheck(t, app, sid, "status.created", clean.ID); d != "allow" {
			t.Errorf("clean post: %s", d)
		}
		spamCheck, d := eventCheck(t, app, sid, "status.created", spam.ID)
		if d != "reject" {
			t.Errorf("spam post: %s", d)
		}
		// REST::Account rounds created_at to midnight; the sign-up Breakwater
		// received minutes ago is the better age.
		rec, err := app.Svc.GetCheck(ctx, sid, spamCheck)
		if err != nil {
			t.Fatal(err)
		}
		young := false
		for _, r := range rec.Reasons {
			young = young || (r.Code == "new_account" && strings.Contains(r.Message, "less than an hour"))
		}
		if !young {
			t.Errorf("the post's author is not seen as less than an hour old: %+v", rec.Reasons)
		}
		spamReports := reportOn(alice.ID)
		if len(spamReports) != 1 || len(spamReports[0].StatusIDs) != 1 || spamReports[0].StatusIDs[0] != spam.ID {
			t.Fatalf("reports on the spam post: %+v", spamReports)
		}
		if m.Account(alice.ID).Suspended {
			t.Error("the default for a rejected post is a report, not a suspension")
		}

		// Moderators decide; Mastodon tells Breakwater (or Breakwater asks).
		m.ResolveReport(spamReports[0].ID, "suspend")
		m.ModeratorApprove(heldApproved.ID)
		m.ResolveReport(reportOn(heldApproved.ID)[0].ID, "")
		m.ModeratorReject(heldRejected.ID)
		deliver(t, m, 202, 200)
		deliver(t, m, 200)
		waitIdle(t, app, sid)
		if err := app.Svc.PollMastodonOutcomes(ctx, sid); err != nil {
			t.Fatal(err)
		}

		if v := verdict(t, app, sid, spamCheck); v != "spam" {
			t.Errorf("spam post feedback %q, want spam (report resolved with a suspension)", v)
		}
		approvedCheck, _ := eventCheck(t, app, sid, "account.created", heldApproved.ID)
		if v := verdict(t, app, sid, approvedCheck); v != "ham" {
			t.Errorf("approved held sign-up feedback %q, want ham", v)
		}
		rejectedCheck, _ := eventCheck(t, app, sid, "account.created", heldRejected.ID)
		if v := verdict(t, app, sid, rejectedCheck); v != "spam" {
			t.Errorf("rejected held sign-up feedback %q, want spam (found by polling)", v)
		}
		aliceCheck, _ := eventCheck(t, app, sid, "account.created", alice.ID)
		if v := verdict(t, app, sid, aliceCheck); v != "" {
			t.Errorf("alice's check got feedback %q though Breakwater approved her itself", v)
		}
		var watches int64
		app.DB.Model(&models.MastodonAction{}).Where("server_id = ? AND kind = ? AND state = ?", sid, models.ActionWatch, models.MastodonPending).Count(&watches)
		if watches != 0 {
			t.Errorf("%d watches still open after both held sign-ups were decided", watches)
		}

		// Nothing was done twice, across duplicates and the restart.
		for _, c := range m.Calls("POST ") {
			if c.Status/100 != 2 && !(c.Status == 503 && strings.HasSuffix(c.Path, "/approve")) {
				t.Errorf("unexpected failed call %s %s: %d", c.Method, c.Path, c.Status)
			}
		}
		var dup int64
		app.DB.Raw("SELECT COUNT(*) FROM (SELECT event_id, kind FROM mastodon_actions GROUP BY event_id, kind HAVING COUNT(*) > 1) d").Scan(&dup)
		if dup != 0 {
			t.Errorf("%d duplicated actions", dup)
		}
		st, err := app.Svc.MastodonStatus(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		if st.Events["pending"] != 0 || st.Events["failed"] != 0 || st.Actions["failed"] != 0 {
			t.Errorf("status %+v", st)
		}
		var payloads int64
		app.DB.Model(&models.MastodonEvent{}).Where("server_id = ? AND payload <> ''", sid).Count(&payloads)
		if payloads != 0 {
			t.Errorf("%d processed events kept their payload (e-mails, IPs)", payloads)
		}
		if logs := app.Logs.String(); strings.Contains(logs, "alice@mail.example") || strings.Contains(logs, "198.51.100.20") || strings.Contains(logs, "tok-moderator") {
			t.Error("the logs contain an e-mail address, an IP address or the access token")
		}
	})
}
