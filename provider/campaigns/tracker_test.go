package campaigns

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTracker(t *testing.T, mod func(*Params)) (*Tracker, *clock) {
	t.Helper()
	c := &clock{t: t0}
	p := DefaultParams()
	if mod != nil {
		mod(&p)
	}
	tr, err := New(Options{Now: c.Now, Params: p})
	if err != nil {
		t.Fatal(err)
	}
	return tr, c
}

const spamText = 0xF0F0_1234_5678_9ABC

// post is a fresh account's post with the spam text on server srv.
func post(n int, srv string, at time.Time) Event {
	return Event{CheckID: fmt.Sprintf("chk_%d", n), ServerID: srv, ServerDomain: srv + ".example", Gate: GateContent, At: at,
		Account: uint64(1000 + n), AuthorAge: time.Hour, Local: true, Flagged: n%2 == 0, Text: spamText ^ uint64(n%3),
		Mentions: 10}
}

// open feeds the tracker posts until it proposes, installs the proposal and
// returns the campaign.
func open(t *testing.T, tr *Tracker, c *clock, id string) Campaign {
	t.Helper()
	for i := 0; i < 10; i++ {
		res := tr.Observe(post(i, []string{"s1", "s2"}[i%2], c.t))
		c.advance(time.Second)
		if res.Proposal != nil {
			camp := NewCampaign(id, res.Proposal, tr.Params())
			tr.Install(camp)
			return camp
		}
	}
	t.Fatal("no campaign proposed")
	return Campaign{}
}

func TestOpensAtThreshold(t *testing.T) {
	tr, c := newTracker(t, nil)
	// Two accounts on two servers: not yet.
	for i := 0; i < 2; i++ {
		if res := tr.Observe(post(i, []string{"s1", "s2"}[i], c.t)); res.Proposal != nil {
			t.Fatalf("proposal after %d posts", i+1)
		}
	}
	res := tr.Observe(post(2, "s1", c.t))
	if res.Proposal == nil {
		t.Fatal("three fresh accounts on two servers within an hour: want a proposal")
	}
	p := res.Proposal
	if p.Kind != KindText || len(p.Members) != 3 || len(p.Evidence.Texts) == 0 || p.Label != "mass-mention posts" {
		t.Fatalf("proposal = %+v", p)
	}
	camp := NewCampaign("cmp_1", p, tr.Params())
	if camp.Hits != 3 || len(camp.Servers) != 2 || len(camp.Origins) != 2 {
		t.Fatalf("campaign = %+v", camp)
	}
}

func TestDoesNotOpen(t *testing.T) {
	cases := []struct {
		name string
		mod  func(i int, e *Event)
	}{
		{"established accounts", func(_ int, e *Event) { e.AuthorAge = 400 * 24 * time.Hour }},
		{"one server", func(_ int, e *Event) { e.ServerID = "s1" }},
		{"one account", func(_ int, e *Event) { e.Account = 7 }},
		{"outside the window", func(i int, e *Event) { e.At = t0.Add(time.Duration(i) * 61 * time.Minute) }},
		{"different texts", func(i int, e *Event) { e.Text = uint64(i+1) * 0x9E37_79B9_7F4A_7C15 }},
		{"never flagged", func(_ int, e *Event) { e.Flagged = false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, _ := newTracker(t, nil)
			for i := 0; i < 6; i++ {
				e := post(i, []string{"s1", "s2"}[i%2], t0.Add(time.Duration(i)*time.Second))
				tc.mod(i, &e)
				if res := tr.Observe(e); res.Proposal != nil {
					t.Fatalf("proposal after %d posts: %+v", i+1, res.Proposal)
				}
			}
		})
	}
}

func TestMatchGrowthAndNotices(t *testing.T) {
	tr, c := newTracker(t, nil)
	camp := open(t, tr, c, "cmp_a")
	if camp.Kind != KindText {
		t.Fatalf("kind %s", camp.Kind)
	}
	// A slight variation of the text matches, from a server that has not
	// seen the campaign yet: a notice for that server.
	ev := post(20, "s3", c.t)
	ev.Text = spamText ^ 0b111000 // 3 bits away (4 from the other prints)
	if m, ok := tr.Match(ev.query()); !ok || m.ID != "cmp_a" {
		t.Fatalf("variant does not match: %+v %v", m, ok)
	}
	res := tr.Observe(ev)
	if res.Campaign != "cmp_a" || len(res.NewEvidence.Texts) != 1 {
		t.Fatalf("result = %+v", res)
	}
	if len(res.Notices) != 1 || res.Notices[0].Kind != NoticeCampaign || res.Notices[0].ServerID != "s3" {
		t.Fatalf("notices = %+v", res.Notices)
	}
	// The campaign grew: a text 6 bits from the variant (9 from the
	// original) now matches too.
	drift := Query{Gate: GateContent, At: c.t, Text: ev.Text ^ 0b111111<<20}
	if _, ok := tr.Match(drift); !ok {
		t.Fatal("grown evidence does not match a further variant")
	}
	// An image posted by a campaign account becomes evidence: the same
	// image with a new text matches.
	ev2 := post(21, "s3", c.t)
	ev2.Media = []uint64{0xabc}
	if res := tr.Observe(ev2); res.Campaign != "cmp_a" || len(res.NewEvidence.Media) != 1 {
		t.Fatalf("result = %+v", res)
	}
	if m, ok := tr.Match(Query{Gate: GateContent, At: c.t, Media: []uint64{0xabc}}); !ok || m.ID != "cmp_a" {
		t.Fatal("image evidence does not match")
	}
	// Sign-ups never match a content campaign.
	if _, ok := tr.Match(Query{Gate: GateSignup, At: c.t, Text: spamText}); ok {
		t.Fatal("a sign-up matched a content campaign")
	}
	// Local accounts of s3 posting it make s3 a source (3 checks, 2 accounts).
	var notices []Notice
	for i := 22; i < 25; i++ {
		notices = append(notices, tr.Observe(post(i, "s3", c.t)).Notices...)
	}
	found := false
	for _, n := range notices {
		if n.Kind == NoticeSource && n.ServerID == "s3" && n.CampaignID == "cmp_a" && n.Hits >= 3 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no source notice for s3: %+v", notices)
	}
}

func TestExpiryAndExtend(t *testing.T) {
	tr, c := newTracker(t, nil)
	camp := open(t, tr, c, "cmp_e")
	q := Query{Gate: GateContent, Text: spamText}
	q.At = camp.LastHitAt.Add(14*24*time.Hour - time.Minute)
	if _, ok := tr.Match(q); !ok {
		t.Fatal("campaign inactive before its quiet period ended")
	}
	q.At = camp.LastHitAt.Add(14*24*time.Hour + time.Minute)
	if _, ok := tr.Match(q); ok {
		t.Fatal("campaign still matches after 14 quiet days")
	}
	if got := tr.Expired(q.At); len(got) != 1 || got[0] != "cmp_e" {
		t.Fatalf("Expired = %v", got)
	}
	cur, _ := tr.Get("cmp_e")
	cur.Status = StatusExpired
	tr.Install(cur)
	if got := tr.Expired(q.At); len(got) != 0 {
		t.Fatalf("Expired after storing = %v", got)
	}
	// Extending reactivates it for another quiet period from now.
	ext, err := Apply(cur, ActionExtend, "op@example", q.At, tr.Params().Quiet)
	if err != nil {
		t.Fatal(err)
	}
	tr.Install(ext)
	if _, ok := tr.Match(q); !ok {
		t.Fatal("extended campaign does not match")
	}
	q.At = q.At.Add(14*24*time.Hour - time.Hour)
	if _, ok := tr.Match(q); !ok {
		t.Fatal("extension shorter than a quiet period")
	}
}

func TestDismissedNeverReopens(t *testing.T) {
	tr, c := newTracker(t, nil)
	camp := open(t, tr, c, "cmp_d")
	d, err := Apply(camp, ActionDismiss, "op@example", c.t, tr.Params().Quiet)
	if err != nil {
		t.Fatal(err)
	}
	tr.Install(d)
	if _, ok := tr.Match(Query{Gate: GateContent, At: c.t, Text: spamText}); ok {
		t.Fatal("a dismissed campaign matched")
	}
	// The same evidence again, much more of it, on more servers, later:
	// never a proposal, never a hit.
	for i := 0; i < 60; i++ {
		c.advance(30 * time.Second)
		res := tr.Observe(post(100+i, fmt.Sprintf("s%d", i%5), c.t))
		if res.Proposal != nil || res.Campaign != "" {
			t.Fatalf("dismissed pattern came back after %d posts: %+v", i+1, res)
		}
	}
	// Different evidence still opens campaigns.
	for i := 0; i < 3; i++ {
		e := post(200+i, []string{"s1", "s2"}[i%2], c.t)
		e.Text = 0x0F0F_0F0F_0000_FFFF
		e.Flagged = true
		if res := tr.Observe(e); i == 2 && res.Proposal == nil {
			t.Fatal("unrelated text did not open a campaign")
		}
	}
	// The operator can change their mind: confirming reactivates it.
	cur, _ := tr.Get("cmp_d")
	conf, _ := Apply(cur, ActionConfirm, "op@example", c.t, tr.Params().Quiet)
	tr.Install(conf)
	if m, ok := tr.Match(Query{Gate: GateContent, At: c.t, Text: spamText}); !ok || !m.Confirmed {
		t.Fatalf("confirmed campaign: %+v %v", m, ok)
	}
	if _, err := Apply(d, ActionExtend, "op", c.t, time.Hour); err == nil {
		t.Fatal("extending a dismissed campaign should fail")
	}
	if _, err := Apply(d, "delete", "op", c.t, time.Hour); err == nil {
		t.Fatal("unknown action accepted")
	}
}

func TestSignupCampaignAndBurst(t *testing.T) {
	tr, c := newTracker(t, nil)
	var prop *Proposal
	for i := 0; i < 25 && prop == nil; i++ {
		ev := Event{CheckID: fmt.Sprintf("s_%d", i), ServerID: "big", ServerDomain: "big.example", Gate: GateSignup, At: c.t,
			Account: uint64(i + 1), Flagged: i%2 == 1, Signup: 0x5151, BurstSignup: true}
		prop = tr.Observe(ev).Proposal
		c.advance(100 * time.Millisecond)
	}
	if prop == nil || prop.Kind != KindSignup || prop.Label != "scripted sign-ups" {
		t.Fatalf("proposal = %+v", prop)
	}
	tr.Install(NewCampaign("cmp_s", prop, tr.Params()))
	if id, ok := tr.BurstExplained("big", c.t); !ok || id != "cmp_s" {
		t.Fatalf("burst not explained: %q %v", id, ok)
	}
	if _, ok := tr.BurstExplained("other", c.t); ok {
		t.Fatal("burst explained on a server the campaign never hit")
	}
	if _, ok := tr.BurstExplained("big", c.t.Add(11*time.Minute)); ok {
		t.Fatal("burst explained long after the campaign's last sign-up there")
	}
	if _, ok := tr.Match(Query{Gate: GateSignup, At: c.t, Signup: 0x5151}); !ok {
		t.Fatal("pattern does not match")
	}
}

func TestGhostShip(t *testing.T) {
	tr, c := newTracker(t, nil)
	tr.NoteFeedback("busy", t0.Add(-time.Hour)) // moderators answered an hour ago
	signup := func(srv string, i int) []Notice {
		return tr.Observe(Event{CheckID: fmt.Sprint(i), ServerID: srv, ServerDomain: srv + ".example", Gate: GateSignup, At: c.t,
			Account: uint64(i + 1), Flagged: true, BurstSignup: true}).Notices
	}
	var ghost []Notice
	for i := 0; i < 40; i++ {
		for _, n := range append(signup("ghost", i), signup("busy", i)...) {
			if n.Kind == NoticeGhost {
				ghost = append(ghost, n)
			}
		}
		c.advance(time.Minute)
	}
	if len(ghost) != 1 || ghost[0].ServerID != "ghost" || ghost[0].Domain != "ghost.example" {
		t.Fatalf("ghost notices = %+v", ghost)
	}
	if _, ok := tr.Ghost("ghost"); !ok {
		t.Fatal("ghost not reported")
	}
	if _, ok := tr.Ghost("busy"); ok {
		t.Fatal("a server with recent moderator feedback judged a ghost ship")
	}
	tr.NoteFeedback("ghost", c.t)
	if _, ok := tr.Ghost("ghost"); ok {
		t.Fatal("still a ghost after feedback")
	}
}

func TestFeedbackConfirms(t *testing.T) {
	tr, c := newTracker(t, nil)
	open(t, tr, c, "cmp_f")
	if tr.Feedback("cmp_f", "s1", "spam", "") {
		t.Fatal("one server's verdict confirmed the campaign")
	}
	if !tr.Feedback("cmp_f", "s2", "spam", "") {
		t.Fatal("two servers' spam verdicts did not confirm the campaign")
	}
	if !tr.Feedback("cmp_f", "s2", "ham", "spam") {
		t.Fatal("changing a verdict to ham did not unconfirm")
	}
}

func TestOriginReputationDecays(t *testing.T) {
	tr, c := newTracker(t, nil)
	open(t, tr, c, "cmp_r")
	for i := 0; i < 4; i++ {
		e := post(50+i, "s1", c.t)
		e.Local, e.Origin = false, "spam.example"
		tr.Observe(e)
	}
	var rep OriginReputation
	for _, o := range tr.Origins(c.t) {
		if o.Domain == "spam.example" {
			rep = o
		}
	}
	if rep.Hits != 4 || rep.Score < 3.9 {
		t.Fatalf("reputation = %+v", rep)
	}
	later := rep.ScoreNow(c.t.Add(48*time.Hour), tr.Params().HalfLife)
	if later > rep.Score/3.9 || later < rep.Score/4.1 {
		t.Fatalf("score after two half-lives = %v (from %v)", later, rep.Score)
	}
	if len(tr.DirtyOrigins()) == 0 || len(tr.DirtyOrigins()) != 0 {
		t.Fatal("dirty origins not reported exactly once")
	}
}

func TestParamsValidate(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatal(err)
	}
	p := DefaultParams()
	p.Text.Accounts = 1
	p.MediaDistance = 9
	if err := p.Validate(); err == nil {
		t.Fatal("bad params accepted")
	}
}

// TestCandidatesBounded: a flood of distinct fresh-account posts and
// attachments, far beyond the tracker's budget, keeps its candidates within
// bounds, and a wave arriving in the middle of the flood still opens a
// campaign: the newest candidates are the ones kept.
func TestCandidatesBounded(t *testing.T) {
	c := &clock{t: t0}
	tr, err := New(Options{Now: c.Now, MemoryBudget: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	noise := func(i int) Event {
		return Event{CheckID: fmt.Sprintf("noise_%d", i), ServerID: fmt.Sprintf("s%d", i%5), Gate: GateContent, At: c.t,
			Account: uint64(1e6 + i), AuthorAge: time.Hour, Local: true, Text: uint64(i)*0x9E3779B97F4A7C15 | 1,
			Media: []uint64{uint64(i) + 1}}
	}
	for i := range 40_000 {
		tr.Observe(noise(i))
		if i%50 == 0 {
			c.advance(time.Second)
		}
	}
	st := tr.Stats()
	if st.Text.Bytes > (1<<20)*40/100+1024 || st.ExactBytes > (1<<20)*40/100 || st.EvictedCandidates == 0 {
		t.Fatalf("after the flood: %+v", st)
	}
	// Sign-ups of a few patterns: candidates that grow in members, not in
	// number, are held to the budget too.
	for i := range 20_000 {
		tr.Observe(Event{CheckID: fmt.Sprintf("signup_%d", i), ServerID: fmt.Sprintf("s%d", i%5), Gate: GateSignup, At: c.t,
			Account: uint64(2e6 + i), Signup: uint64(i%50) + 1})
	}
	if st := tr.Stats(); st.ExactBytes > (1<<20)*40/100 || tr.signups.bytes > (1<<20)*10/100 {
		t.Fatalf("sign-up candidates over budget: %d bytes, %+v", tr.signups.bytes, st)
	}
	var opened bool
	for i := range 6 {
		res := tr.Observe(post(i, []string{"s1", "s2"}[i%2], c.t))
		tr.Observe(noise(50_000 + i))
		c.advance(time.Second)
		opened = opened || res.Proposal != nil
	}
	if !opened {
		t.Fatalf("a wave inside the flood was not recognised: %+v", tr.Stats())
	}
}
