package signals

import "testing"

func TestLinkDomainBurst(t *testing.T) {
	post := contentIn(func(c *ContentFacts) { c.LinkDomains, c.LinkDomainKeys = []string{"d.example"}, []uint64{100} })
	k := Key{KindLinkDomain, 100}
	st := func(posts int, base float64, accounts, servers int) *fakeState {
		f := newFake()
		f.counts[k] = posts
		f.baseline[k] = base
		f.setDistinct(k, SetAccounts, accounts)
		f.setDistinct(k, SetServers, servers)
		return f
	}
	allowed := contentIn(func(c *ContentFacts) { c.LinkDomains, c.LinkDomainKeys = []string{"d.example"}, []uint64{100} })
	allowed.Policy.AllowDomains = NewDomainSet([]string{"d.example"})
	runCases(t, "link_domain_burst", []evalCase{
		{name: "scam domain burst", in: post, st: st(30, 0, 8, 3), points: 40},
		{name: "big burst", in: post, st: st(90, 0, 20, 5), points: 55},
		{name: "popular site", in: post, st: st(3000, 2800, 31, 31)},
		{name: "one account spamming", in: post, st: st(30, 0, 1, 1)},
		{name: "one server", in: post, st: st(30, 0, 8, 1)},
		{name: "few posts", in: post, st: st(5, 0, 5, 3)},
		{name: "allow-listed", in: allowed, st: st(30, 0, 8, 3)},
	})
}
