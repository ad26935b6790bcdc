package signals

import "context"

// keywordRule matches the provider's own list of known spam phrases (the
// operator's equivalent of Mastodon's antispam text sets), on word
// boundaries, against the normalised text and its links.
type keywordRule struct{}

var _ Signal = (*keywordRule)(nil)

func init() { Register(&keywordRule{}) }

func (*keywordRule) Info() Info {
	return Info{Code: "keyword_rule", Gate: GateContent, Weight: 35,
		Description: "The text or a link contains a phrase from the provider's list of known spam phrases."}
}

func (*keywordRule) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	for _, ph := range in.Lists.SpamPhrases {
		if containsWord(in.Content.RuleText, ph) {
			return []Hit{{Code: "keyword_rule", Points: 35, Message: "The text contains a phrase from the known spam phrase list."}}
		}
	}
	return nil
}
