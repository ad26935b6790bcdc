package signals

import "testing"

func TestEmailProviderBurst(t *testing.T) {
	k := Key{KindEmailDomain, 3}
	st := func(count int, base float64, hist bool) *fakeState {
		f := newFake()
		f.counts[k] = count
		if hist {
			f.baseline[k] = base
		}
		return f
	}
	runCases(t, "email_provider_burst", []evalCase{
		{name: "steady gmail-sized traffic", in: signupIn(nil), st: st(500, 480, true)},
		{name: "small provider, normal", in: signupIn(nil), st: st(3, 1, true)},
		{name: "outlook wave", in: signupIn(nil), st: st(40, 2, true), points: 25},
		{name: "huge wave", in: signupIn(nil), st: st(5000, 100, true), points: 40},
		{name: "big provider doubling is not a burst", in: signupIn(nil), st: st(1000, 480, true)},
		{name: "cold start below limit", in: signupIn(nil), st: st(50, 0, false)},
		{name: "cold start above limit", in: signupIn(nil), st: st(70, 0, false), points: 25},
		{name: "no domain", in: signupIn(func(s *SignupFacts) { s.EmailDomainKey = 0 }), st: st(5000, 1, true)},
	})
}
