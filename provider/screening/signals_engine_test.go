package screening

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// reasonWeight returns the weight of a code in an outcome (0 if absent).
func reasonWeight(o Outcome, code string) int {
	w := 0
	for _, r := range o.Reasons {
		if r.Code == code {
			w += r.Weight
		}
	}
	return w
}

func TestIPVelocityAcrossServers(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	want := []int{0, 0, 0, 70, 70, 90}
	for i, w := range want {
		clk.Advance(time.Minute)
		o := e.ScreenSignup(bg, servers[i%3], DefaultPolicy(), signup(fmt.Sprintf("user_%d", i), fmt.Sprintf("u%d@gmail.com", i), "203.0.113.7"))
		if got := reasonWeight(o, "ip_velocity"); got != w {
			t.Fatalf("sign-up %d: ip_velocity %d, want %d (%v)", i+1, got, w, codes(o))
		}
	}
	// 31 minutes later the window has moved on.
	clk.Advance(31 * time.Minute)
	o := e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("late", "late@gmail.com", "203.0.113.7"))
	if hasCode(o, "ip_velocity") {
		t.Fatalf("window did not slide: %v", codes(o))
	}
	// IPv6: the /64 counts, not the address.
	for i := range 4 {
		o = e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup(fmt.Sprintf("v6_%d", i), fmt.Sprintf("v%d@gmail.com", i), fmt.Sprintf("2001:db8:1:2::%x", i+1)))
	}
	if !hasCode(o, "ip_velocity") {
		t.Fatalf("ipv6 /64 not aggregated: %v", codes(o))
	}
}

func TestIPPrefixVelocity(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	var o Outcome
	for i := range 11 {
		clk.Advance(4 * time.Minute)
		o = e.ScreenSignup(bg, servers[i%3], DefaultPolicy(), signup(fmt.Sprintf("user_%d", i), fmt.Sprintf("u%d@gmail.com", i), fmt.Sprintf("198.51.100.%d", 10+i)))
		if i < 10 && hasCode(o, "ip_prefix_velocity") {
			t.Fatalf("sign-up %d: fired early", i+1)
		}
	}
	if reasonWeight(o, "ip_prefix_velocity") != 70 || hasCode(o, "ip_velocity") {
		t.Fatalf("11th from the /24: %v", codes(o))
	}
}

func TestEmailReuseCanonical(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("jdoe", "J.Doe+masto@gmail.com", "203.0.113.1"))
	clk.Advance(time.Hour)
	o := e.ScreenSignup(bg, servers[1], DefaultPolicy(), signup("jdoe", "jdoe@googlemail.com", "203.0.113.2"))
	if reasonWeight(o, "email_reuse") != 25 {
		t.Fatalf("same mailbox on another server: %v", codes(o))
	}
	o = e.ScreenSignup(bg, servers[2], DefaultPolicy(), signup("jdoe", "j.d.o.e@gmail.com", "203.0.113.3"))
	if reasonWeight(o, "email_reuse") != 45 {
		t.Fatalf("third server: %v", codes(o))
	}
	if o.Features.EmailKey == 0 {
		t.Fatal("no e-mail key")
	}
	o2 := e.ScreenSignup(bg, servers[2], DefaultPolicy(), signup("other", "jdoe@outlook.com", "203.0.113.4"))
	if hasCode(o2, "email_reuse") {
		t.Fatalf("different provider is a different mailbox: %v", codes(o2))
	}
}

func TestEmailProviderBurstIgnoresSteadyGmail(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	g := newTraffic(3)
	// A week of gmail at a varying 30-90 an hour and outlook at 2-10.
	for h := range 7 * 24 {
		n := 30 + g.r.IntN(61)
		m := 2 + g.r.IntN(9)
		step := time.Hour / time.Duration(n+m)
		for i := range n + m {
			clk.Advance(step)
			provider := "gmail.com"
			if i%((n+m)/m) == 0 {
				provider = "outlook.com"
			}
			name := g.humanName()
			o := e.ScreenSignup(bg, servers[i%3], DefaultPolicy(), signup(name, name+"@"+provider, g.ip()))
			if hasCode(o, "email_provider_burst") && h > 0 {
				t.Fatalf("hour %d: steady traffic fired: %v", h, codes(o))
			}
		}
	}
	// Outlook jumps to 3 a minute.
	var o Outcome
	for i := range 30 {
		clk.Advance(20 * time.Second)
		name := g.humanName()
		o = e.ScreenSignup(bg, servers[i%3], DefaultPolicy(), signup(name, name+"@outlook.com", g.ip()))
	}
	if !hasCode(o, "email_provider_burst") {
		t.Fatalf("outlook burst not seen: %v", codes(o))
	}
}

func TestServerSignupBurst(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	g := newTraffic(4)
	// Two days at 3 a minute on one big server.
	for range 2 * 24 * 60 * 3 {
		clk.Advance(20 * time.Second)
		name := g.humanName()
		o := e.ScreenSignup(bg, "big.example", DefaultPolicy(), signup(name, name+"@gmail.com", g.ip()))
		if hasCode(o, "server_signup_burst") {
			t.Fatalf("3 a minute fired: %v", codes(o))
		}
	}
	// 900 a minute.
	var o Outcome
	for range 900 {
		clk.Advance(time.Minute / 900)
		name := g.humanName()
		o = e.ScreenSignup(bg, "big.example", DefaultPolicy(), signup(name, name+"@gmail.com", g.ip()))
	}
	if w := reasonWeight(o, "server_signup_burst"); w < 70 || o.Decision == Allow {
		t.Fatalf("900 a minute: %s %v", o.Decision, codes(o))
	}
	// A person with another provider signing up during the burst is held
	// for review, not rejected.
	o = e.ScreenSignup(bg, "big.example", DefaultPolicy(), signup("maria_silva", "maria.silva@proton.me", g.ip()))
	if o.Decision != Review || !hasCode(o, "server_signup_burst") {
		t.Fatalf("person during the burst: %s %v", o.Decision, codes(o))
	}
	// Another server is unaffected.
	o = e.ScreenSignup(bg, "small.example", DefaultPolicy(), signup("quiet_user", "quiet@gmail.com", g.ip()))
	if hasCode(o, "server_signup_burst") {
		t.Fatalf("burst leaked to another server: %v", codes(o))
	}
}

func TestReasonDuplicateAcrossServers(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	reason := "Hello I would like to join this great community to share crypto trading ideas with everyone here"
	var o Outcome
	for i := range 3 {
		clk.Advance(5 * time.Minute)
		o = e.ScreenSignup(bg, servers[i%2], DefaultPolicy(), signup(fmt.Sprintf("trader_%d", i), fmt.Sprintf("t%d@gmail.com", i), fmt.Sprintf("203.0.113.%d", i), withReason(reason)))
		if i < 2 && hasCode(o, "reason_duplicate") {
			t.Fatalf("fired on sign-up %d", i+1)
		}
	}
	if reasonWeight(o, "reason_duplicate") != 45 {
		t.Fatalf("third identical reason: %v", codes(o))
	}
	o = e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("baker", "b@gmail.com", "203.0.113.9", withReason("I run a small bakery in Malmö and want to follow local food people and farmers")))
	if hasCode(o, "reason_duplicate") || hasCode(o, "reason_templated") || hasCode(o, "reason_empty") {
		t.Fatalf("genuine reason: %v", codes(o))
	}
	o = e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("shy", "s@gmail.com", "203.0.113.10", withReason("")))
	if !hasCode(o, "reason_empty") {
		t.Fatalf("empty required reason: %v", codes(o))
	}
	o = e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("apiuser", "a@gmail.com", "203.0.113.11"))
	if hasCode(o, "reason_empty") {
		t.Fatalf("no reason field: %v", codes(o))
	}
}

func TestDisposableLists(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	o := e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("temp", "temp@mailinator.com", "203.0.113.1"))
	if !hasCode(o, "disposable_email") {
		t.Fatalf("embedded list: %v", codes(o))
	}
	e2 := newEngine(t, clk, func(o *Options) {
		o.DisposableDomains = []string{"throwaway.example"}
		o.DenyEmailDomains = []string{"spamhaus.example"}
	})
	if o := e2.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("temp", "temp@mailinator.com", "203.0.113.1")); hasCode(o, "disposable_email") {
		t.Fatalf("replaced list still used: %v", codes(o))
	}
	if o := e2.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("temp2", "t@x.throwaway.example", "203.0.113.2")); !hasCode(o, "disposable_email") {
		t.Fatalf("custom list parent match: %v", codes(o))
	}
	o = e2.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("temp3", "t@spamhaus.example", "203.0.113.3"))
	if o.Decision != Reject || !hasCode(o, "deny_listed_email_domain") {
		t.Fatalf("provider deny list: %s %v", o.Decision, codes(o))
	}
	p := DefaultPolicy()
	p.AllowEmailDomains = []string{"spamhaus.example"}
	o = e2.ScreenSignup(bg, servers[1], p, signup("temp4", "t@spamhaus.example", "203.0.113.4"))
	if o.Decision != Allow || !hasCode(o, "allow_listed") || hasCode(o, "deny_listed_email_domain") {
		t.Fatalf("allow wins: %s %v", o.Decision, codes(o))
	}
	if _, err := New(Options{HashKey: testKey, DisposableDomains: []string{"bad domain"}}); err == nil {
		t.Fatal("bad list accepted")
	}
}

type fakeResolver struct {
	calls   atomic.Int32
	answers map[string]func(ctx context.Context) ([]*net.MX, error)
}

func (f *fakeResolver) LookupMX(ctx context.Context, domain string) ([]*net.MX, error) {
	f.calls.Add(1)
	if a, ok := f.answers[domain]; ok {
		return a(ctx)
	}
	return []*net.MX{{Host: "mx." + domain, Pref: 10}}, nil
}

func TestEmailNoMX(t *testing.T) {
	clk := newClock()
	res := &fakeResolver{answers: map[string]func(ctx context.Context) ([]*net.MX, error){
		"nxdomain.example": func(context.Context) ([]*net.MX, error) {
			return nil, &net.DNSError{Err: "no such host", Name: "nxdomain.example", IsNotFound: true}
		},
		"nullmx.example": func(context.Context) ([]*net.MX, error) { return []*net.MX{{Host: ".", Pref: 0}}, nil },
		"empty.example":  func(context.Context) ([]*net.MX, error) { return nil, nil },
		"slow.example": func(ctx context.Context) ([]*net.MX, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
		"servfail.example": func(context.Context) ([]*net.MX, error) {
			return nil, &net.DNSError{Err: "server misbehaving", Name: "servfail.example", IsTemporary: true}
		},
	}}
	e := newEngine(t, clk, func(o *Options) { o.Resolver = res; o.MXTimeout = 20 * time.Millisecond })
	cases := []struct {
		domain string
		fires  bool
	}{
		{"nxdomain.example", true}, {"nullmx.example", true}, {"empty.example", true},
		{"slow.example", false}, {"servfail.example", false}, {"gmail.com", false},
	}
	for i, c := range cases {
		start := time.Now()
		o := e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup(fmt.Sprintf("mx%d", i), "someone@"+c.domain, fmt.Sprintf("203.0.113.%d", i)))
		if hasCode(o, "email_no_mx") != c.fires {
			t.Errorf("%s: %v", c.domain, codes(o))
		}
		if c.domain == "slow.example" && (time.Since(start) > time.Second || o.Decision != Allow) {
			t.Errorf("timeout must add nothing and return promptly: %v %s", time.Since(start), o.Decision)
		}
	}
	before := res.calls.Load()
	e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("again", "other@nxdomain.example", "203.0.113.99"))
	if res.calls.Load() != before {
		t.Error("negative answer not cached")
	}
	// Off without a resolver.
	e2 := newEngine(t, clk)
	if o := e2.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("x", "x@nxdomain.example", "203.0.113.1")); hasCode(o, "email_no_mx") {
		t.Error("no resolver must mean no MX check")
	}
}

func TestLinkDomainNewAndDenyLists(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk, func(o *Options) { o.DenyLinkDomains = []string{"dni.example"} })
	old := 400 * 24 * time.Hour
	link := func(u string) string { return fmt.Sprintf(`<p>read this <a href="%s">%s</a></p>`, u, u) }
	e.ScreenContent(bg, servers[0], DefaultPolicy(), post("a", old, clk.Now(), link("https://github.com/x")))
	// A young network calls nothing new.
	if o := e.ScreenContent(bg, servers[0], DefaultPolicy(), post("b", old, clk.Now(), link("https://fresh.example/1"))); hasCode(o, "link_domain_new") {
		t.Fatalf("young network: %v", codes(o))
	}
	clk.Advance(25 * time.Hour)
	if o := e.ScreenContent(bg, servers[1], DefaultPolicy(), post("c", old, clk.Now(), link("https://github.com/y"))); hasCode(o, "link_domain_new") {
		t.Fatalf("known domain: %v", codes(o))
	}
	if o := e.ScreenContent(bg, servers[1], DefaultPolicy(), post("d", old, clk.Now(), link("https://brand-new.example/x"))); !hasCode(o, "link_domain_new") || o.Decision != Allow {
		t.Fatalf("new domain: %s %v", o.Decision, codes(o))
	}
	if o := e.ScreenContent(bg, servers[1], DefaultPolicy(), post("e", old, clk.Now(), "<p>see https://www.dni.example/promo</p>")); o.Decision != Reject || !hasCode(o, "link_deny_listed") {
		t.Fatalf("provider deny list, plain-text URL: %s %v", o.Decision, codes(o))
	}
	p := DefaultPolicy()
	p.DenyDomains = []string{"quick-yield.example"}
	in := post("f", old, clk.Now(), "<p>claim now</p>")
	in.Post.Links = []string{"https://r.quick-yield.example/8841"}
	if o := e.ScreenContent(bg, servers[1], p, in); o.Decision != Reject || !hasCode(o, "link_deny_listed") {
		t.Fatalf("server deny list via post.links: %s %v", o.Decision, codes(o))
	}
}

func TestDuplicateMediaFreshAccounts(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	// The same picture, re-encoded: different SHA-256, pHash a few bits apart.
	phashes := []string{"c3e1f0f0d8c88c0e", "c3e1f0f0d8c88c0f", "c3e1f0f0d8c88e0e", "c3e1f0f2d8c88c0a", "c3e1f0f0d8c88c0e", "c3e1f0f0d8c89c0e"}
	var o Outcome
	// Established accounts sharing it: a meme, not a wave.
	for i := range 5 {
		o = e.ScreenContent(bg, servers[i%3], DefaultPolicy(), post(fmt.Sprintf("old%d", i), 400*24*time.Hour, clk.Now(), "<p>lol</p>",
			media(fmt.Sprintf("%064x", 1000+i), phashes[i])))
		if hasCode(o, "duplicate_media") {
			t.Fatalf("old accounts fired: %v", codes(o))
		}
	}
	for i := range 6 {
		clk.Advance(2 * time.Minute)
		o = e.ScreenContent(bg, servers[i%3], DefaultPolicy(), post(fmt.Sprintf("fresh%d", i), time.Hour, clk.Now(), "<p>nice</p>",
			media(fmt.Sprintf("%064x", 2000+i), phashes[i])))
		switch {
		case i < 2 && hasCode(o, "duplicate_media"):
			t.Fatalf("fresh %d fired early: %v", i, codes(o))
		case i >= 2 && i < 5 && reasonWeight(o, "duplicate_media") != 70:
			t.Fatalf("fresh %d: %v", i, codes(o))
		}
	}
	if reasonWeight(o, "duplicate_media") != 90 {
		t.Fatalf("sixth fresh account on three servers: %v", codes(o))
	}
	// Exact SHA-256 without a pHash matches too.
	for i := range 3 {
		o = e.ScreenContent(bg, servers[i%3], DefaultPolicy(), post(fmt.Sprintf("sha%d", i), time.Hour, clk.Now(), "<p>x</p>", media(fmt.Sprintf("%064x", 7), "")))
	}
	if !hasCode(o, "duplicate_media") {
		t.Fatalf("exact match: %v", codes(o))
	}
}

func TestPostingVelocityAndDirectMessages(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	var o Outcome
	for i := range 31 {
		clk.Advance(15 * time.Second)
		o = e.ScreenContent(bg, servers[0], DefaultPolicy(), post("chatty", 400*24*time.Hour, clk.Now(), fmt.Sprintf("<p>reply %d</p>", i), mentions(1, &yes)))
		if i < 30 && hasCode(o, "posting_velocity") {
			t.Fatalf("post %d fired", i+1)
		}
	}
	if !hasCode(o, "posting_velocity") {
		t.Fatalf("31 posts with mentions in 10 minutes: %v", codes(o))
	}
	dm := post("scammer", 2*time.Hour, clk.Now(), `<p>you have unclaimed investment credit, claim it at <a href="https://quick-yield.example/r/8841">quick-yield.example/r/8841</a></p>`,
		mentions(1, &no), visibility("direct"))
	o = e.ScreenContent(bg, servers[1], DefaultPolicy(), dm)
	if !slices.Contains(codes(o), "direct_to_strangers:45") || o.Decision == Allow {
		t.Fatalf("scam DM: %s %v", o.Decision, codes(o))
	}
}

func TestJapaneseNearDuplicateWave(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	spam := "<p>今だけ限定！仮想通貨で毎日確実に利益が出る方法を無料で教えます。今すぐ登録してください</p>"
	var o Outcome
	for i := range 3 {
		clk.Advance(time.Minute)
		o = e.ScreenContent(bg, servers[i%3], DefaultPolicy(), post(fmt.Sprintf("jp%d", i), 300*24*time.Hour, clk.Now(), spam))
	}
	if reasonWeight(o, "near_duplicate_text") != 70 {
		t.Fatalf("japanese wave: %v", codes(o))
	}
	o = e.ScreenContent(bg, servers[0], DefaultPolicy(), post("jp-normal", 300*24*time.Hour, clk.Now(), "<p>昨日は友達と一緒に公園を散歩して、桜がとてもきれいでした。また来年も行きたいです</p>"))
	if hasCode(o, "near_duplicate_text") {
		t.Fatalf("ordinary japanese: %v", codes(o))
	}
}
