package signals

import "context"

// honeypot: a hidden field people cannot see was filled in, which only
// form-filling scripts do.
type honeypot struct{}

var _ Signal = (*honeypot)(nil)

func init() { Register(&honeypot{}) }

func (*honeypot) Info() Info {
	return Info{Code: "honeypot", Gate: GateSignup, Weight: LevelReject,
		Description: "A hidden form field that people cannot see was filled in."}
}

func (*honeypot) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	if !in.Signup.Honeypot {
		return nil
	}
	return []Hit{{Code: "honeypot", Points: LevelReject, Message: "A hidden form field was filled in."}}
}
