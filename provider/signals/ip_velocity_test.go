package signals

import "testing"

func TestIPVelocity(t *testing.T) {
	k := Key{KindIP, 4}
	st := func(n int) *fakeState { f := newFake(); f.counts[k] = n; return f }
	v6 := signupIn(func(s *SignupFacts) { s.IPv6 = true })
	runCases(t, "ip_velocity", []evalCase{
		{name: "first", in: signupIn(nil), st: st(1)},
		{name: "three is fine", in: signupIn(nil), st: st(3)},
		{name: "fourth reviews", in: signupIn(nil), st: st(4), points: LevelReview},
		{name: "sixth rejects", in: signupIn(nil), st: st(6), points: LevelReject},
		{name: "ipv6 /64", in: v6, st: st(4), points: LevelReview},
		{name: "custom params", in: signupIn(nil), st: st(6), params: `{"review":10,"reject":20}`},
		{name: "no ip", in: signupIn(func(s *SignupFacts) { s.IPKey = 0 }), st: st(100)},
	})
	if _, err := DecodeParams("ip_velocity", []byte(`{"review":5,"reject":5}`)); err == nil {
		t.Error("reject must exceed review")
	}
}
