package handlers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

func signupBody(user, email, ip string) map[string]any {
	return map[string]any{"account": map[string]any{"username": user, "email": email, "displayName": "Someone"}, "ip": ip}
}

// TestCheckLifecycle: a check is stored, readable only by the server that
// made it, takes feedback idempotently, and can be erased.
func TestCheckLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app, m, p := screeningApp(t, tg)
		r := m.Call(t, p, "POST", "/spam_detection/v0/signup_screening/checks", signupBody("rosa_gardens", "rosa@posteo.de", "198.51.100.7"))
		if r.Status != 200 {
			t.Fatalf("check: %d %s", r.Status, r.Body)
		}
		var res struct {
			CheckID, Decision string
			Reasons           []any
		}
		_ = json.Unmarshal(r.Body, &res)
		if res.Decision != "allow" || res.CheckID == "" {
			t.Fatalf("ordinary sign-up: %s", r.Body)
		}

		// Another server cannot see it: 404, not 403.
		m2 := handlertest.NewMastodon(t)
		_, p2 := app.Register(t, m2)
		if g := m2.Call(t, p2, "GET", "/spam_detection/v0/checks/"+res.CheckID, nil); g.Status != 404 {
			t.Fatalf("other server reads the check: %d %s", g.Status, g.Body)
		}
		if g := m2.Call(t, p2, "POST", "/spam_detection/v0/feedback", map[string]string{"checkId": res.CheckID, "verdict": "spam"}); g.Status != 404 {
			t.Fatalf("other server gives feedback on the check: %d %s", g.Status, g.Body)
		}
		if g := m2.Call(t, p2, "DELETE", "/spam_detection/v0/checks/"+res.CheckID, nil); g.Status != 404 {
			t.Fatalf("other server erases the check: %d", g.Status)
		}
		// Not activated: 403 with a way out.
		if g := m2.Call(t, p2, "POST", "/spam_detection/v0/signup_screening/checks", signupBody("x", "x@example.org", "192.0.2.1")); g.Status != 403 || !strings.Contains(string(g.Body), "activation") {
			t.Fatalf("inactive capability: %d %s", g.Status, g.Body)
		}

		for i, verdict := range []string{"spam", "ham"} {
			fb := m.Call(t, p, "POST", "/spam_detection/v0/feedback", map[string]string{"checkId": res.CheckID, "verdict": verdict, "note": "moderator " + string(rune('A'+i))})
			if fb.Status != 204 {
				t.Fatalf("feedback %s: %d %s", verdict, fb.Status, fb.Body)
			}
		}
		time.Sleep(time.Second) // the same feedback again is a new request, not a replay
		if fb := m.Call(t, p, "POST", "/spam_detection/v0/feedback", map[string]string{"checkId": res.CheckID, "verdict": "ham", "note": "moderator B"}); fb.Status != 204 {
			t.Fatalf("repeated feedback: %d", fb.Status)
		}
		g := m.Call(t, p, "GET", "/spam_detection/v0/checks/"+res.CheckID, nil)
		var rec struct {
			Feedback *struct{ Verdict string }
			Erased   bool
			Reasons  []any
		}
		_ = json.Unmarshal(g.Body, &rec)
		if rec.Feedback == nil || rec.Feedback.Verdict != "ham" {
			t.Fatalf("latest verdict should win: %s", g.Body)
		}
		if d := m.Call(t, p, "DELETE", "/spam_detection/v0/checks/"+res.CheckID, nil); d.Status != 204 {
			t.Fatalf("erase: %d", d.Status)
		}
		time.Sleep(time.Second)
		g = m.Call(t, p, "GET", "/spam_detection/v0/checks/"+res.CheckID, nil)
		_ = json.Unmarshal(g.Body, &rec)
		if !rec.Erased || len(rec.Reasons) != 0 {
			t.Fatalf("erased check: %s", g.Body)
		}
		row, err := app.DB.GetCheck(t.Context(), p.ServerID, res.CheckID)
		if err != nil || row.Features != "" || row.SubjectKey != "" {
			t.Fatalf("erased row keeps personal data: %+v %v", row, err)
		}
	})
}

// TestNoPersonalDataStoredOrLogged: e-mails and IPs never reach the
// database or the logs in the clear.
func TestNoPersonalDataStoredOrLogged(t *testing.T) {
	app, m, p := screeningApp(t, testdb.SQLite(t))
	email, ip := "very.private.person@posteo.de", "203.0.113.77"
	if r := m.Call(t, p, "POST", "/spam_detection/v0/signup_screening/checks", signupBody("private_person", email, ip)); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var rows []map[string]any
	app.DB.Raw("SELECT * FROM checks").Scan(&rows)
	dump, _ := json.Marshal(rows)
	for _, secret := range []string{email, ip, "very.private", handlertest.TestSecret} {
		if strings.Contains(string(dump), secret) {
			t.Errorf("checks table holds %q in the clear", secret)
		}
		if strings.Contains(app.Logs.String(), secret) {
			t.Errorf("logs hold %q", secret)
		}
	}
}
