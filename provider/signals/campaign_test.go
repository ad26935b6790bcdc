package signals

import (
	"context"
	"slices"
	"testing"
	"time"
)

// fakeCampaigns is a scripted CampaignLookup: texts and patterns it knows,
// and servers whose burst a campaign explains.
type fakeCampaigns struct {
	texts     map[uint64]CampaignMatch
	patterns  map[uint64]CampaignMatch
	links     map[string]CampaignMatch
	bursts    map[string]string
	lastQuery CampaignQuery
}

func (f *fakeCampaigns) MatchCampaign(q CampaignQuery) (CampaignMatch, bool) {
	f.lastQuery = q
	if m, ok := f.texts[q.Text]; ok && q.Text != 0 {
		return m, true
	}
	if m, ok := f.patterns[q.Signup]; ok && q.Signup != 0 {
		return m, true
	}
	for _, d := range q.Links {
		if m, ok := f.links[d]; ok {
			return m, true
		}
	}
	return CampaignMatch{}, false
}

func (f *fakeCampaigns) BurstCampaign(serverID string, _ time.Time) (string, bool) {
	id, ok := f.bursts[serverID]
	return id, ok
}

func TestCampaign(t *testing.T) {
	lookup := &fakeCampaigns{
		texts:    map[uint64]CampaignMatch{0xabc: {ID: "cmp_open"}, 0xdef: {ID: "cmp_conf", Confirmed: true}},
		patterns: map[uint64]CampaignMatch{0x77: {ID: "cmp_signup"}},
		links:    map[string]CampaignMatch{"scam.example": {ID: "cmp_link"}},
	}
	withText := func(fp uint64, age time.Duration) *Input {
		in := contentIn(func(c *ContentFacts) { c.Fingerprint, c.AuthorAge = fp, age })
		in.Campaigns = lookup
		return in
	}
	signup := func(pattern uint64) *Input {
		in := signupIn(func(s *SignupFacts) { s.Pattern = pattern })
		in.Campaigns = lookup
		return in
	}
	link := contentIn(func(c *ContentFacts) {
		c.AuthorAge, c.LinkDomains, c.LinkDomainKeys = time.Hour, []string{"scam.example"}, []uint64{1}
	})
	link.Campaigns = lookup
	allowed := contentIn(func(c *ContentFacts) {
		c.AuthorAge, c.LinkDomains, c.LinkDomainKeys = time.Hour, []string{"scam.example"}, []uint64{1}
	})
	allowed.Campaigns = lookup
	allowed.Policy.AllowDomains = NewDomainSet([]string{"scam.example"})
	noLookup := contentIn(func(c *ContentFacts) { c.Fingerprint = 0xabc })

	runCases(t, "campaign", []evalCase{
		{name: "fresh account, open campaign", in: withText(0xabc, time.Hour), points: 70},
		{name: "fresh account, confirmed campaign", in: withText(0xdef, time.Hour), points: 90},
		{name: "established account", in: withText(0xabc, 400*24*time.Hour), points: 30},
		{name: "no match", in: withText(0x123, time.Hour)},
		{name: "no text", in: withText(0, time.Hour)},
		{name: "sign-up pattern", in: signup(0x77), points: 45},
		{name: "sign-up without pattern", in: signup(0)},
		{name: "campaign link domain", in: link, points: 70},
		{name: "link on the server's allow list", in: allowed},
		{name: "no lookup", in: noLookup},
		{name: "custom points", in: withText(0xabc, time.Hour), params: `{"points": 50}`, points: 50},
	})

	// The hit names its campaign, for the check's campaignId.
	reg, _ := Lookup("campaign")
	hits := reg.Signal.Evaluate(context.Background(), withText(0xdef, time.Hour), newFake(), MustDefaults("campaign"))
	if len(hits) != 1 || hits[0].CampaignID != "cmp_conf" {
		t.Fatalf("hits = %+v", hits)
	}
	if _, err := DecodeParams("campaign", []byte(`{"points": 95}`)); err == nil {
		t.Fatal("points above confirmedPoints accepted")
	}
}

func TestCampaignExplainsBurst(t *testing.T) {
	reg, _ := Lookup("campaign")
	adj := reg.Signal.(Adjuster)
	p := MustDefaults("campaign")
	burst := func() []WeightedHit {
		return []WeightedHit{
			{Hit: Hit{Code: "server_signup_burst", Message: "Burst."}, Points: 70},
			{Hit: Hit{Code: "email_provider_burst", Message: "Provider."}, Points: 25},
			{Hit: Hit{Code: "honeypot", Message: "Honeypot."}, Points: 90},
		}
	}
	lookup := &fakeCampaigns{bursts: map[string]string{"s1": "cmp_signup"}}
	in := signupIn(nil)
	in.Campaigns = lookup

	hits := burst()
	if extra := adj.Adjust(in, hits, p); extra != nil {
		t.Fatalf("extra hits %+v", extra)
	}
	if hits[0].Points != 35 || hits[1].Points != 12.5 || hits[2].Points != 90 {
		t.Fatalf("hits = %+v: burst signals halved, others untouched", hits)
	}
	if hits[0].Message == "Burst." {
		t.Fatal("the moderator is not told why the burst counts less")
	}

	// A sign-up that matches the campaign keeps the full burst.
	hits = append(burst(), WeightedHit{Hit: Hit{Code: "campaign", CampaignID: "cmp_signup"}, Points: 45})
	adj.Adjust(in, hits, p)
	if hits[0].Points != 70 {
		t.Fatal("a campaign sign-up's burst was lowered")
	}
	// No explaining campaign on another server; no lookup; turned off.
	other := signupIn(nil)
	other.ServerID = "s2"
	other.Campaigns = lookup
	off, _ := DecodeParams("campaign", []byte(`{"burstFactor": 1}`))
	for name, c := range map[string]struct {
		in *Input
		p  any
	}{"other server": {other, p}, "no lookup": {signupIn(nil), p}, "off": {in, off}} {
		hits := burst()
		adj.Adjust(c.in, hits, c.p)
		if !slices.EqualFunc(hits, burst(), func(a, b WeightedHit) bool { return a.Points == b.Points && a.Message == b.Message }) {
			t.Errorf("%s: hits changed: %+v", name, hits)
		}
	}
}
