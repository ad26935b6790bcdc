package signals

import "context"

// disposableEmail flags throw-away mail services: they let one person or
// script create unlimited unverifiable identities.
type disposableEmail struct{}

var _ Signal = (*disposableEmail)(nil)

func init() { Register(&disposableEmail{}) }

func (*disposableEmail) Info() Info {
	return Info{Code: "disposable_email", Gate: GateSignup, Weight: 45,
		Description: "The e-mail domain (or a parent domain) is on the disposable mail list."}
}

func (*disposableEmail) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	s := in.Signup
	if s.EmailDomain == "" {
		return nil
	}
	if _, ok := in.Policy.AllowEmailDomains.Match(s.EmailDomain); ok {
		return nil
	}
	if _, ok := in.Lists.Disposable.Match(s.EmailDomain); !ok {
		return nil
	}
	return []Hit{{Code: "disposable_email", Points: 45, Message: "The e-mail domain belongs to a disposable mail service."}}
}
