package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// openDB opens the database a test's processes use, to look at what they
// stored.
func openDB(t testing.TB, e env) *models.DB {
	t.Helper()
	db, err := models.Open(context.Background(), models.Options{URL: e["BREAKWATER_DATABASE_URL"],
		SQLitePath: filepath.Join(e["BREAKWATER_DATA_DIR"], "breakwater.db"), MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("open the test's database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// connectMastodon adds a webhook-only Mastodon server (the fake m) through
// the operator commands, connects it in dry-run mode and subscribes its
// webhook to sign-ups. It returns the serverId and the webhook secret.
func connectMastodon(t testing.TB, e env, m *handlertest.MastodonAdmin, token string) (string, string) {
	t.Helper()
	m.AddToken(token, true, "admin:read:accounts", "admin:write:accounts", "write:reports")
	var added struct {
		ServerID string `json:"serverId"`
	}
	if err := json.Unmarshal([]byte(cli(t, e, "mastodon", "add", m.Server.URL, "--json")), &added); err != nil {
		t.Fatal(err)
	}
	var setup struct {
		WebhookURL    string `json:"webhookUrl"`
		WebhookSecret string `json:"webhookSecret"`
	}
	out := cli(t, e, "mastodon", "connect", added.ServerID, "--api-url", m.Server.URL, "--token", token, "--dry-run", "--json")
	if err := json.Unmarshal([]byte(out), &setup); err != nil {
		t.Fatalf("mastodon connect printed %q: %v", out, err)
	}
	m.AddWebhook(setup.WebhookURL, setup.WebhookSecret, "account.created")
	return added.ServerID, setup.WebhookSecret
}

// TestKillDuringLoad kills `breakwater serve` with SIGKILL in the middle
// of a load of checks and Mastodon webhook deliveries, restarts it, and
// shows that every check whose answer reached the caller is in the
// database and every webhook event answered 2xx is processed.
func TestKillDuringLoad(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := deadline(t, 60*time.Second)
		addr := freeAddr(t)
		e := baseEnv(t, tg.URL).at(addr)
		p := serve(t, "serve", e, addr)
		f := newFediverse(t, "127.0.0.4")
		s := register(t, e, f, p.URL, "signup_screening", "content_screening")
		m := handlertest.NewMastodonAdmin(t)
		mastoID, _ := connectMastodon(t, e, m, "tok-kill")

		var (
			mu       sync.Mutex
			answered []string // check ids whose 200 reached us
			accepted []string // Mastodon account ids whose delivery got a 2xx
			failed   int      // before the kill
			killed   = make(chan struct{})
		)
		lctx, stopLoad := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for n := 0; lctx.Err() == nil; n++ {
					path, body := "/spam_detection/v0/content_screening/checks", ordinaryPost(w*100000+n)
					if n%4 == 0 {
						path, body = "/spam_detection/v0/signup_screening/checks",
							signup(fmt.Sprintf("load%d_%d", w, n), fmt.Sprintf("load%d.%d@example.org", w, n), "198.51.100.7")
					}
					ans, err := s.call(lctx, p.URL, http.MethodPost, path, body)
					mu.Lock()
					if err == nil && ans.Status == http.StatusOK {
						if id, _ := ans.JSON()["checkId"].(string); id != "" {
							answered = append(answered, id)
						}
					} else {
						select {
						case <-killed:
						default:
							failed++
							if failed <= 3 {
								t.Logf("call failed before the kill: %v %s", err, ans)
							}
						}
					}
					mu.Unlock()
				}
			}(w)
		}
		wg.Add(1)
		go func() { // Mastodon delivering sign-up webhooks, one at a time as its worker does
			defer wg.Done()
			for n := 0; lctx.Err() == nil; n++ {
				acc := m.SignUp(handlertest.FakeAccount{Username: fmt.Sprintf("hook%d", n), Email: fmt.Sprintf("hook%d@example.org", n),
					IP: "198.51.100.9", Locale: "en"})
				for _, d := range m.Outbox() {
					if d.Attempts == 0 && strings.Contains(string(d.Body), `"id":"`+acc.ID+`"`) {
						if status := m.Send(t, d); status >= 200 && status < 300 {
							mu.Lock()
							accepted = append(accepted, acc.ID)
							mu.Unlock()
						}
					}
				}
			}
		}()

		time.Sleep(1500 * time.Millisecond)
		killedAt := time.Now()
		close(killed)
		p.kill() // SIGKILL: no shutdown code runs
		time.Sleep(200 * time.Millisecond)
		stopLoad()
		wg.Wait()
		mu.Lock()
		t.Logf("before kill -9: %d checks answered 200, %d webhook deliveries accepted, %d calls failed", len(answered), len(accepted), failed)
		mu.Unlock()
		if failed > 0 {
			t.Errorf("%d calls failed before the kill", failed)
		}
		if len(answered) < 50 || len(accepted) < 5 {
			t.Fatalf("too little load before the kill to show anything: %d checks, %d webhooks", len(answered), len(accepted))
		}

		restarted := time.Now()
		serve(t, "serve (restarted)", e, addr)
		t.Logf("restarted and ready in %s", time.Since(restarted).Round(time.Millisecond))
		db := openDB(t, e)

		var stored []string
		if err := db.WithContext(ctx).Model(&models.Check{}).Pluck("id", &stored).Error; err != nil {
			t.Fatal(err)
		}
		have := make(map[string]bool, len(stored))
		for _, id := range stored {
			have[id] = true
		}
		lost := 0
		for _, id := range answered {
			if !have[id] {
				lost++
				if lost <= 5 {
					t.Errorf("check %s was answered but is not in the database after the restart", id)
				}
			}
		}
		t.Logf("after restart: %d of %d answered checks in the database (%d rows in all)", len(answered)-lost, len(answered), len(stored))

		// Every accepted delivery is stored, and processed: at once, or,
		// if the killed process had leased it, when that lease runs out.
		want := map[string]bool{}
		for _, id := range accepted {
			want[id] = true
		}
		var rows []models.MastodonEvent
		until := time.Now().Add(15 * time.Second)
		for {
			rows = nil
			if err := db.WithContext(ctx).Where("server_id = ?", mastoID).Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			pending, leased := 0, 0
			found := 0
			for _, r := range rows {
				if !want[r.ObjectID] {
					continue
				}
				found++
				if r.State != models.MastodonPending {
					continue
				}
				// A lease the killed process took ends within 2 minutes of the
				// kill; one the new process took ends later.
				if r.LockedUntil != nil && r.LockedUntil.After(time.Now()) && r.LockedUntil.Before(killedAt.Add(2*time.Minute)) {
					leased++
				} else {
					pending++
				}
			}
			if found != len(want) {
				t.Fatalf("%d of %d accepted webhook deliveries are in the database", found, len(want))
			}
			if leased > 20 {
				t.Errorf("%d events leased by the killed process, more than one batch (20)", leased)
			}
			if pending == 0 {
				t.Logf("all %d accepted webhook events processed %s after the restart (%d still leased by the killed process, due within its 2-minute lease)",
					len(want)-leased, time.Since(restarted).Round(time.Millisecond), leased)
				break
			}
			if time.Now().After(until) {
				t.Fatalf("%d accepted webhook events still pending 15s after the restart", pending)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
