package signals

import (
	"context"
	"time"
)

// linkDomainBurst flags a domain that suddenly appears in many posts from
// many accounts on several servers within an hour, far above its own usual
// rate: big sites (YouTube, GitHub) are linked all the time and have a high
// baseline; a freshly registered scam domain does not.
type linkDomainBurst struct{}

var _ Signal = (*linkDomainBurst)(nil)

func init() { Register(&linkDomainBurst{}) }

type linkDomainBurstParams struct {
	MinPosts    int     `json:"minPosts" min:"2" max:"100000" desc:"posts with the domain in an hour below which there is never a burst"`
	MinAccounts int     `json:"minAccounts" min:"2" max:"31" desc:"distinct accounts that must have posted the domain in the hour"`
	MinServers  int     `json:"minServers" min:"1" max:"31" desc:"distinct servers those posts must come from"`
	Factor      float64 `json:"factor" min:"2" max:"1000" desc:"how many times its usual hourly rate the domain must exceed"`
}

func (*linkDomainBurst) Info() Info {
	return Info{Code: "link_domain_burst", Gate: GateContent, Weight: 40,
		Description: "A link domain is in far more posts in the last hour than usual, from many accounts on several servers.",
		Defaults:    linkDomainBurstParams{MinPosts: 10, MinAccounts: 5, MinServers: 2, Factor: 10}}
}

func (*linkDomainBurst) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*linkDomainBurstParams)
	c := in.Content
	best := 0.0
	for i, id := range c.LinkDomainKeys {
		if _, ok := in.Policy.AllowDomains.Match(c.LinkDomains[i]); ok {
			continue
		}
		k := Key{KindLinkDomain, id}
		base, ok := st.Baseline(k, BaselineSpec{History: Key{KindNetActivity, 0}, Window: time.Hour})
		lvl := burstLevel(st.Count(k, time.Hour), base, ok, p.MinPosts, p.Factor, p.MinPosts)
		if lvl == 0 {
			continue
		}
		accounts := st.Distinct(k, SetAccounts, time.Hour)
		if accounts < p.MinAccounts || st.Distinct(k, SetServers, time.Hour) < p.MinServers {
			continue
		}
		pts := 40.0
		if accounts >= 3*p.MinAccounts {
			pts = 55
		}
		best = max(best, pts)
	}
	if best == 0 {
		return nil
	}
	return []Hit{{Code: "link_domain_burst", Points: best, Message: "A linked domain suddenly appears in many posts from many accounts across the network."}}
}
