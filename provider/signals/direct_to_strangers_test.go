package signals

import (
	"testing"
	"time"
)

func TestDirectToStrangers(t *testing.T) {
	post := func(vis string, age time.Duration, strangers int, link bool) *Input {
		return contentIn(func(c *ContentFacts) {
			c.Visibility, c.AuthorAge, c.StrangerMentions, c.Mentions = vis, age, strangers, strangers
			if link {
				c.Links = []string{"https://quick-yield.example/r/1"}
			}
		})
	}
	runCases(t, "direct_to_strangers", []evalCase{
		{name: "scam dm", in: post("direct", time.Hour, 1, true), points: 45},
		{name: "dm no link", in: post("direct", time.Hour, 2, false), points: 30},
		{name: "public", in: post("public", time.Hour, 2, true)},
		{name: "old account", in: post("direct", 90*24*time.Hour, 2, true)},
		{name: "dm to a follower", in: post("direct", time.Hour, 0, true)},
	})
}
