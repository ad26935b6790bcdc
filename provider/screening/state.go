package screening

import (
	"context"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/signals"
	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

// Near-duplicate indexes keep this much history; signals asking for longer
// windows get these.
const (
	textWindow   = time.Hour
	mediaWindow  = time.Hour
	reasonWindow = 24 * time.Hour
)

// checkState is the signals.State of one check: the engine's windows seen
// from the check's time.
type checkState struct {
	e   *Engine
	now time.Time
}

var _ signals.State = (*checkState)(nil)

func (c *checkState) Count(k signals.Key, window time.Duration) int {
	return c.e.win.count(k, c.now, window)
}

func (c *checkState) Baseline(k signals.Key, spec signals.BaselineSpec) (float64, bool) {
	return c.e.win.baseline(k, spec, c.now, c.e.retention)
}

func (c *checkState) Distinct(k signals.Key, set signals.Set, window time.Duration) int {
	return c.e.win.distinct(k, set, c.now, window)
}

func (c *checkState) SeenBetween(k signals.Key, from, to time.Time) bool {
	return c.e.win.seenBetween(k, from, to)
}

// near adds the members of the index's fingerprints within maxDist of fp
// to u. x is the concrete index type, not an interface, so that the
// callback and u stay on the stack.
func (c *checkState) near(x *similarity.LSH[spreadRec], fp uint64, maxDist int, window time.Duration, u *union) {
	since := c.now.Add(-window)
	s, t := since.Unix(), c.now.Unix()
	x.Near(fp, maxDist, since, c.now, func(_ uint64, v *spreadRec) bool {
		u.addSets(&v.accounts, &v.servers, s, t)
		return !u.full()
	})
}

func (c *checkState) NearText(fp uint64, maxDist int, window time.Duration) signals.Spread {
	var u union
	c.near(c.e.text, fp, maxDist, min(window, textWindow), &u)
	return u.spread()
}

func (c *checkState) NearReason(fp uint64, maxDist int, window time.Duration) signals.Spread {
	var u union
	c.near(c.e.reasons, fp, maxDist, min(window, reasonWindow), &u)
	return u.spread()
}

func (c *checkState) NearMedia(keys, phashes []uint64, maxDist int, window time.Duration) signals.Spread {
	var u union
	window = min(window, mediaWindow)
	since, until := c.now.Add(-window).Unix(), c.now.Unix()
	for _, k := range keys {
		c.e.win.members(signals.Key{Kind: signals.KindMedia, ID: k}, since, until, &u)
	}
	for _, ph := range phashes {
		if u.full() {
			break
		}
		c.near(c.e.media, ph, maxDist, window, &u)
	}
	return u.spread()
}

func (c *checkState) LookupMX(ctx context.Context, domain string) signals.MXResult {
	return c.e.lookupMX(ctx, domain)
}

func (c *checkState) Classify(tokenIDs []uint32) (float64, bool) {
	return c.e.nb.classify(tokenIDs)
}
