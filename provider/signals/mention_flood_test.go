package signals

import "testing"

func TestMentionFlood(t *testing.T) {
	post := func(total, followers int) *Input {
		return contentIn(func(c *ContentFacts) { c.Mentions, c.FollowerMentions = total, followers })
	}
	runCases(t, "mention_flood", []evalCase{
		{name: "six", in: post(6, 0)},
		{name: "twenty", in: post(20, 0)},
		{name: "twenty-one strangers", in: post(21, 0), points: LevelReview},
		{name: "twenty-two followers", in: post(22, 22), points: 30},
		{name: "custom max", in: post(8, 0), params: `{"max":5}`, points: LevelReview},
	})
}
