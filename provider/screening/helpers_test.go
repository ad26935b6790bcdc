package screening

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a test clock the engine reads through Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var testKey = []byte("0123456789abcdef-test-key")

func newEngine(t testing.TB, clk *clock, mod ...func(*Options)) *Engine {
	t.Helper()
	opts := Options{Now: clk.Now, HashKey: testKey}
	for _, m := range mod {
		m(&opts)
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// signup builds a sign-up; fields are set by the options.
func signup(user, email, ip string, opts ...func(*SignupInput)) SignupInput {
	in := SignupInput{Account: SignupAccount{Username: user, Email: email}, IP: ip}
	for _, o := range opts {
		o(&in)
	}
	return in
}

func withApp(app string) func(*SignupInput) {
	return func(in *SignupInput) {
		if in.Client == nil {
			in.Client = &SignupClient{}
		}
		in.Client.Application = app
	}
}

func withDisplay(name string) func(*SignupInput) {
	return func(in *SignupInput) { in.Account.DisplayName = name }
}

func withReason(r string) func(*SignupInput) {
	return func(in *SignupInput) { in.Account.Reason, in.Account.ReasonRequired = r, true }
}

var yes, no = true, false

// post builds a post by an author of the given age.
func post(acct string, age time.Duration, now time.Time, html string, opts ...func(*ContentInput)) ContentInput {
	in := ContentInput{
		Post:   Post{Text: html, Visibility: "public", Mentions: []Mention{}},
		Author: Author{Acct: acct, CreatedAt: now.Add(-age), Local: true},
	}
	for _, o := range opts {
		o(&in)
	}
	return in
}

func mentions(n int, follows *bool) func(*ContentInput) {
	return func(in *ContentInput) {
		var b strings.Builder
		for i := range n {
			acct := fmt.Sprintf("user%d@other.example", i)
			in.Post.Mentions = append(in.Post.Mentions, Mention{Acct: acct, FollowsAuthor: follows})
			fmt.Fprintf(&b, `<span class="h-card"><a href="https://other.example/@user%d" class="u-url mention">@<span>user%d</span></a></span> `, i, i)
		}
		in.Post.Text = "<p>" + b.String() + strings.TrimPrefix(in.Post.Text, "<p>")
	}
}

func visibility(v string) func(*ContentInput) {
	return func(in *ContentInput) { in.Post.Visibility = v }
}

func media(sha, phash string) func(*ContentInput) {
	return func(in *ContentInput) { in.Post.Media = append(in.Post.Media, Media{SHA256: sha, PHash: phash}) }
}

func codes(o Outcome) []string {
	var out []string
	for _, r := range o.Reasons {
		out = append(out, fmt.Sprintf("%s:%d", r.Code, r.Weight))
	}
	return out
}

func hasCode(o Outcome, code string) bool {
	for _, r := range o.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

var bg = context.Background()

func stringsContains(s, sub string) bool { return strings.Contains(s, sub) }
