package signals

import "testing"

func TestReasonEmpty(t *testing.T) {
	reason := func(present bool, r string) *Input {
		return signupIn(func(s *SignupFacts) { s.ReasonPresent, s.Reason = present, r })
	}
	runCases(t, "reason_empty", []evalCase{
		{name: "not asked", in: reason(false, "")},
		{name: "asked, empty", in: reason(true, ""), points: 15},
		{name: "asked, tiny", in: reason(true, "hi"), points: 10},
		{name: "asked, real", in: reason(true, "i run a bakery and want to follow local food people")},
		{name: "japanese, real", in: reason(true, "パン屋を営んでいます")},
	})
}
