package signals

import "testing"

func TestLinkDenyListed(t *testing.T) {
	post := func(domains ...string) *Input {
		in := contentIn(func(c *ContentFacts) { c.LinkDomains = domains })
		in.Policy.DenyDomains = NewDomainSet([]string{"scam.example"})
		in.Policy.AllowDomains = NewDomainSet([]string{"ok.scam.example"})
		in.Lists.DenyLinkDomains = NewDomainSet([]string{"dni.example"})
		return in
	}
	runCases(t, "link_deny_listed", []evalCase{
		{name: "denied", in: post("github.com", "scam.example"), points: LevelReject},
		{name: "denied subdomain", in: post("x.scam.example"), points: LevelReject},
		{name: "allowed subdomain wins", in: post("ok.scam.example")},
		{name: "provider list", in: post("dni.example"), points: LevelReject},
		{name: "clean", in: post("github.com")},
		{name: "no links", in: post()},
	})
}
