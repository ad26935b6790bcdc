package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestClientErrorsAndRequests(t *testing.T) {
	const token = "tok-SECRET-123"
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+string(body))
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"The access token is invalid"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/admin/accounts/1/approve":
			fmt.Fprint(w, `{"id":"1","username":"a","approved":true}`)
		case "/api/v1/admin/accounts/2/approve":
			w.WriteHeader(403)
			fmt.Fprint(w, `{"error":"This action is not allowed"}`)
		case "/api/v1/admin/accounts/3/reject":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			fmt.Fprint(w, `{"error":"Too many requests"}`)
		case "/api/v1/reports":
			fmt.Fprint(w, `{"id":"55","action_taken":false,"category":"spam","status_ids":["9"]}`)
		case "/api/v1/admin/accounts/4/action":
			fmt.Fprint(w, `{}`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error":"Record not found"}`)
		}
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL+"/", token, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Approve(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	err = c.Approve(ctx, "2")
	if StatusOf(err) != 403 || !strings.Contains(err.Error(), "This action is not allowed") {
		t.Errorf("approve 2: %v", err)
	}
	err = c.Reject(ctx, "3")
	var ae *APIError
	if !errors.As(err, &ae) || ae.RetryAfter != 7*time.Second || !ae.Temporary() {
		t.Errorf("reject 3: %v (%+v)", err, ae)
	}
	id, err := c.FileReport(ctx, ReportInput{AccountID: "4", StatusIDs: []string{"9", "x/../1"}, Comment: strings.Repeat("é", 1500)})
	if err != nil || id != "55" {
		t.Fatalf("report: %q %v", id, err)
	}
	if err := c.AccountAction(ctx, "4", ActionSilence, "spam"); err != nil {
		t.Fatal(err)
	}
	if err := c.AccountAction(ctx, "4", "delete_everything", "x"); err == nil {
		t.Error("unsupported action type accepted")
	}
	if _, err := c.GetAccount(ctx, "../1"); err == nil {
		t.Error("an id with a path was accepted")
	}
	bad, _ := NewClient(srv.URL, "wrong", srv.Client())
	err = bad.Approve(ctx, "1")
	if StatusOf(err) != 401 || strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), token) {
		t.Errorf("401: %v", err)
	}

	// The report body is what Mastodon's ReportsController permits.
	var report map[string]any
	for _, g := range got {
		if strings.HasPrefix(g, "POST /api/v1/reports ") {
			_ = json.Unmarshal([]byte(strings.TrimPrefix(g, "POST /api/v1/reports ")), &report)
		}
	}
	if report["account_id"] != "4" || report["category"] != "spam" || report["forward"] != false {
		t.Errorf("report body %v", report)
	}
	if ids := report["status_ids"].([]any); len(ids) != 1 || ids[0] != "9" {
		t.Errorf("status_ids %v", ids)
	}
	if n := len([]rune(report["comment"].(string))); n != MaxCommentLength {
		t.Errorf("comment %d characters, want %d", n, MaxCommentLength)
	}
}

func TestPendingAccountsFollowsLinkHeader(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("pending") != "true" {
			t.Errorf("query %s lost the pending filter", r.URL.RawQuery)
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("max_id") {
		case "":
			w.Header().Set("Link", fmt.Sprintf(`<%s/api/v1/admin/accounts?limit=100&max_id=5&pending=true>; rel="next", <%s/api/v1/admin/accounts?limit=100&min_id=9&pending=true>; rel="prev"`, srv.URL, srv.URL))
			fmt.Fprint(w, `[{"id":"9"},{"id":"5"}]`)
		case "5":
			w.Header().Set("Link", `<https://elsewhere.example/api/v1/admin/accounts?max_id=1&pending=true>; rel="next"`)
			fmt.Fprint(w, `[{"id":"3"}]`)
		default:
			t.Errorf("followed a link to %s", r.URL)
		}
	}))
	defer srv.Close()
	c, _ := NewClient(srv.URL, "t", srv.Client())
	accs, complete, err := c.PendingAccounts(context.Background(), 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(accs) != 3 || !complete {
		t.Fatalf("got %d accounts, complete %v", len(accs), complete)
	}
	accs, complete, err = c.PendingAccounts(context.Background(), 100, 1)
	if err != nil || len(accs) != 2 || complete {
		t.Fatalf("one page: %d accounts, complete %v, %v", len(accs), complete, err)
	}
}

func TestVerifyCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		listed     bool
		wantErr    bool
	}{
		{"4.3+ lists scopes", `{"name":"Breakwater","website":null,"scopes":["admin:read:accounts","admin:write:accounts"],"redirect_uri":"urn:ietf:wg:oauth:2.0:oob","redirect_uris":["urn:ietf:wg:oauth:2.0:oob"]}`, 200, true, false},
		{"older without scopes", `{"name":"Breakwater","website":null,"vapid_key":"BC"}`, 200, false, false},
		{"older needs read: 403", `{"error":"This action is outside the authorized scopes"}`, 403, false, false},
		{"revoked", `{"error":"The access token was revoked"}`, 401, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			c, _ := NewClient(srv.URL, "t", srv.Client())
			app, err := c.VerifyCredentials(context.Background())
			if tc.wantErr {
				if StatusOf(err) != tc.status {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil || app.ScopesListed != tc.listed {
				t.Fatalf("app %+v err %v", app, err)
			}
		})
	}
}

func TestParseAPIURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://Mastodon.Example":       "https://mastodon.example",
		"https://mastodon.example/":      "https://mastodon.example",
		"http://127.0.0.1:3000":          "http://127.0.0.1:3000",
		"https://mastodon.example/api":   "",
		"https://u:p@mastodon.example":   "",
		"ftp://mastodon.example":         "",
		"mastodon.example":               "",
		"https://mastodon.example/?a=1":  "",
		"https://mastodon.example/#frag": "",
	} {
		u, err := ParseAPIURL(raw)
		switch {
		case want == "" && err == nil:
			t.Errorf("%s accepted as %s", raw, u)
		case want != "" && (err != nil || u.String() != want):
			t.Errorf("%s: %v %v, want %s", raw, u, err, want)
		}
	}
	if _, ok := nextLink(`<http://x.example/a>; rel="next"`, &url.URL{Scheme: "https", Host: "x.example"}); ok {
		t.Error("followed a link that downgrades to http")
	}
}
