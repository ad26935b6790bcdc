package signals

import "testing"

func TestNearDuplicateText(t *testing.T) {
	in := contentIn(func(c *ContentFacts) { c.Fingerprint = 0xfeed })
	st := func(accounts, servers int) *fakeState {
		f := newFake()
		f.text = Spread{Accounts: accounts, Servers: servers}
		return f
	}
	runCases(t, "near_duplicate_text", []evalCase{
		{name: "unique", in: in, st: st(1, 1)},
		{name: "two accounts", in: in, st: st(2, 2)},
		{name: "three accounts two servers", in: in, st: st(3, 2), points: LevelReview},
		{name: "three accounts one server", in: in, st: st(3, 1), points: 40},
		{name: "ten accounts", in: in, st: st(10, 1), points: LevelReject},
		{name: "short text", in: contentIn(nil), st: st(20, 5)},
	})
}
