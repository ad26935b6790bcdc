package signals

import "context"

// invited is trust: an existing member vouched for the account.
type invited struct{}

var _ Signal = (*invited)(nil)

func init() { Register(&invited{}) }

func (*invited) Info() Info {
	return Info{Code: "invited", Gate: GateSignup, Weight: -25,
		Description: "The sign-up uses an invitation from an existing member (trust)."}
}

func (*invited) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	if !in.Signup.Invited {
		return nil
	}
	return []Hit{{Code: "invited", Points: -25, Message: "Created with an invitation from an existing member."}}
}
