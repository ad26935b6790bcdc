package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// movableClock is a clock the test moves forward.
type movableClock struct{ off atomic.Int64 }

func (c *movableClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *movableClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// contentInput is a post by acct.
func contentInput(acct, text string) screening.ContentInput {
	return screening.ContentInput{
		Post:   screening.Post{Text: "<p>" + text + "</p>", Visibility: "public", Mentions: []screening.Mention{}},
		Author: screening.Author{Acct: acct, Local: true, CreatedAt: time.Now().Add(-90 * 24 * time.Hour)},
	}
}

func signupInput(user, email, ip string) screening.SignupInput {
	return screening.SignupInput{Account: screening.SignupAccount{Username: user, Email: email}, IP: ip}
}

// rawCheck reads a check row as stored, to see what erasure left.
func rawCheck(t *testing.T, db *models.DB, id string) models.Check {
	t.Helper()
	var c models.Check
	if err := db.Where("id = ?", id).Take(&c).Error; err != nil {
		t.Fatalf("load check %s: %v", id, err)
	}
	return c
}

// wantErased: the details (features with the hashes of e-mail and IP,
// reasons, the subject key, the moderator's note) are gone, the decision
// and score stay for counts.
func wantErased(t *testing.T, db *models.DB, id string, erased bool) {
	t.Helper()
	c := rawCheck(t, db, id)
	gone := c.Erased && c.Features == "" && c.Reasons == "[]" && c.SubjectKey == "" && c.Note == ""
	if erased && !gone {
		t.Errorf("check %s not erased: erased=%v features=%d bytes reasons=%q subject=%q note=%q", id, c.Erased, len(c.Features), c.Reasons, c.SubjectKey, c.Note)
	}
	if !erased && (c.Erased || c.Features == "" || c.SubjectKey == "") {
		t.Errorf("check %s lost its details but should have kept them", id)
	}
	if c.Decision == "" {
		t.Errorf("check %s lost its decision", id)
	}
}

// TestRetentionJob moves the clock past the retention period: the job
// erases the details of checks older than it, keeps the newer ones whole,
// keeps every decision for the counts, and does nothing on a second run.
func TestRetentionJob(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		clock := &movableClock{}
		app := handlertest.NewApp(t, tg, handlertest.Config{
			Provider: func(p *provider.Options) { p.Now, p.Retention = clock.Now, 48*time.Hour },
			Engine:   func(o *screening.Options) { o.Now = clock.Now },
		})
		m := handlertest.NewMastodon(t)
		reg, p := app.Register(t, m)
		app.Activate(t, m, p, "signup_screening", "content_screening")

		old1 := screenSignup(t, m, p, signupPayload("oldperson", true))["checkId"].(string)
		r := m.Call(t, p, "POST", "/spam_detection/v0/content_screening/checks", map[string]any{
			"post": map[string]any{"text": "old post text", "visibility": "public", "mentions": []any{}}, "author": map[string]any{"acct": "old", "local": true,
				"createdAt": time.Now().Add(-90 * 24 * time.Hour).UTC().Format(time.RFC3339)}})
		var out struct{ CheckID string }
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &out) != nil {
			t.Fatalf("content check: %d %s", r.Status, r.Body)
		}
		old2 := out.CheckID
		if r := m.Call(t, p, "POST", "/spam_detection/v0/feedback", map[string]string{"checkId": old1, "verdict": "spam", "note": "same person as last week"}); r.Status >= 300 {
			t.Fatalf("feedback: %d %s", r.Status, r.Body)
		}

		clock.Advance(47 * time.Hour) // the API's signatures would now be stale: the service is called directly
		recent, err := app.Svc.ScreenSignupFor(ctx, reg.ServerID, signupInput("newperson", "new.person@posteo.de", "198.51.100.9"))
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Hour)
		n, err := app.Svc.RunRetention(ctx)
		if err != nil || n != 2 {
			t.Fatalf("retention erased %d checks (%v), want the 2 older than 48h", n, err)
		}
		wantErased(t, app.DB, old1, true)
		wantErased(t, app.DB, old2, true)
		wantErased(t, app.DB, recent.CheckID, false)
		rec, err := app.Svc.GetCheck(ctx, reg.ServerID, old1)
		if err != nil || !rec.Erased || len(rec.Reasons) != 0 {
			t.Errorf("an expired check as the API shows it: %+v %v", rec, err)
		}
		if n, err := app.Svc.RunRetention(ctx); err != nil || n != 0 {
			t.Errorf("second run erased %d (%v), want 0", n, err)
		}
	})
}

// TestErasureRequests: an erasure by e-mail reaches the person's sign-ups
// on every server and nothing else; one by account reaches that account's
// posts on its own server only; DELETE /checks/{id} erases one check, twice
// without error; and an erased check is not rebuilt into the screening
// windows at the next start.
func TestErasureRequests(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		app := handlertest.NewApp(t, tg, handlertest.Config{})
		ma, mb := handlertest.NewMastodon(t), handlertest.NewMastodon(t)
		regA, pa := app.Register(t, ma)
		regB, pb := app.Register(t, mb)
		app.Activate(t, ma, pa, "signup_screening", "content_screening")
		app.Activate(t, mb, pb, "signup_screening", "content_screening")
		a, b := regA.ServerID, regB.ServerID

		screen := func(serverID string, in screening.SignupInput) string {
			t.Helper()
			res, err := app.Svc.ScreenSignupFor(ctx, serverID, in)
			if err != nil {
				t.Fatal(err)
			}
			return res.CheckID
		}
		post := func(serverID, acct string) string {
			t.Helper()
			res, err := app.Svc.ScreenContentFor(ctx, serverID, contentInput(acct, "a perfectly ordinary post about bread"))
			if err != nil {
				t.Fatal(err)
			}
			return res.CheckID
		}
		personA := screen(a, signupInput("erin", "Erin.Person@posteo.de", "198.51.100.20"))
		personB := screen(b, signupInput("erin2", "erin.person@posteo.de", "198.51.100.21"))
		other := screen(a, signupInput("frank", "frank@posteo.de", "198.51.100.22"))
		postA := post(a, "alice")
		postA2 := post(a, "@alice@"+regA.Domain) // the same local account, named with its domain
		postA3 := post(a, "bob")
		postB := post(b, "alice")

		n, err := app.Svc.EraseEmail(ctx, "  ERIN.person@posteo.de ")
		if err != nil || n != 2 {
			t.Fatalf("erasure by e-mail: %d %v, want the 2 sign-ups", n, err)
		}
		wantErased(t, app.DB, personA, true)
		wantErased(t, app.DB, personB, true)
		wantErased(t, app.DB, other, false)

		n, err = app.Svc.EraseAccount(ctx, a, "alice")
		if err != nil || n != 2 {
			t.Fatalf("erasure by account: %d %v, want alice's 2 posts, named with and without the domain", n, err)
		}
		wantErased(t, app.DB, postA, true)
		wantErased(t, app.DB, postA2, true)
		wantErased(t, app.DB, postA3, false)
		wantErased(t, app.DB, postB, false) // another server's alice is another person

		// Through the API: the server's own erasure of one check; a second
		// erasure is no error (through the service: the same signed request
		// within a second would be a replay).
		if r := ma.Call(t, pa, "DELETE", "/spam_detection/v0/checks/"+other, nil); r.Status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", r.Status, r.Body)
		}
		if err := app.Svc.EraseCheck(ctx, a, other); err != nil {
			t.Errorf("erasing an erased check: %v", err)
		}
		wantErased(t, app.DB, other, true)
		if r := mb.Call(t, pb, "DELETE", "/spam_detection/v0/checks/"+postA3, nil); r.Status != http.StatusNotFound {
			t.Errorf("B erasing A's check: %d, want 404", r.Status)
		}
		wantErased(t, app.DB, postA3, false)

		// A restart rebuilds the windows from what is stored: erased checks
		// are not part of them.
		app.Stop(t)
		app2 := handlertest.NewApp(t, tg, handlertest.Config{})
		var kept int64
		app2.DB.Model(&models.Check{}).Where("features <> ''").Count(&kept)
		if kept != 2 { // postA3 and postB
			t.Errorf("%d checks with details after the erasures, want 2", kept)
		}
	})
}
