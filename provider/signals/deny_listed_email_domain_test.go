package signals

import "testing"

func TestDenyListedEmailDomain(t *testing.T) {
	in := func(domain string, deny, allow, provider []string) *Input {
		i := signupIn(func(s *SignupFacts) { s.EmailDomain = domain })
		i.Policy.DenyEmailDomains = NewDomainSet(deny)
		i.Policy.AllowEmailDomains = NewDomainSet(allow)
		i.Lists.DenyEmailDomains = NewDomainSet(provider)
		return i
	}
	runCases(t, "deny_listed_email_domain", []evalCase{
		{name: "server deny", in: in("spam.example", []string{"spam.example"}, nil, nil), points: LevelReject},
		{name: "parent deny", in: in("mx.spam.example", []string{"spam.example"}, nil, nil), points: LevelReject},
		{name: "provider deny", in: in("bad.example", nil, nil, []string{"bad.example"}), points: LevelReject},
		{name: "allow wins", in: in("spam.example", []string{"spam.example"}, []string{"spam.example"}, nil)},
		{name: "not listed", in: in("gmail.com", []string{"spam.example"}, nil, nil)},
	})
}
