package screening

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestValidatePolicyFields(t *testing.T) {
	e := newEngine(t, newClock())
	w := func(v float64) *float64 { return &v }
	rules := func(rs ...Rule) func(*Policy) { return func(p *Policy) { p.Rules = rs } }
	okRule := Rule{ID: "a", Pattern: "crypto", Weight: 20}
	cases := []struct {
		name  string
		mod   func(*Policy)
		field string
	}{
		{"default", func(*Policy) {}, ""},
		{"review zero", func(p *Policy) { p.ReviewAt = 0 }, "reviewAt"},
		{"reject not above review", func(p *Policy) { p.RejectAt = 65 }, "rejectAt"},
		{"reject above 100", func(p *Policy) { p.RejectAt = 101 }, "rejectAt"},
		{"unknown signal", func(p *Policy) { p.Signals = map[string]SignalSetting{"nope": {}} }, "signals.nope"},
		{"weight too big", func(p *Policy) { p.Signals = map[string]SignalSetting{"ip_velocity": {Weight: w(6)}} }, "signals.ip_velocity.weight"},
		{"weight negative", func(p *Policy) { p.Signals = map[string]SignalSetting{"ip_velocity": {Weight: w(-1)}} }, "signals.ip_velocity.weight"},
		{"param type", func(p *Policy) {
			p.Signals = map[string]SignalSetting{"ip_velocity": {Params: json.RawMessage(`{"review":"many"}`)}}
		}, "signals.ip_velocity.params.review"},
		{"param unknown", func(p *Policy) {
			p.Signals = map[string]SignalSetting{"ip_velocity": {Params: json.RawMessage(`{"window":5}`)}}
		}, "signals.ip_velocity.params.window"},
		{"param cross-check", func(p *Policy) {
			p.Signals = map[string]SignalSetting{"ip_velocity": {Params: json.RawMessage(`{"review":9,"reject":4}`)}}
		}, "signals.ip_velocity.params.reject"},
		{"params not an object", func(p *Policy) {
			p.Signals = map[string]SignalSetting{"near_duplicate_text": {Params: json.RawMessage(`[]`)}}
		}, "signals.near_duplicate_text.params"},
		{"good params", func(p *Policy) {
			p.Signals = map[string]SignalSetting{"near_duplicate_text": {Weight: w(2), Params: json.RawMessage(`{"rejectAccounts":20}`)}}
		}, ""},
		{"bad regex at save time", rules(okRule, Rule{ID: "b", Pattern: "x", Weight: 1}, Rule{ID: "c", Pattern: "(unclosed", Regex: true, Weight: 10}), "rules[2].pattern"},
		{"huge repetition", rules(Rule{ID: "a", Pattern: "(a{1000}){1000}", Regex: true, Weight: 10}), "rules[0].pattern"},
		{"pattern too long", rules(Rule{ID: "a", Pattern: strings.Repeat("x", 1001), Weight: 10}), "rules[0].pattern"},
		{"empty pattern", rules(Rule{ID: "a", Pattern: "  ", Weight: 10}), "rules[0].pattern"},
		{"duplicate id", rules(okRule, okRule), "rules[1].id"},
		{"missing id", rules(Rule{Pattern: "x", Weight: 1}), "rules[0].id"},
		{"bad gate", rules(Rule{ID: "a", Pattern: "x", Gate: "posts", Weight: 1}), "rules[0].gate"},
		{"bad weight", rules(Rule{ID: "a", Pattern: "x", Weight: 101}), "rules[0].weight"},
		{"too many rules", func(p *Policy) { p.Rules = make([]Rule, 201) }, "rules"},
		{"bad domain", func(p *Policy) { p.DenyDomains = []string{"ok.example", "not a domain"} }, "denyDomains[1]"},
		{"bad email domain", func(p *Policy) { p.AllowEmailDomains = []string{"http://x.example"} }, "allowEmailDomains[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPolicy()
			c.mod(&p)
			_, err := e.ValidatePolicy(p)
			if got := fieldOf(t, err); got != c.field {
				t.Errorf("field = %q, want %q (%v)", got, c.field, err)
			}
		})
	}
}

func TestValidatePolicyNormalises(t *testing.T) {
	e := newEngine(t, newClock())
	p := DefaultPolicy()
	p.DenyDomains = []string{"Spam.Example", "*.spam.example", "b.example", "spam.example."}
	p.Rules = []Rule{{ID: " r1 ", Pattern: "  crypto ", Weight: 10}}
	in := slices.Clone(p.DenyDomains)
	got, err := e.ValidatePolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.DenyDomains, []string{"b.example", "spam.example"}) {
		t.Errorf("deny = %q", got.DenyDomains)
	}
	if got.Rules[0].ID != "r1" || got.Rules[0].Pattern != "crypto" {
		t.Errorf("rule = %+v", got.Rules[0])
	}
	if !slices.Equal(p.DenyDomains, in) || p.Rules[0].ID != " r1 " {
		t.Error("the caller's policy must not be modified")
	}
}

func TestValidatePolicyReportsAllProblems(t *testing.T) {
	e := newEngine(t, newClock())
	p := DefaultPolicy()
	p.ReviewAt = 0
	p.Rules = []Rule{{ID: "a", Pattern: "(", Regex: true, Weight: 1}}
	_, err := e.ValidatePolicy(p)
	if fieldOf(t, err) != "reviewAt" || !strings.Contains(err.Error(), "rules[0].pattern") {
		t.Fatalf("err = %v", err)
	}
}

func TestSignalsCatalogue(t *testing.T) {
	infos := Signals()
	if len(infos) < 30 {
		t.Fatalf("only %d signals", len(infos))
	}
	b, err := json.Marshal(infos)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"code":"near_duplicate_text"`) || !strings.Contains(string(b), `"name":"rejectAccounts","type":"integer","default":10`) {
		t.Fatalf("catalogue JSON lacks params: %.300s", b)
	}
	for _, in := range infos {
		if in.Gate != GateSignup && in.Gate != GateContent && in.Gate != "both" {
			t.Errorf("%s: gate %q", in.Code, in.Gate)
		}
	}
}

func TestPolicyAppliedAtScreening(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	tenStrangers := func() ContentInput {
		return post("newbie", 5*60e9, clk.Now(), "<p>hi</p>", mentions(10, &no))
	}
	off, w := false, 0.5
	cases := []struct {
		name     string
		mod      func(*Policy)
		decision string
	}{
		{"default rejects", func(*Policy) {}, Reject},
		{"signal disabled", func(p *Policy) { p.Signals = map[string]SignalSetting{"unsolicited_mentions": {Enabled: &off}} }, Allow},
		{"signal weighted down", func(p *Policy) { p.Signals = map[string]SignalSetting{"unsolicited_mentions": {Weight: &w}} }, Review},
		{"lower thresholds", func(p *Policy) {
			p.ReviewAt, p.RejectAt = 40, 100
			p.Signals = map[string]SignalSetting{"unsolicited_mentions": {Weight: &w}}
		}, Review},
		{"custom params", func(p *Policy) {
			p.Signals = map[string]SignalSetting{"unsolicited_mentions": {Params: json.RawMessage(`{"many":20}`)}}
		}, Allow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPolicy()
			c.mod(&p)
			if _, err := e.ValidatePolicy(p); err != nil {
				t.Fatal(err)
			}
			o := e.ScreenContent(bg, "s-"+c.name, p, tenStrangers())
			if o.Decision != c.decision {
				t.Errorf("decision = %s (%d %v), want %s", o.Decision, o.Score, codes(o), c.decision)
			}
		})
	}
}

func TestRulesAndWaveMode(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk, func(o *Options) { o.SpamPhrases = []string{"investment credit"} })
	p := DefaultPolicy()
	p.Rules = []Rule{
		{ID: "returns-promise", Pattern: `\d+% (daily|weekly) returns?`, Regex: true, Weight: 30, Gate: GateContent},
		{ID: "librarian", Pattern: "library staff", Weight: -40, Gate: GateSignup},
	}
	p, err := e.ValidatePolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	text := "<p>Claim your investment credit: 40% DAILY returns guaranteed</p>"
	o := e.ScreenContent(bg, "s1", p, post("old", 400*24*3600e9, clk.Now(), text))
	if o.Score != 65 || o.Decision != Review || !hasCode(o, "rule") || !hasCode(o, "keyword_rule") {
		t.Fatalf("rules: %s %d %v", o.Decision, o.Score, codes(o))
	}
	p.WaveMode = true
	o = e.ScreenContent(bg, "s1", p, post("old2", 400*24*3600e9, clk.Now(), text))
	if o.Decision != Reject || !hasCode(o, "wave_mode") || o.Reasons[len(o.Reasons)-1].Weight != 0 {
		t.Fatalf("wave mode: %s %d %v", o.Decision, o.Score, codes(o))
	}
	sum := 0
	for _, r := range o.Reasons {
		sum += r.Weight
	}
	if min(100, sum) != o.Score {
		t.Fatalf("score %d is not the clamped sum of weights %d", o.Score, sum)
	}
	o = e.ScreenSignup(bg, "s1", p, signup("mira", "mira@uni.example", "198.51.100.4", withReason("I am library staff at the university")))
	if !slices.Contains(codes(o), "rule:-40") { // trust is not scaled by wave mode
		t.Fatalf("trust rule: %v", codes(o))
	}
}
