package signals

import "context"

// denyListedEmailDomain applies the server's and the provider's e-mail
// domain deny lists (parent domains included). The server's allow list wins.
type denyListedEmailDomain struct{}

var _ Signal = (*denyListedEmailDomain)(nil)

func init() { Register(&denyListedEmailDomain{}) }

func (*denyListedEmailDomain) Info() Info {
	return Info{Code: "deny_listed_email_domain", Gate: GateSignup, Weight: LevelReject,
		Description: "The e-mail domain (or a parent) is on the server's or the provider's deny list and not on the server's allow list."}
}

func (*denyListedEmailDomain) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	d := in.Signup.EmailDomain
	if d == "" {
		return nil
	}
	if _, ok := in.Policy.AllowEmailDomains.Match(d); ok {
		return nil
	}
	if _, ok := in.Policy.DenyEmailDomains.Match(d); ok {
		return []Hit{{Code: "deny_listed_email_domain", Points: LevelReject, Message: "The e-mail domain is on this server's deny list."}}
	}
	if _, ok := in.Lists.DenyEmailDomains.Match(d); ok {
		return []Hit{{Code: "deny_listed_email_domain", Points: LevelReject, Message: "The e-mail domain is on the provider's deny list."}}
	}
	return nil
}
