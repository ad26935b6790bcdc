// Package campaigns recognises network-wide spam campaigns: clusters of
// checks that share a fingerprint (near-duplicate text, the same or a
// perceptually close image, a link domain that appears suddenly, a sign-up
// pattern) across accounts and servers within a time window. It also keeps
// a reputation per origin server (who is emitting campaign traffic, which
// customer servers look unmanaged) and builds the server feed.
//
// The package is pure: no I/O, the clock is injected, and state changes
// only through Observe, Install, Feedback and NoteFeedback. The provider
// stores campaigns (the database is the source of truth), tells other
// replicas about them and sends alerts; this package decides.
package campaigns

import (
	"slices"
	"time"
)

// Kind is the fingerprint a campaign was recognised by.
type Kind string

// Campaign kinds.
const (
	KindText   Kind = "text"   // near-duplicate normalised text (SimHash)
	KindMedia  Kind = "media"  // identical or perceptually close attachments
	KindLink   Kind = "link"   // a link domain that suddenly appears in held posts
	KindSignup Kind = "signup" // e-mail provider + username shape + client application or IP prefix
)

// Kinds lists every kind, in a stable order.
func Kinds() []Kind { return []Kind{KindText, KindMedia, KindLink, KindSignup} }

// Gate is the screening gate a kind applies to.
func (k Kind) Gate() string {
	if k == KindSignup {
		return GateSignup
	}
	return GateContent
}

// Gates of a check (the same strings as the screening engine's).
const (
	GateSignup  = "signup"
	GateContent = "content"
)

// Status is a campaign's life-cycle state.
type Status string

// Campaign states. An active campaign raises the score of matching checks;
// dismissed and expired ones do not. A dismissed campaign's evidence is
// remembered as a false-positive pattern.
const (
	StatusActive    Status = "active"
	StatusDismissed Status = "dismissed"
	StatusExpired   Status = "expired"
)

// Evidence is what a campaign matches on. Text and perceptual hashes match
// within the configured Hamming distances; the rest match exactly.
type Evidence struct {
	Texts   []uint64 `json:"texts,omitempty"`
	Media   []uint64 `json:"media,omitempty"`
	PHashes []uint64 `json:"phashes,omitempty"`
	Links   []string `json:"links,omitempty"`
	Signups []uint64 `json:"signups,omitempty"`
}

// Empty reports whether there is nothing to match on.
func (e Evidence) Empty() bool {
	return len(e.Texts)+len(e.Media)+len(e.PHashes)+len(e.Links)+len(e.Signups) == 0
}

// Union merges o into a copy of e, without duplicates, keeping at most max
// values per list (the oldest first, so matching stays anchored on the
// evidence the campaign opened with).
func (e Evidence) Union(o Evidence, max int) Evidence {
	return Evidence{
		Texts:   unionCapped(e.Texts, o.Texts, max),
		Media:   unionCapped(e.Media, o.Media, max),
		PHashes: unionCapped(e.PHashes, o.PHashes, max),
		Links:   unionCapped(e.Links, o.Links, max),
		Signups: unionCapped(e.Signups, o.Signups, max),
	}
}

func unionCapped[T comparable](a, b []T, max int) []T {
	out := slices.Clone(a)
	for _, v := range b {
		if len(out) >= max {
			break
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Presence is a campaign seen on one customer server, or from one origin.
type Presence struct {
	// Key is the customer server's id (Servers) or the origin's domain
	// (Origins).
	Key string `json:"key"`
	// ServerID is set on an origin that is itself a customer server.
	ServerID  string    `json:"serverId,omitempty"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	Hits      int64     `json:"hits"`
	Accounts  int       `json:"accounts"`
	// Spam and Ham count moderators' verdicts on the campaign's checks
	// (servers only).
	Spam int `json:"spam,omitempty"`
	Ham  int `json:"ham,omitempty"`
	// Source is set when an origin emitted enough campaign traffic to be
	// named as a source (origins only); SourceAt is when it became one.
	Source   bool      `json:"source,omitempty"`
	SourceAt time.Time `json:"sourceAt,omitzero"`
	// Samples are a few check ids, so an admin can find the accounts.
	Samples []string `json:"samples,omitempty"`
}

// Campaign is one campaign as stored and as the tracker holds it.
type Campaign struct {
	ID            string    `json:"id"`
	Kind          Kind      `json:"kind"`
	Label         string    `json:"label"`
	Status        Status    `json:"status"`
	OpenedAt      time.Time `json:"openedAt"`
	LastHitAt     time.Time `json:"lastHitAt"`
	ExtendedUntil time.Time `json:"extendedUntil,omitzero"`
	ConfirmedAt   time.Time `json:"confirmedAt,omitzero"`
	ConfirmedBy   string    `json:"confirmedBy,omitempty"`
	DismissedAt   time.Time `json:"dismissedAt,omitzero"`
	DismissedBy   string    `json:"dismissedBy,omitempty"`
	Hits          int64     `json:"hits"`
	Evidence      Evidence  `json:"evidence"`
	Servers       []Presence
	Origins       []Presence
}

// OperatorConfirmed reports whether the provider's operator confirmed it.
func (c *Campaign) OperatorConfirmed() bool { return !c.ConfirmedAt.IsZero() }

// Confirmed reports whether the campaign counts as confirmed for the feed:
// the operator confirmed it, or moderators of at least feedbackServers
// servers sent spam verdicts on its checks (and more spam than ham).
func (c *Campaign) Confirmed(feedbackServers int) bool {
	return c.OperatorConfirmed() || feedbackConfirmed(c.Servers, feedbackServers)
}

func feedbackConfirmed(servers []Presence, n int) bool {
	spam, ham := 0, 0
	for _, p := range servers {
		if p.Spam > p.Ham {
			spam++
		} else if p.Ham > p.Spam {
			ham++
		}
	}
	return spam >= n && spam > ham
}

// ActiveAt reports whether the campaign affects decisions at t: active,
// and either hit within the quiet period or extended past t.
func (c *Campaign) ActiveAt(t time.Time, quiet time.Duration) bool {
	if c.Status != StatusActive {
		return false
	}
	return !t.After(c.LastHitAt.Add(quiet)) || t.Before(c.ExtendedUntil)
}

// ExpiresAt is when an active campaign stops affecting decisions unless it
// is hit again.
func (c *Campaign) ExpiresAt(quiet time.Duration) time.Time {
	t := c.LastHitAt.Add(quiet)
	if c.ExtendedUntil.After(t) {
		return c.ExtendedUntil
	}
	return t
}

func (c *Campaign) clone() Campaign {
	d := *c
	d.Evidence = c.Evidence.Union(Evidence{}, 1<<30)
	d.Servers = clonePresence(c.Servers)
	d.Origins = clonePresence(c.Origins)
	return d
}

func clonePresence(ps []Presence) []Presence {
	out := make([]Presence, len(ps))
	for i, p := range ps {
		out[i] = p
		out[i].Samples = slices.Clone(p.Samples)
	}
	return out
}
