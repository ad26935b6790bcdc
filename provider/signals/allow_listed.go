package signals

import "context"

// allowListed is trust from the server's own e-mail allow list (a
// university or company domain the admin vouches for).
type allowListed struct{}

var _ Signal = (*allowListed)(nil)

func init() { Register(&allowListed{}) }

func (*allowListed) Info() Info {
	return Info{Code: "allow_listed", Gate: GateSignup, Weight: -30,
		Description: "The e-mail domain (or a parent) is on the server's allow list (trust)."}
}

func (*allowListed) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	if _, ok := in.Policy.AllowEmailDomains.Match(in.Signup.EmailDomain); !ok {
		return nil
	}
	return []Hit{{Code: "allow_listed", Points: -30, Message: "The e-mail domain is on this server's allow list."}}
}
