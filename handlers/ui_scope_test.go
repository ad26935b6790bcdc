package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// TestWebIsolation is the cross-server matrix: the admin of server A can
// never see or act on server B's checks, policy, debug log, keys or usage;
// B's ids answer 404 exactly like ids that do not exist, and the operator
// area does not exist for admins.
func TestWebIsolation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app := newUIApp(t, tg, uiOptions{})
		ma, mb := handlertest.NewMastodon(t), handlertest.NewMastodon(t)
		a, pa := registerServer(t, app, ma, "a@example.org", "signup_screening", "callback")
		bb, pb := registerServer(t, app, mb, "b@example.org", "signup_screening", "callback")

		checkA := screenSignup(t, ma, pa, signupPayload("annaaaa", true))["checkId"].(string)
		checkB := screenSignup(t, mb, pb, signupPayload("bertbert", true))["checkId"].(string)
		if r := mb.Call(t, pb, "POST", "/debug/v0/callback/logs", map[string]string{"marker": "only-for-b"}); r.Status != 201 {
			t.Fatalf("debug call: %d", r.Status)
		}

		// B sees its own check; A gets 404 for it, on every route.
		bb.get("/admin/checks/" + checkB).want(200)
		a.get("/admin/checks/" + checkB).want(http.StatusNotFound)
		a.get("/admin/checks/00000000000000000000000000").want(http.StatusNotFound)
		a.get("/admin/checks").want(200).contains(checkA).lacks(checkB)
		a.get("/admin/checks?q=" + checkB[:10]).want(200).lacks(checkB)
		a.post("/admin/checks/"+checkB+"/feedback", url.Values{"verdict": {"spam"}}).want(http.StatusNotFound)
		rec, err := app.Svc.GetCheck(context.Background(), pb.ServerID, checkB)
		if err != nil || rec.Feedback != nil {
			t.Fatalf("A's feedback reached B's check: %+v %v", rec, err)
		}

		a.get("/admin/debug").want(200).lacks("only-for-b")
		bb.get("/admin/debug").want(200).contains("only-for-b")
		a.get("/admin/setup").want(200).contains(pa.ServerID).lacks(pb.ServerID)
		a.get("/admin/usage.csv").want(200)
		if strings.Count(a.Body, "\n") != 2 { // header and A's one day of sign-ups
			t.Errorf("A's usage export: %q", a.Body)
		}

		a.get("/admin/policy").want(200)
		form := policyFormValues(a.Body)
		form.Set("rejectAt", "70")
		a.post("/admin/policy", form).wantRedirect("/admin/policy")
		polB, err := app.Svc.Policy(context.Background(), pb.ServerID)
		if err != nil || polB.RejectAt != 85 {
			t.Fatalf("A's policy change reached B: %+v %v", polB, err)
		}
		bb.get("/admin/policy").want(200).contains(`name="rejectAt" type="number" value="85"`)

		// Admins have no operator area, and the other server's id in a
		// URL changes nothing: every admin route reads the session's server.
		for _, path := range []string{"/operator", "/operator/servers/" + pb.ServerID, "/operator/health", "/operator/usage.csv"} {
			a.get(path).want(http.StatusNotFound)
		}
		a.post("/operator/servers/"+pb.ServerID+"/suspend", url.Values{"suspend": {"yes"}}).want(http.StatusNotFound)
	})
}

// TestWebSignedOut sends every protected page to sign-in and leaks nothing.
func TestWebSignedOut(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	b := newBrowser(t, app.URL)
	for _, path := range []string{"/admin", "/admin/checks", "/admin/policy", "/admin/setup", "/admin/debug", "/admin/usage",
		"/admin/usage.csv", "/operator", "/operator/health", "/operator/usage"} {
		b.get(path).wantRedirect("/login?next=")
	}
	b.get("/login").want(200)
	b.post("/admin/policy", url.Values{"reviewAt": {"1"}}).wantRedirect("/login")
	b.get("/login?next=//evil.example/x").want(200)
	b.post("/login", url.Values{"email": {"x@example.org"}, "password": {"x"}, "next": {"//evil.example/x"}}).want(http.StatusUnauthorized)
}

// TestWebOpenRedirect keeps the after-sign-in and language redirects on
// this site.
func TestWebOpenRedirect(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{})
	m := handlertest.NewMastodon(t)
	registerServer(t, app, m, "admin@example.org")
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		b := newBrowser(t, app.URL).get("/login")
		b.post("/login", url.Values{"email": {"admin@example.org"}, "password": {"correct horse battery"}, "next": {next}})
		if loc := b.Header.Get("Location"); loc != "/admin" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
		b.get("/lang/ja?next=" + url.QueryEscape(next))
		if loc := b.Header.Get("Location"); loc != "/" {
			t.Errorf("language switch next=%q redirected to %q", next, loc)
		}
	}
}
