package screening

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/signals"
)

// oneCampaign matches every check that has a text fingerprint or a sign-up
// pattern, and remembers the last query.
type oneCampaign struct {
	last signals.CampaignQuery
}

func (o *oneCampaign) MatchCampaign(q signals.CampaignQuery) (signals.CampaignMatch, bool) {
	o.last = q
	if q.Text == 0 && q.Signup == 0 {
		return signals.CampaignMatch{}, false
	}
	return signals.CampaignMatch{ID: "cmp_test"}, true
}

func (o *oneCampaign) BurstCampaign(string, time.Time) (string, bool) { return "", false }

const campaignText = "<p>you have unclaimed investment credit, claim it today at the quick yield portal before it expires tonight</p>"

func TestCampaignIDFollowsItsReason(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	in := post("lena@ghost.example", time.Hour, clk.Now(), campaignText, func(c *ContentInput) { c.Author.Local = false })

	// Without campaigns: no reason, no id.
	o := e.ScreenContent(bg, "s1", DefaultPolicy(), in)
	if o.CampaignID != "" || hasCode(o, "campaign") || o.Features.Campaign != "" {
		t.Fatalf("campaign without a lookup: %+v", o)
	}
	if o.Features.Origin != "ghost.example" {
		t.Fatalf("origin = %q", o.Features.Origin)
	}

	lookup := &oneCampaign{}
	e.SetCampaigns(lookup)
	o = e.ScreenContent(bg, "s1", DefaultPolicy(), in)
	if o.CampaignID != "cmp_test" || !hasCode(o, "campaign") || o.Features.Campaign != "cmp_test" {
		t.Fatalf("outcome = %+v (%v)", o, codes(o))
	}
	if lookup.last.Text == 0 || lookup.last.Gate != GateContent || !lookup.last.At.Equal(clk.Now()) {
		t.Fatalf("query = %+v", lookup.last)
	}
	// Replicas read the campaign from the persisted features.
	var back Features
	raw, _ := json.Marshal(o.Features)
	if err := json.Unmarshal(raw, &back); err != nil || back.Campaign != "cmp_test" || back.Origin != "ghost.example" {
		t.Fatalf("features round trip: %+v %v", back, err)
	}

	// A policy that turns the signal off, or weighs it to nothing, drops
	// the id with the reason.
	for name, setting := range map[string]SignalSetting{
		"disabled":    {Enabled: &no},
		"weight zero": {Weight: new(float64)},
	} {
		p := DefaultPolicy()
		p.Signals = map[string]SignalSetting{"campaign": setting}
		p, err := e.ValidatePolicy(p)
		if err != nil {
			t.Fatal(err)
		}
		o := e.ScreenContent(bg, "s1", p, in)
		if o.CampaignID != "" || hasCode(o, "campaign") || o.Features.Campaign != "" {
			t.Fatalf("%s: %+v", name, o)
		}
	}
	e.SetCampaigns(nil)
	if o := e.ScreenContent(bg, "s1", DefaultPolicy(), in); o.CampaignID != "" {
		t.Fatal("campaign after the lookup was removed")
	}
}

func TestSignupPattern(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	pattern := func(in SignupInput) Key64 {
		_, f := e.signupFacts("s1", &in)
		return f.SignupPattern
	}
	a := pattern(signup("lenak8841", "lenak8841@outlook.com", "203.0.113.7", withApp("CryptoApp")))
	b := pattern(signup("marco2209", "marco2209@outlook.com", "198.51.100.9", withApp("CryptoApp")))
	if a == 0 || a != b {
		t.Fatalf("same template, domain and app: %x %x", a, b)
	}
	for name, in := range map[string]SignupInput{
		"other domain": signup("lenak8841", "lenak8841@gmail.com", "203.0.113.7", withApp("CryptoApp")),
		"other app":    signup("lenak8841", "lenak8841@outlook.com", "203.0.113.7", withApp("Ivory")),
		"other shape":  signup("alice_garden42", "alice@outlook.com", "203.0.113.7", withApp("CryptoApp")),
		"web form":     signup("lenak8841", "lenak8841@outlook.com", "203.0.113.7"),
	} {
		if p := pattern(in); p == a || p == 0 {
			t.Errorf("%s: pattern %x", name, p)
		}
	}
	// Web-form sign-ups cluster by network instead.
	if pattern(signup("lenak8841", "x1@outlook.com", "203.0.113.7")) != pattern(signup("marco2209", "x2@outlook.com", "203.0.113.99")) {
		t.Fatal("same /24, domain and shape differ")
	}
	for u, want := range map[string]string{"lenak8841": "l2d2", "alice_garden42": "l2o1l2d1", "xkqzvbtrwmxx": "l3", "さくら123": "l1d1"} {
		if got := shapeClass(u); got != want {
			t.Errorf("shapeClass(%q) = %q, want %q", u, got, want)
		}
	}
}
