package signals

import "testing"

func TestClassifier(t *testing.T) {
	in := contentIn(func(c *ContentFacts) { c.TokenIDs = []uint32{1, 2, 3} })
	st := func(lo float64, ready bool) *fakeState { f := newFake(); f.logOdds, f.ready = lo, ready; return f }
	runCases(t, "classifier", []evalCase{
		{name: "untrained", in: in, st: st(50, false)},
		{name: "unsure", in: in, st: st(2.5, true)},
		{name: "confident spam", in: in, st: st(6, true), points: 15},
		{name: "very confident spam is capped", in: in, st: st(100, true), points: 30},
		{name: "clearly ham", in: in, st: st(-100, true), points: -15},
		{name: "no tokens", in: contentIn(nil), st: st(100, true)},
	})
}
