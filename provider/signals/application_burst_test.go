package signals

import "testing"

func TestApplicationBurst(t *testing.T) {
	k := Key{KindApp, 77}
	app := signupIn(func(s *SignupFacts) { s.AppKey = 77 })
	st := func(n int, base float64, hist bool) *fakeState {
		f := newFake()
		f.counts[k] = n
		if hist {
			f.baseline[k] = base
		}
		return f
	}
	runCases(t, "application_burst", []evalCase{
		{name: "web form has no app", in: signupIn(nil), st: st(1000, 0, true)},
		{name: "popular app at its usual rate", in: app, st: st(60, 50, true)},
		{name: "unknown app, a few", in: app, st: st(8, 0, true)},
		{name: "unknown app, many", in: app, st: st(11, 0, true), points: 40},
		{name: "flood", in: app, st: st(40, 0, true), points: 55},
		{name: "cold start", in: app, st: st(11, 0, false), points: 40},
	})
}
