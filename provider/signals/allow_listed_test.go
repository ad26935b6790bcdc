package signals

import "testing"

func TestAllowListed(t *testing.T) {
	in := func(domain string) *Input {
		i := signupIn(func(s *SignupFacts) { s.EmailDomain = domain })
		i.Policy.AllowEmailDomains = NewDomainSet([]string{"uni.example"})
		return i
	}
	runCases(t, "allow_listed", []evalCase{
		{name: "listed", in: in("uni.example"), points: -30},
		{name: "subdomain", in: in("cs.uni.example"), points: -30},
		{name: "not listed", in: in("gmail.com")},
		{name: "empty", in: in("")},
	})
}
