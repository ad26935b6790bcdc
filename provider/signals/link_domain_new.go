package signals

import (
	"context"
	"time"
)

// linkDomainNew flags links to a domain the network has not seen in posts
// before today: the May 2023 wave rotated through 100+ fresh crypto
// domains. Personal blogs are new too, so the points are small; the signal
// matters together with others. It stays silent until the network itself
// has a day of history.
type linkDomainNew struct{}

var _ Signal = (*linkDomainNew)(nil)

func init() { Register(&linkDomainNew{}) }

// linkLookback is how far back a domain sighting makes it "known"; it
// matches the engine's default retention.
const linkLookback = 14 * 24 * time.Hour

func (*linkDomainNew) Info() Info {
	return Info{Code: "link_domain_new", Gate: GateContent, Weight: 15,
		Description: "A link domain had no posts on the network before the last 24 hours (within the retention period)."}
}

func (*linkDomainNew) Evaluate(_ context.Context, in *Input, st State, _ any) []Hit {
	c := in.Content
	if len(c.LinkDomainKeys) == 0 {
		return nil
	}
	from, to := in.Now.Add(-linkLookback), in.Now.Add(-24*time.Hour)
	if !st.SeenBetween(Key{KindNetActivity, 0}, from, to) {
		return nil // the network is too young to call anything new
	}
	for i, k := range c.LinkDomainKeys {
		if _, ok := in.Policy.AllowDomains.Match(c.LinkDomains[i]); ok {
			continue
		}
		if !st.SeenBetween(Key{KindLinkDomain, k}, from, to) {
			return []Hit{{Code: "link_domain_new", Points: 15, Message: "Links to a domain that has not been seen in posts before."}}
		}
	}
	return nil
}
