package signals

import "testing"

func TestDisposableEmail(t *testing.T) {
	lists := &Lists{Disposable: NewDomainSet([]string{"mailinator.com"})}
	with := func(domain string, allow ...string) *Input {
		in := signupIn(func(s *SignupFacts) { s.EmailDomain = domain })
		in.Lists = lists
		in.Policy.AllowEmailDomains = NewDomainSet(allow)
		return in
	}
	runCases(t, "disposable_email", []evalCase{
		{name: "listed", in: with("mailinator.com"), points: 45},
		{name: "subdomain of listed", in: with("eu.mailinator.com"), points: 45},
		{name: "ordinary", in: with("gmail.com")},
		{name: "allow list wins", in: with("mailinator.com", "mailinator.com")},
		{name: "no domain", in: with("")},
	})
}

func TestEmbeddedDisposableList(t *testing.T) {
	list := DefaultDisposableDomains()
	if len(list) < 8000 {
		t.Fatalf("embedded list has %d domains", len(list))
	}
	set := NewDomainSet(list)
	if _, ok := set.Match("mailinator.com"); !ok {
		t.Error("mailinator.com missing")
	}
	if _, ok := set.Match("gmail.com"); ok {
		t.Error("gmail.com must not be disposable")
	}
}
