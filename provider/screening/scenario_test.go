package screening

import (
	"fmt"
	"testing"
	"time"
)

var servers = []string{"s1.example", "s2.example", "s3.example"}

func TestFriendsThreadAllowed(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	in := post("ana", 3*365*24*time.Hour, clk.Now(), `<p>dinner at ours on saturday? bring the good bread <a href="https://www.bbc.co.uk/food">bbc.co.uk/food</a></p>`,
		mentions(6, &yes), media("", "c3e1f0f0d8c88c0e"))
	o := e.ScreenContent(bg, servers[0], DefaultPolicy(), in)
	if o.Decision != Allow || o.Score != 0 {
		t.Fatalf("friends' thread: %s %d %v", o.Decision, o.Score, codes(o))
	}
	// The same thread from a brand-new account is still allowed: mentions
	// of followers never count as unsolicited.
	in.Author.CreatedAt = clk.Now().Add(-10 * time.Minute)
	in.Author.Acct = "ana2"
	if o := e.ScreenContent(bg, servers[0], DefaultPolicy(), in); o.Decision != Allow {
		t.Fatalf("new account's friends' thread: %s %d %v", o.Decision, o.Score, codes(o))
	}
}

func TestTenStrangersFromFreshAccountRejected(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	in := post("lenak8841", 5*time.Minute, clk.Now(), "<p>you have unclaimed credit</p>", mentions(10, &no))
	o := e.ScreenContent(bg, servers[0], DefaultPolicy(), in)
	if o.Decision != Reject || !hasCode(o, "unsolicited_mentions") || !hasCode(o, "new_account") {
		t.Fatalf("%s %d %v", o.Decision, o.Score, codes(o))
	}
}

// severity orders decisions.
func severity(d string) int {
	switch d {
	case Review:
		return 1
	case Reject:
		return 2
	}
	return 0
}

// checkEscalation asserts a wave went allow → review → reject in that order.
func checkEscalation(t *testing.T, decisions []string, detail []string) {
	t.Helper()
	firstReview, firstReject := -1, -1
	for i, d := range decisions {
		if d == Review && firstReview < 0 {
			firstReview = i
		}
		if d == Reject && firstReject < 0 {
			firstReject = i
		}
	}
	if decisions[0] != Allow || firstReview < 0 || firstReject < 0 || firstReview > firstReject || decisions[len(decisions)-1] != Reject {
		for i := range decisions {
			t.Logf("wave #%d: %s %s", i, decisions[i], detail[i])
		}
		t.Fatalf("no allow → review → reject escalation (first review %d, first reject %d)", firstReview, firstReject)
	}
	for i := firstReject; i < len(decisions); i++ {
		if severity(decisions[i]) < severity(Review) {
			t.Fatalf("wave #%d fell back to %s after rejects began: %s", i, decisions[i], detail[i])
		}
	}
	for i := range decisions {
		if i < 3 || i == firstReview || i == firstReject || i == len(decisions)-1 {
			t.Logf("  #%d %s %s", i, decisions[i], detail[i])
		}
	}
	t.Logf("wave escalated: allow until #%d, review from #%d, reject from #%d of %d", firstReview-1, firstReview, firstReject, len(decisions))
}

func TestSignupWaveEscalates(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	p := DefaultPolicy()
	g := newTraffic(1)
	// Two days of ordinary sign-ups: 90 an hour over three servers.
	for i := range 2 * 24 * 90 {
		clk.Advance(40 * time.Second)
		if o := e.ScreenSignup(bg, servers[i%3], p, g.ordinarySignup()); o.Decision != Allow {
			t.Fatalf("warm-up sign-up %d: %s %d %v", i, o.Decision, o.Score, codes(o))
		}
	}
	// The wave: a script signing up 3 a minute across the three servers,
	// with ordinary sign-ups continuing in between.
	var decisions, detail []string
	for i := range 90 {
		clk.Advance(20 * time.Second)
		o := e.ScreenSignup(bg, servers[i%3], p, g.botSignup())
		decisions = append(decisions, o.Decision)
		detail = append(detail, fmt.Sprintf("%d %v", o.Score, codes(o)))
		if i%2 == 0 {
			in := g.ordinarySignup()
			if o := e.ScreenSignup(bg, servers[(i/2)%3], p, in); o.Decision != Allow {
				t.Errorf("ordinary sign-up %s during the wave: %s %d %v", in.Account.Username, o.Decision, o.Score, codes(o))
			}
		}
	}
	checkEscalation(t, decisions, detail)
}

func TestContentWaveEscalates(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	p := DefaultPolicy()
	g := newTraffic(2)
	// Two days of ordinary posts, 60 an hour over three servers.
	for i := range 2 * 24 * 60 {
		clk.Advance(time.Minute)
		in := g.ordinaryPost(clk.Now())
		if o := e.ScreenContent(bg, servers[i%3], p, in); o.Decision != Allow {
			t.Fatalf("warm-up post %d: %s %d %v\n%s", i, o.Decision, o.Score, codes(o), in.Post.Text)
		}
	}
	var decisions, detail []string
	for i := range 40 {
		clk.Advance(30 * time.Second)
		link := fmt.Sprintf("https://discord.gg/inv%d", i)
		text := fmt.Sprintf(`<p>%s <a href="%s">%s</a></p>`, g.spamText(), link, link[8:])
		o := e.ScreenContent(bg, servers[i%3], p, post(fmt.Sprintf("signals%d", i), 2*24*time.Hour, clk.Now(), text))
		decisions = append(decisions, o.Decision)
		detail = append(detail, fmt.Sprintf("%d %v", o.Score, codes(o)))
		for range 2 {
			clk.Advance(10 * time.Second)
			in := g.ordinaryPost(clk.Now())
			if o := e.ScreenContent(bg, servers[g.r.IntN(3)], p, in); o.Decision != Allow {
				t.Errorf("ordinary post during the wave: %s %d %v\n%s", o.Decision, o.Score, codes(o), in.Post.Text)
			}
		}
	}
	checkEscalation(t, decisions, detail)
}

func TestHugePostIsBounded(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	g := newTraffic(5)
	var b []byte
	for len(b) < 99_000 {
		b = append(b, g.ordinaryText()+" "...)
	}
	in := post("novelist", 400*24*time.Hour, clk.Now(), string(b[:99_000]))
	if err := ValidateContent(&in); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	o := e.ScreenContent(bg, servers[0], DefaultPolicy(), in)
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("a maximal post took %v", d)
	}
	if o.Features.TextPrint == 0 || len(o.Features.Tokens) > maxTokenIDs {
		t.Fatalf("features of a long post: print %v, %d tokens", o.Features.TextPrint, len(o.Features.Tokens))
	}
}
