package signals

import "testing"

func TestDuplicateMedia(t *testing.T) {
	in := contentIn(func(c *ContentFacts) { c.Media, c.MediaKeys, c.PHashes = 1, []uint64{5}, []uint64{0xabcdef} })
	st := func(fresh, accounts, servers int) *fakeState {
		f := newFake()
		f.media = Spread{FreshAccounts: fresh, Accounts: accounts, Servers: servers}
		return f
	}
	runCases(t, "duplicate_media", []evalCase{
		{name: "unique", in: in, st: st(1, 1, 1)},
		{name: "meme among old accounts", in: in, st: st(0, 25, 9)},
		{name: "three fresh", in: in, st: st(3, 3, 1), points: LevelReview},
		{name: "six fresh two servers", in: in, st: st(6, 6, 2), points: LevelReject},
		{name: "six fresh one server", in: in, st: st(6, 6, 1), points: LevelReview},
		{name: "no media", in: contentIn(nil), st: st(9, 9, 9)},
	})
}
