package signals

import (
	"regexp"
	"testing"
)

func TestRule(t *testing.T) {
	rules := []CompiledRule{
		{ID: "returns-promise", Weight: 30, Regex: regexp.MustCompile(`\d+% (daily|weekly) returns?`)},
		{ID: "crypto", Weight: 20, Keyword: "crypto", Gate: GateContent},
		{ID: "staff", Weight: -40, Keyword: "staff member", Gate: GateSignup},
	}
	post := func(text string) *Input {
		in := contentIn(func(c *ContentFacts) { c.RuleText = text })
		in.Policy.Rules = rules
		return in
	}
	signup := func(text string) *Input {
		in := signupIn(func(s *SignupFacts) { s.RuleText = text })
		in.Policy.Rules = rules
		return in
	}
	runCases(t, "rule", []evalCase{
		{name: "regex", in: post("earn 40% daily returns now"), points: 30},
		{name: "two rules", in: post("crypto: 40% weekly return"), points: 50},
		{name: "gate respected", in: signup("i love crypto")},
		{name: "trust rule", in: signup("i am a staff member at the library"), points: -40},
		{name: "keyword boundary", in: post("cryptography talk tonight")},
		{name: "no rules", in: contentIn(nil)},
	})
}
