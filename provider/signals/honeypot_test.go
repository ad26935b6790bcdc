package signals

import "testing"

func TestHoneypot(t *testing.T) {
	runCases(t, "honeypot", []evalCase{
		{name: "filled", in: signupIn(func(s *SignupFacts) { s.Honeypot = true }), points: LevelReject},
		{name: "empty", in: signupIn(nil)},
	})
}
