package signals

import "testing"

func TestLinkDomainNew(t *testing.T) {
	post := func(allow ...string) *Input {
		in := contentIn(func(c *ContentFacts) {
			c.LinkDomains = []string{"github.com", "fresh.example"}
			c.LinkDomainKeys = []uint64{100, 101}
		})
		in.Policy.AllowDomains = NewDomainSet(allow)
		return in
	}
	st := func(networkOld bool, seen ...uint64) *fakeState {
		f := newFake()
		f.seen[Key{KindNetActivity, 0}] = networkOld
		for _, k := range seen {
			f.seen[Key{KindLinkDomain, k}] = true
		}
		return f
	}
	runCases(t, "link_domain_new", []evalCase{
		{name: "one new domain", in: post(), st: st(true, 100), points: 15},
		{name: "all known", in: post(), st: st(true, 100, 101)},
		{name: "young network", in: post(), st: st(false, 100)},
		{name: "allow-listed new domain", in: post("fresh.example"), st: st(true, 100)},
		{name: "no links", in: contentIn(nil), st: st(true)},
	})
}
