package signals

import "testing"

func TestPostingVelocity(t *testing.T) {
	k := Key{KindAuthorMentionPosts, 11}
	st := func(n int) *fakeState { f := newFake(); f.counts[k] = n; return f }
	withMentions := contentIn(func(c *ContentFacts) { c.Mentions = 3 })
	runCases(t, "posting_velocity", []evalCase{
		{name: "normal", in: withMentions, st: st(5)},
		{name: "thirty", in: withMentions, st: st(30)},
		{name: "flood", in: withMentions, st: st(31), points: LevelReview},
		{name: "no mentions in this post", in: contentIn(nil), st: st(100)},
	})
}
