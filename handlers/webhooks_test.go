package handlers_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/mastodon"
)

func postWebhook(t *testing.T, url string, header map[string]string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func hubSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// TestMastodonWebhookAuthentication drives the webhook endpoint through the
// real router: every refused signature is a 401 JSON error with its cause,
// and nothing is stored before the signature checks out.
func TestMastodonWebhookAuthentication(t *testing.T) {
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	m := handlertest.NewMastodonAdmin(t)
	sid, setup := connectMastodon(t, app, m, provider.MastodonSettings{})
	const secret = "0123456789abcdef0123456789abcdef01234567"
	if err := app.Svc.SetMastodonWebhookSecret(context.Background(), sid, secret); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"event":"account.created","created_at":"2025-03-14T09:26:53.412Z","object":{"id":"110000000000000123","username":"x","email":"x@mail.example","ip":"192.0.2.1","approved":false,"created_at":"2025-03-14T09:26:53.000Z"}}`)
	good := hubSignature(secret, body)

	tests := []struct {
		name   string
		url    string
		sig    string
		body   []byte
		status int
		code   string
	}{
		{"missing signature", setup.WebhookURL, "", body, 401, "missing_webhook_signature"},
		{"wrong signature", setup.WebhookURL, hubSignature("another-secret-xyz", body), body, 401, "bad_webhook_signature"},
		{"truncated signature", setup.WebhookURL, good[:len(good)-8], body, 401, "bad_webhook_signature"},
		{"wrong algorithm prefix", setup.WebhookURL, "sha1=" + strings.TrimPrefix(good, "sha256="), body, 401, "bad_webhook_signature"},
		{"sha512 prefix", setup.WebhookURL, "sha512=" + strings.TrimPrefix(good, "sha256="), body, 401, "bad_webhook_signature"},
		{"body altered after signing", setup.WebhookURL, good, bytes.Replace(body, []byte(`"x"`), []byte(`"y"`), 1), 401, "bad_webhook_signature"},
		{"unknown server", app.URL + "/webhooks/mastodon/01jnosuchserver0000000000", good, body, 404, "not_found"},
		{"accepted", setup.WebhookURL, good, body, 202, ""},
		{"Mastodon's retry", setup.WebhookURL, good, body, 200, ""},
		{"ignored event, signed", setup.WebhookURL, hubSignature(secret, []byte(`{"event":"account.updated","object":{"id":"1"}}`)),
			[]byte(`{"event":"account.updated","object":{"id":"1"}}`), 204, ""},
		{"ignored event, unsigned", setup.WebhookURL, "", []byte(`{"event":"account.updated","object":{"id":"1"}}`), 401, "missing_webhook_signature"},
		{"custom payload template", setup.WebhookURL, hubSignature(secret, []byte(`New sign-up: x`)), []byte(`New sign-up: x`), 422, "invalid_field"},
		{"object without id", setup.WebhookURL, hubSignature(secret, []byte(`{"event":"status.created","object":{}}`)),
			[]byte(`{"event":"status.created","object":{}}`), 422, "invalid_field"},
		{"empty body", setup.WebhookURL, hubSignature(secret, nil), nil, 422, "invalid_field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.sig != "" {
				h["X-Hub-Signature"] = tc.sig
			}
			status, out := postWebhook(t, tc.url, h, tc.body)
			if status != tc.status {
				t.Fatalf("status %d (%v), want %d", status, out, tc.status)
			}
			if tc.code != "" && out["error"] != tc.code {
				t.Errorf("error %v, want %s", out["error"], tc.code)
			}
			if status >= 400 && out["message"] == "" {
				t.Errorf("error without a message: %v", out)
			}
		})
	}
	var n int64
	app.DB.Model(&models.MastodonEvent{}).Where("server_id = ?", sid).Count(&n)
	if n != 1 {
		t.Errorf("%d events stored, want exactly the one accepted", n)
	}

	// A server's deliveries cannot be replayed against another server.
	other := handlertest.NewMastodonAdmin(t)
	reg2, _ := app.Register(t, other.Mastodon)
	other.AddToken("tok-other", true, fullScopes...)
	setup2, err := app.Svc.ConnectMastodon(context.Background(), reg2.ServerID, provider.MastodonConnectInput{APIURL: other.Server.URL, Token: "tok-other"})
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := postWebhook(t, setup2.WebhookURL, map[string]string{"X-Hub-Signature": good}, body); status != 401 {
		t.Errorf("another server's signed delivery: %d, want 401", status)
	}

	// A suspended server's deliveries are refused after authentication.
	if err := app.Svc.SuspendServer(context.Background(), sid, true); err != nil {
		t.Fatal(err)
	}
	body2 := bytes.Replace(body, []byte("110000000000000123"), []byte("110000000000000124"), 1)
	if status, out := postWebhook(t, setup.WebhookURL, map[string]string{"X-Hub-Signature": hubSignature(secret, body2)}, body2); status != 403 {
		t.Errorf("suspended: %d %v, want 403", status, out)
	}
}

// TestMastodonConnectChecksToken covers the token checks of connect against
// Mastodon's real answers: wrong token, missing scopes, a role that may not
// manage users, Mastodon before 4.3 (no scopes listed), a bad address.
func TestMastodonConnectChecksToken(t *testing.T) {
	ctx := context.Background()
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	m := handlertest.NewMastodonAdmin(t)
	reg, _ := app.Register(t, m.Mastodon)
	m.AddToken("full", true, fullScopes...)
	m.AddToken("no-reports", true, "admin:read:accounts", "admin:write:accounts")
	m.AddToken("read-only", true, "admin:read:accounts")
	m.AddToken("parents", true, "read", "write", "admin:read", "admin:write")
	m.AddToken("no-role", false, fullScopes...)
	m.AddToken("no-admin", true, "read", "write")

	tests := []struct {
		name     string
		token    string
		url      string
		settings provider.MastodonSettings
		legacy   bool
		field    string // "" means connected
		warn     bool
	}{
		{name: "full scopes", token: "full"},
		{name: "parent scopes cover the specific ones", token: "parents"},
		{name: "no write:reports but reports are filed", token: "no-reports", field: "token"},
		{name: "no write:reports, no reports", token: "no-reports",
			settings: provider.MastodonSettings{SignupReview: "none", PostReject: "suspend", PostReview: "none"}},
		{name: "read only", token: "read-only", field: "token"},
		{name: "role may not manage users", token: "no-role", field: "token"},
		{name: "no admin scopes", token: "no-admin", field: "token"},
		{name: "unknown token", token: "nope", field: "token"},
		{name: "Mastodon before 4.3 lists no scopes", token: "parents", legacy: true, warn: true},
		{name: "Mastodon before 4.3, token without read", token: "no-reports", legacy: true, warn: true},
		{name: "address with a path", token: "full", url: m.Server.URL + "/api", field: "apiUrl"},
		{name: "bad setting", token: "full", settings: provider.MastodonSettings{PostReject: "delete"}, field: "postReject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m.ListScopes = !tc.legacy
			url := tc.url
			if url == "" {
				url = m.Server.URL
			}
			setup, err := app.Svc.ConnectMastodon(ctx, reg.ServerID, provider.MastodonConnectInput{APIURL: url, Token: tc.token, Settings: tc.settings})
			if tc.field != "" {
				var ve *fault.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
				}
				if strings.Contains(ve.Message, tc.token) && len(tc.token) > 4 {
					t.Errorf("the message repeats the token: %s", ve.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.warn != (len(setup.Warnings) > 0) {
				t.Errorf("warnings %v", setup.Warnings)
			}
		})
	}
	if _, err := app.Svc.ConnectMastodon(ctx, "01jnosuchserver0000000000", provider.MastodonConnectInput{APIURL: m.Server.URL, Token: "full"}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("unknown server: %v", err)
	}

	// Reconnecting keeps the webhook secret, so Mastodon's webhook keeps working.
	m.ListScopes = true
	first, err := app.Svc.ConnectMastodon(ctx, reg.ServerID, provider.MastodonConnectInput{APIURL: m.Server.URL, Token: "full"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := app.Svc.ConnectMastodon(ctx, reg.ServerID, provider.MastodonConnectInput{APIURL: m.Server.URL, Token: "parents"})
	if err != nil || again.WebhookSecret != first.WebhookSecret {
		t.Fatalf("reconnect changed the secret: %v", err)
	}
	var row models.MastodonConnection
	app.DB.Where("server_id = ?", reg.ServerID).Take(&row)
	if strings.Contains(row.AccessToken, "parents") || strings.Contains(row.WebhookSecret, first.WebhookSecret) {
		t.Error("token or secret stored in clear")
	}
	if err := app.Svc.SetMastodonWebhookSecret(ctx, reg.ServerID, "short"); err == nil {
		t.Error("a 5-character secret was accepted")
	}
	if err := app.Svc.DisconnectMastodon(ctx, reg.ServerID); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Svc.MastodonStatus(ctx, reg.ServerID); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("status after disconnect: %v", err)
	}
	if status, _ := postWebhook(t, again.WebhookURL, map[string]string{"X-Hub-Signature": "sha256=00"}, []byte(`{}`)); status != 404 {
		t.Errorf("webhook after disconnect: %d, want 404 so Mastodon stops retrying", status)
	}
}

// TestMastodonBrokenToken: a 401 from Mastodon marks the connection broken,
// shows it in status and pauses actions; a new token resumes them, and the
// paused action is taken exactly once.
func TestMastodonBrokenToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		app := handlertest.NewApp(t, tg, handlertest.Config{})
		m := handlertest.NewMastodonAdmin(t)
		sid, _ := connectMastodon(t, app, m, provider.MastodonSettings{})
		m.Revoke("tok-moderator")
		spammer := m.SignUp(handlertest.FakeAccount{Username: "promo4u", Email: "promo4u@mail.example", IP: "203.0.113.50",
			InviteRequest: "buy cheap followers", Confirmed: true})
		deliver(t, m, 202)
		var st *provider.MastodonStatus
		waitUntil(t, func() bool {
			var err error
			st, err = app.Svc.MastodonStatus(ctx, sid)
			return err == nil && st.State == models.MastodonBroken
		})
		if !strings.Contains(st.BrokenReason, "401") || st.BrokenAt == nil {
			t.Errorf("broken reason %q", st.BrokenReason)
		}
		if st.Actions["pending"] != 1 {
			t.Errorf("actions %v: the reject must wait for a new token", st.Actions)
		}
		if !strings.Contains(app.Logs.String(), "mastodon connection broken") {
			t.Error("the broken connection was not logged")
		}
		time.Sleep(1500 * time.Millisecond) // a few worker rounds: nothing is tried while broken
		if n := len(m.Calls("POST /api/v1/admin/accounts/" + spammer.ID + "/reject")); n != 1 {
			t.Errorf("%d reject attempts while broken, want the single one that got the 401", n)
		}

		m.AddToken("tok-new", true, fullScopes...)
		if _, err := app.Svc.ConnectMastodon(ctx, sid, provider.MastodonConnectInput{APIURL: m.Server.URL, Token: "tok-new"}); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, app, sid)
		if n := succeeded(m, "POST /api/v1/admin/accounts/"+spammer.ID+"/reject"); n != 1 || !m.Account(spammer.ID).Deleted {
			t.Errorf("reject after reconnecting: %d successes", n)
		}
		st, _ = app.Svc.MastodonStatus(ctx, sid)
		if st.State != models.MastodonActive || st.BrokenReason != "" {
			t.Errorf("state after reconnect: %s %q", st.State, st.BrokenReason)
		}
	})
}

// TestMastodonDryRun: decisions are recorded as what would be done, no
// Admin API call changes anything, and a moderator's own decision on a
// sign-up still becomes feedback.
func TestMastodonDryRun(t *testing.T) {
	ctx := context.Background()
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	m := handlertest.NewMastodonAdmin(t)
	sid, _ := connectMastodon(t, app, m, provider.MastodonSettings{DryRun: true, PostReject: "suspend"})
	spammer := m.SignUp(handlertest.FakeAccount{Username: "promo4u", Email: "promo4u@mail.example", IP: "203.0.113.50",
		InviteRequest: "buy cheap followers", Confirmed: true})
	bob := m.SignUp(handlertest.FakeAccount{Username: "bob", Email: "bob@mail.example", IP: "198.51.100.9",
		InviteRequest: "baker from the bakery down the road", Confirmed: true, Approved: true})
	deliver(t, m, 202)
	waitIdle(t, app, sid)
	post := m.Post(handlertest.FakeStatus{AccountID: bob.ID, Content: "<p>claim your prize</p>"})
	deliver(t, m, 202, 200)
	waitIdle(t, app, sid)

	for _, c := range m.Calls("POST ") {
		t.Errorf("dry run called %s %s", c.Method, c.Path)
	}
	st, err := app.Svc.MastodonStatus(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, a := range st.RecentActions {
		kinds[a.Kind] = a.State
	}
	if kinds["reject"] != "dry_run" || kinds["suspend"] != "dry_run" || kinds["watch"] != "pending" {
		t.Errorf("recorded actions %v", kinds)
	}
	if _, d := eventCheck(t, app, sid, "status.created", post.ID); d != "reject" {
		t.Errorf("post decision %s", d)
	}
	// The moderator disagrees and approves the sign-up Breakwater would have rejected.
	m.ModeratorApprove(spammer.ID)
	deliver(t, m, 202, 200)
	waitIdle(t, app, sid)
	check, _ := eventCheck(t, app, sid, "account.created", spammer.ID)
	if v := verdict(t, app, sid, check); v != "ham" {
		t.Errorf("feedback %q, want ham", v)
	}
}

// TestMastodonQueriesScopedByServer: another server's ids never reach this
// server's rows.
func TestMastodonQueriesScopedByServer(t *testing.T) {
	ctx := context.Background()
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	now := time.Now().UTC()
	for _, sid := range []string{"srv-a", "srv-b"} {
		if err := app.DB.SaveMastodonConnection(ctx, &models.MastodonConnection{ServerID: sid, APIURL: "https://m.example",
			AccessToken: "x", WebhookSecret: "y", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	ok, err := app.DB.InsertMastodonEvent(ctx, &models.MastodonEvent{ServerID: "srv-a", EventType: "account.created", ObjectKey: "1",
		ObjectID: "1", AccountID: "1", State: models.MastodonDone, CheckID: "chk-a", NextAttemptAt: now, ReceivedAt: now})
	if err != nil || !ok {
		t.Fatal(err)
	}
	if err := app.DB.InsertMastodonActions(ctx, []models.MastodonAction{{ServerID: "srv-a", EventID: 1, Kind: models.ActionReport,
		AccountID: "1", State: models.MastodonDone, ResultID: "77", NextAttemptAt: now}}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB.MastodonSignupEvent(ctx, "srv-b", "1"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("sign-up event across servers: %v", err)
	}
	if _, err := app.DB.MastodonReportAction(ctx, "srv-b", "77"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("report action across servers: %v", err)
	}
	if evs, _ := app.DB.MastodonStatusEvents(ctx, "srv-b", []string{"1"}); len(evs) != 0 {
		t.Errorf("status events across servers: %v", evs)
	}
	if changed, _ := app.DB.SetMastodonActionFeedback(ctx, "srv-b", 1, "spam"); changed {
		t.Error("feedback set across servers")
	}
	// The same object key on two servers is two events, on one server a duplicate.
	ok, _ = app.DB.InsertMastodonEvent(ctx, &models.MastodonEvent{ServerID: "srv-b", EventType: "account.created", ObjectKey: "1",
		ObjectID: "1", State: models.MastodonPending, NextAttemptAt: now, ReceivedAt: now})
	dup, _ := app.DB.InsertMastodonEvent(ctx, &models.MastodonEvent{ServerID: "srv-b", EventType: "account.created", ObjectKey: "1",
		ObjectID: "1", State: models.MastodonPending, NextAttemptAt: now, ReceivedAt: now})
	if !ok || dup {
		t.Errorf("insert on another server %v, duplicate %v", ok, dup)
	}
	st, err := app.DB.MastodonQueueStats(ctx, "srv-b")
	if err != nil || st.Events["done"] != 0 || st.Actions["done"] != 0 {
		t.Errorf("srv-b stats count srv-a's rows: %+v %v", st, err)
	}
	if err := app.DB.DeleteMastodonConnection(ctx, "srv-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB.GetMastodonConnection(ctx, "srv-a"); err != nil {
		t.Errorf("deleting srv-b removed srv-a: %v", err)
	}

	// Retention removes what has ended, never what is still to do.
	done := now.Add(-time.Hour)
	if err := app.DB.CompleteMastodonEvent(ctx, "srv-a", 1, models.MastodonDone, "done", done); err != nil {
		t.Fatal(err)
	}
	if err := app.DB.FinishMastodonAction(ctx, "srv-a", 1, models.MastodonActionResult{State: models.MastodonDone, At: done}); err != nil {
		t.Fatal(err)
	}
	_ = app.DB.InsertMastodonActions(ctx, []models.MastodonAction{{ServerID: "srv-a", EventID: 1, Kind: models.ActionWatch,
		AccountID: "1", State: models.MastodonPending, NextAttemptAt: now.Add(time.Hour)}})
	n, err := app.DB.PruneMastodon(ctx, now)
	if err != nil || n != 2 {
		t.Errorf("pruned %d rows (%v), want the done event and the done action", n, err)
	}
	if w, _ := app.DB.OpenMastodonWatches(ctx, "srv-a"); len(w) != 1 {
		t.Errorf("open watch pruned: %v", w)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMastodonQueueClaimedOnce: workers claiming concurrently (replicas on
// PostgreSQL with SKIP LOCKED; one SQLite writer) never take the same event,
// and a lease that runs out makes an event claimable again.
func TestMastodonQueueClaimedOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		app := handlertest.NewApp(t, tg, handlertest.Config{})
		app.Stop(t) // no worker of its own
		db, err := models.Open(ctx, models.Options{URL: tg.URL, SQLitePath: tg.Path})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		now := time.Now().UTC()
		const n = 60
		for i := 0; i < n; i++ {
			if _, err := db.InsertMastodonEvent(ctx, &models.MastodonEvent{ServerID: "srv", EventType: "status.created",
				ObjectKey: strings.Repeat("1", i+1), ObjectID: "1", State: models.MastodonPending, NextAttemptAt: now, ReceivedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		type claimed struct {
			worker string
			ids    []uint64
		}
		results := make(chan claimed, 4)
		for w := 0; w < 4; w++ {
			go func(worker string) {
				var ids []uint64
				for {
					evs, err := db.ClaimMastodonEvents(ctx, models.Claim{Worker: worker, Now: now, Lease: time.Minute, Limit: 5})
					if err != nil {
						t.Errorf("claim: %v", err)
						break
					}
					if len(evs) == 0 {
						break
					}
					for _, e := range evs {
						ids = append(ids, e.ID)
					}
				}
				results <- claimed{worker, ids}
			}("w" + strings.Repeat("x", w))
		}
		seen := map[uint64]string{}
		for w := 0; w < 4; w++ {
			r := <-results
			for _, id := range r.ids {
				if other, dup := seen[id]; dup {
					t.Errorf("event %d claimed by %s and %s", id, other, r.worker)
				}
				seen[id] = r.worker
			}
		}
		if len(seen) != n {
			t.Errorf("%d of %d events claimed", len(seen), n)
		}
		later, err := db.ClaimMastodonEvents(ctx, models.Claim{Worker: "late", Now: now.Add(2 * time.Minute), Lease: time.Minute, Limit: n})
		if err != nil || len(later) != n {
			t.Errorf("after the leases ran out %d events were claimable (%v), want %d", len(later), err, n)
		}
	})
}

// TestMastodonPendingPagination: the client follows the fake's Link
// headers (Mastodon's max_id pagination, newest first) through every page.
func TestMastodonPendingPagination(t *testing.T) {
	m := handlertest.NewMastodonAdmin(t)
	m.AddToken("tok", true, fullScopes...)
	want := map[string]bool{}
	for i := 0; i < 5; i++ {
		a := m.SignUp(handlertest.FakeAccount{Username: "u" + strings.Repeat("x", i), Email: "u@mail.example", IP: "192.0.2.1"})
		want[a.ID] = true
	}
	m.SignUp(handlertest.FakeAccount{Username: "open", Email: "o@mail.example", Approved: true})
	c, err := mastodon.NewClient(m.Server.URL, "tok", http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	accs, complete, err := c.PendingAccounts(context.Background(), 2, 10)
	if err != nil || !complete {
		t.Fatalf("pending accounts: complete %v, %v", complete, err)
	}
	got := map[string]bool{}
	for i, a := range accs {
		got[a.ID] = true
		if i > 0 && len(a.ID) == len(accs[i-1].ID) && a.ID > accs[i-1].ID {
			t.Errorf("page order: %s after %s, want newest first", a.ID, accs[i-1].ID)
		}
	}
	if len(accs) != 5 || len(got) != 5 {
		t.Fatalf("got %d accounts (%d distinct), want the 5 pending ones", len(accs), len(got))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("pending account %s missing", id)
		}
	}
	if calls := m.Calls("GET /api/v1/admin/accounts"); len(calls) != 3 {
		t.Errorf("%d pages read, want 3 of at most 2", len(calls))
	}
}

// TestMastodonConfiguredActions: the non-default settings call the Admin
// API endpoints they name: an account action for a rejected post, a
// moderation note for a held sign-up, and the failure of a note on a
// Mastodon without the notes API is recorded, not retried.
func TestMastodonConfiguredActions(t *testing.T) {
	ctx := context.Background()
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	m := handlertest.NewMastodonAdmin(t)
	m.NotesAPI = true
	sid, _ := connectMastodon(t, app, m, provider.MastodonSettings{SignupReview: "note", PostReject: "silence", PostReview: "none"})
	held := m.SignUp(handlertest.FakeAccount{Username: "kim", Email: "kim@mail.example", IP: "192.0.2.77",
		InviteRequest: "crypto curious", Confirmed: true})
	bob := m.SignUp(handlertest.FakeAccount{Username: "bob", Email: "bob@mail.example", IP: "198.51.100.9",
		InviteRequest: "from the bakery", Confirmed: true, Approved: true})
	deliver(t, m, 202)
	waitIdle(t, app, sid)
	m.Post(handlertest.FakeStatus{AccountID: bob.ID, Content: "<p>claim your prize</p>"})
	giveaway := m.Post(handlertest.FakeStatus{AccountID: bob.ID, Content: "<p>token giveaway today</p>"})
	deliver(t, m, 202, 200)
	waitIdle(t, app, sid)
	if _, d := eventCheck(t, app, sid, "status.created", giveaway.ID); d != "review" {
		t.Errorf("giveaway post: %s, want review (and, configured so, no report)", d)
	}

	notes := m.Calls("POST /api/v1/admin/accounts/" + held.ID + "/notes")
	if len(notes) != 1 || notes[0].Status != 200 || !strings.Contains(notes[0].Body["content"].(string), "Breakwater: review") {
		t.Errorf("note calls %+v", notes)
	}
	actions := m.Calls("POST /api/v1/admin/accounts/" + bob.ID + "/action")
	if len(actions) != 1 || actions[0].Body["type"] != "silence" || !m.Account(bob.ID).Silenced {
		t.Errorf("account action calls %+v", actions)
	}
	if n := len(m.Calls("POST /api/v1/reports")); n != 0 {
		t.Errorf("%d reports filed, none configured", n)
	}

	// A Mastodon without the notes API answers 404: recorded as failed, once.
	m.NotesAPI = false
	other := m.SignUp(handlertest.FakeAccount{Username: "lee", Email: "lee@mail.example", IP: "192.0.2.99",
		InviteRequest: "crypto curious", Confirmed: true})
	deliver(t, m, 202, 200)
	waitIdle(t, app, sid)
	if n := len(m.Calls("POST /api/v1/admin/accounts/" + other.ID + "/notes")); n != 1 {
		t.Errorf("%d note attempts, want 1", n)
	}
	st, _ := app.Svc.MastodonStatus(ctx, sid)
	failed := false
	for _, a := range st.RecentActions {
		failed = failed || (a.Kind == "note" && a.AccountID == other.ID && a.State == "failed" && a.HTTPStatus == 404)
	}
	if !failed {
		t.Errorf("the failed note is not shown: %+v", st.RecentActions)
	}
}
