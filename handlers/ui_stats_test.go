package handlers_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
)

// TestOverviewCounts checks the dashboard's numbers on both databases (the
// hour and day buckets are computed in SQL, differently per dialect), and
// that another server's checks never count.
func TestOverviewCounts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app := newUIApp(t, tg, uiOptions{})
		ma, mb := handlertest.NewMastodon(t), handlertest.NewMastodon(t)
		_, pa := registerServer(t, app, ma, "a@example.org", "signup_screening")
		_, pb := registerServer(t, app, mb, "b@example.org", "signup_screening")
		want := map[string]int64{}
		for i, user := range []string{"aaaaaaa", "bbbbbbb", "ccccccc"} {
			out := screenSignup(t, ma, pa, signupPayload(user, i == 0))
			want[out["decision"].(string)]++
		}
		screenSignup(t, mb, pb, signupPayload("ddddddd", true))

		ov, err := app.Svc.Overview(context.Background(), pa.ServerID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{"allow": ov.Last24h.Allow, "review": ov.Last24h.Review, "reject": ov.Last24h.Reject}
		for d, n := range want {
			if got[d] != n {
				t.Errorf("last 24 h %s: %d, want %d (%+v)", d, got[d], n, ov.Last24h)
			}
		}
		if len(ov.Hourly) != 24 || len(ov.Daily) != 30 || len(ov.Gates) != 30 {
			t.Fatalf("buckets %d %d %d", len(ov.Hourly), len(ov.Daily), len(ov.Gates))
		}
		// Summed, so that a test running across an hour or midnight passes.
		var hours, days, signups int64
		for _, b := range ov.Hourly {
			hours += b.Total()
		}
		for i, b := range ov.Daily {
			days += b.Total()
			signups += ov.Gates[i].Signups
		}
		if hours != 3 || days != 3 || signups != 3 {
			t.Errorf("hourly %d, daily %d, sign-ups %d; want 3 each", hours, days, signups)
		}
		if len(ov.TopReasons) == 0 || ov.TopReasons[0].Count < 1 {
			t.Errorf("top reasons %+v", ov.TopReasons)
		}

		// The search covers reason codes and id prefixes, scoped to the server.
		code := ov.TopReasons[0].Code
		page, err := app.Svc.SearchChecks(context.Background(), pa.ServerID, provider.CheckQuery{Text: code})
		if err != nil || len(page.Checks) == 0 {
			t.Fatalf("search %q: %v %v", code, page, err)
		}
		for _, c := range page.Checks {
			found := false
			for _, r := range c.Reasons {
				found = found || strings.Contains(r.Code, code)
			}
			if !found {
				t.Errorf("check %s matched %q without that reason", c.CheckID, code)
			}
		}
		rows, err := app.DB.SearchChecks(context.Background(), pb.ServerID, models.CheckSearch{Query: page.Checks[0].CheckID[:12]})
		if err != nil || len(rows) != 0 {
			t.Errorf("server B finds A's check by id prefix: %d %v", len(rows), err)
		}
		if _, err := app.Svc.SearchChecks(context.Background(), pa.ServerID, provider.CheckQuery{Decision: "maybe"}); err == nil {
			t.Error("an unknown decision filter was accepted")
		}
	})
}

// TestCheckPagination pages through the log with a cursor.
func TestCheckPagination(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	b, p := registerServer(t, app, m, "a@example.org", "signup_screening")
	ids := map[string]bool{}
	for i := 0; i < 27; i++ {
		out := screenSignup(t, m, p, signupPayload("user"+strings.Repeat("x", i%5)+string(rune('a'+i)), false))
		ids[out["checkId"].(string)] = true
	}
	b.get("/admin/checks").want(200).contains(`rel="next"`)
	first := strings.Count(b.Body, `<li class="check">`)
	next := regexpFind(b.Body, `rel="next" href="([^"]+)"`)
	b.get(htmlUnescape(next)).want(200).lacks(`rel="next"`).contains("Newest")
	second := strings.Count(b.Body, `<li class="check">`)
	if first != 25 || first+second != 27 {
		t.Errorf("pages of %d and %d checks, want 25 and 2", first, second)
	}
	b.get("/admin/checks?decision=bogus").want(422)
	b.get("/admin/checks?" + url.Values{"q": {strings.Repeat("z", 100)}}.Encode()).want(422)
}

// TestWebSecureCookies: behind an https public URL every cookie is Secure
// and pinned to the host with the __Host- prefix.
func TestWebSecureCookies(t *testing.T) {
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{Provider: func(p *provider.Options) {
		u := *p.PublicURL
		u.Scheme = "https"
		p.PublicURL = &u
	}})
	b := newBrowser(t, app.URL).get("/login").want(200)
	cookies := b.Header.Values("Set-Cookie")
	if len(cookies) == 0 {
		t.Fatal("no cookie set")
	}
	for _, c := range cookies {
		if !strings.HasPrefix(c, "__Host-") || !strings.Contains(c, "; Secure") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
			t.Errorf("cookie %q", c)
		}
	}
}
