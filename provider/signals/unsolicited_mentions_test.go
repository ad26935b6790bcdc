package signals

import (
	"testing"
	"time"
)

func TestUnsolicitedMentions(t *testing.T) {
	post := func(age time.Duration, strangers, followers, unknown int, links bool) *Input {
		return contentIn(func(c *ContentFacts) {
			c.AuthorAge = age
			c.StrangerMentions, c.FollowerMentions, c.UnknownMentions = strangers, followers, unknown
			c.Mentions = strangers + followers + unknown
			if links {
				c.Links = []string{"https://x.example/"}
			}
		})
	}
	day := 24 * time.Hour
	runCases(t, "unsolicited_mentions", []evalCase{
		{name: "friend's thread, six followers", in: post(400*day, 0, 6, 0, true)},
		{name: "new account, six followers", in: post(time.Hour, 0, 6, 0, true)},
		{name: "ten strangers from a 5-minute-old account", in: post(5*time.Minute, 10, 0, 0, false), points: LevelReject},
		{name: "two strangers, link, new", in: post(2*day, 2, 0, 0, true), points: LevelReview},
		{name: "two strangers, no link, new", in: post(2*day, 2, 0, 0, false), points: 30},
		{name: "one stranger reply", in: post(time.Hour, 1, 0, 0, true)},
		{name: "old account, many strangers", in: post(400*day, 6, 0, 0, true), points: 35},
		{name: "old account, two strangers", in: post(400*day, 2, 0, 0, true)},
		{name: "unknown not counted by default", in: post(time.Hour, 0, 0, 10, true)},
		{name: "unknown counted when asked", in: post(time.Hour, 0, 0, 10, true), params: `{"countUnknown":true}`, points: LevelReject},
	})
}
