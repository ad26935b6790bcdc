package signals

import "testing"

func TestIPPrefixVelocity(t *testing.T) {
	k := Key{KindIPPrefix, 5}
	st := func(n int) *fakeState { f := newFake(); f.counts[k] = n; return f }
	runCases(t, "ip_prefix_velocity", []evalCase{
		{name: "normal", in: signupIn(nil), st: st(10)},
		{name: "busy range", in: signupIn(nil), st: st(11), points: LevelReview},
		{name: "very busy range", in: signupIn(nil), st: st(31), points: 80},
		{name: "ipv6", in: signupIn(func(s *SignupFacts) { s.IPv6 = true }), st: st(11), points: LevelReview},
		{name: "no prefix", in: signupIn(func(s *SignupFacts) { s.IPPrefixKey = 0 }), st: st(99)},
	})
}
