package signals

import "context"

// rule runs the server's own keyword and RE2 rules (compiled when the policy
// was saved) on the gate they are meant for; each match adds the rule's own
// weight, which may be negative for trust rules.
type rule struct{}

var _ Signal = (*rule)(nil)

func init() { Register(&rule{}) }

func (*rule) Info() Info {
	return Info{Code: "rule", Gate: GateBoth, Weight: 0,
		Description: "One of the server's own rules matched (keyword or RE2 over the normalised text and links, or the sign-up reason, username and display name); the weight is the rule's."}
}

func (*rule) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	text := ""
	if in.Signup != nil {
		text = in.Signup.RuleText
	} else {
		text = in.Content.RuleText
	}
	var hits []Hit
	for _, r := range in.Policy.Rules {
		if r.Gate != "" && r.Gate != in.Gate {
			continue
		}
		if r.Match(text) {
			hits = append(hits, Hit{Code: "rule", Points: float64(r.Weight), Message: "Custom rule '" + r.ID + "' matched."})
		}
	}
	return hits
}
