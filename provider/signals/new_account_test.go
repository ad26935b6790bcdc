package signals

import (
	"testing"
	"time"
)

func TestNewAccount(t *testing.T) {
	aged := func(d time.Duration) *Input { return contentIn(func(c *ContentFacts) { c.AuthorAge = d }) }
	day := 24 * time.Hour
	runCases(t, "new_account", []evalCase{
		{name: "five minutes", in: aged(5 * time.Minute), points: 25},
		{name: "hours", in: aged(5 * time.Hour), points: 20},
		{name: "days", in: aged(3 * day), points: 10},
		{name: "weeks", in: aged(20 * day), points: 5},
		{name: "old", in: aged(31 * day)},
	})
}
