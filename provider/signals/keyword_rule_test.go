package signals

import "testing"

func TestKeywordRule(t *testing.T) {
	post := func(text string) *Input {
		in := contentIn(func(c *ContentFacts) { c.RuleText = text })
		in.Lists.SpamPhrases = []string{"investment credit", "discord.gg/", "仮想通貨"}
		return in
	}
	runCases(t, "keyword_rule", []evalCase{
		{name: "phrase", in: post("you have unclaimed investment credit, claim it"), points: 35},
		{name: "link", in: post("join us\nhttps://discord.gg/abc"), points: 35},
		{name: "japanese inside a sentence", in: post("今すぐ仮想通貨で稼ごう"), points: 35},
		{name: "word boundary", in: post("reinvestment credits are taxed")},
		{name: "clean", in: post("lovely sardines tonight")},
	})
}
