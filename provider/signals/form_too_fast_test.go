package signals

import "testing"

func TestFormTooFast(t *testing.T) {
	secs := func(v float64) *Input { return signupIn(func(s *SignupFacts) { s.FormSeconds = &v }) }
	runCases(t, "form_too_fast", []evalCase{
		{name: "not measured", in: signupIn(nil)},
		{name: "human", in: secs(48.2)},
		{name: "just over", in: secs(3)},
		{name: "fast", in: secs(2.5), points: LevelReview},
		{name: "instant", in: secs(0.2), points: LevelReject},
	})
}
