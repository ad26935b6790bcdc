package signals

import "testing"

func TestServerSignupBurst(t *testing.T) {
	k := Key{KindServerSignups, 9}
	st := func(n int, base float64, hist bool) *fakeState {
		f := newFake()
		f.counts[k] = n
		if hist {
			f.baseline[k] = base
		}
		return f
	}
	runCases(t, "server_signup_burst", []evalCase{
		{name: "3 a minute is normal there", in: signupIn(nil), st: st(30, 30, true)},
		{name: "900 a minute is not", in: signupIn(nil), st: st(9000, 30, true), points: 80},
		{name: "11x usual", in: signupIn(nil), st: st(330, 30, true), points: LevelReview},
		{name: "quiet server floor", in: signupIn(nil), st: st(5, 0, true)},
		{name: "quiet server burst", in: signupIn(nil), st: st(6, 0, true), points: LevelReview},
		{name: "new customer", in: signupIn(nil), st: st(25, 0, false)},
		{name: "new customer flood", in: signupIn(nil), st: st(31, 0, false), points: LevelReview},
	})
}
