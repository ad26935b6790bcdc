package signals

import "context"

// emailNoMX flags addresses that cannot receive mail: the domain does not
// exist or publishes no (or a null) MX. A lookup that times out or fails
// adds nothing, so DNS trouble never rejects anyone.
type emailNoMX struct{}

var _ Signal = (*emailNoMX)(nil)

func init() { Register(&emailNoMX{}) }

func (*emailNoMX) Info() Info {
	return Info{Code: "email_no_mx", Gate: GateSignup, Weight: 50,
		Description: "The e-mail domain does not exist or has no mail exchanger (needs a resolver; timeouts add nothing)."}
}

func (*emailNoMX) Evaluate(ctx context.Context, in *Input, st State, _ any) []Hit {
	d := in.Signup.EmailDomain
	if d == "" {
		return nil
	}
	if _, ok := in.Policy.AllowEmailDomains.Match(d); ok {
		return nil
	}
	if st.LookupMX(ctx, d) != MXNone {
		return nil
	}
	return []Hit{{Code: "email_no_mx", Points: 50, Message: "The e-mail domain cannot receive mail."}}
}
