package signals

import "testing"

func TestInvited(t *testing.T) {
	runCases(t, "invited", []evalCase{
		{name: "invited", in: signupIn(func(s *SignupFacts) { s.Invited = true }), points: -25},
		{name: "not invited", in: signupIn(nil)},
	})
}
