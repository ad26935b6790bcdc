package signals

import "testing"

func TestEmailNoMX(t *testing.T) {
	st := func(r MXResult) *fakeState { f := newFake(); f.mx = r; return f }
	allowed := signupIn(nil)
	allowed.Policy.AllowEmailDomains = NewDomainSet([]string{"example.org"})
	runCases(t, "email_no_mx", []evalCase{
		{name: "no mx", in: signupIn(nil), st: st(MXNone), points: 50},
		{name: "has mx", in: signupIn(nil), st: st(MXFound)},
		{name: "timeout or error", in: signupIn(nil), st: st(MXUnknown)},
		{name: "allow-listed domain", in: allowed, st: st(MXNone)},
		{name: "no domain", in: signupIn(func(s *SignupFacts) { s.EmailDomain = "" }), st: st(MXNone)},
	})
}
