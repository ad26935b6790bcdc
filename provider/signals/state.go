package signals

import (
	"context"
	"time"
)

// Kind namespaces the keys of the network-wide windows.
type Kind uint8

// Window kinds recorded by the engine for every check.
const (
	KindServerSignups      Kind = iota + 1 // sign-ups on one server (ID: server key)
	KindServerActivity                     // sign-ups and posts on one server, for history length
	KindNetSignups                         // all sign-ups (ID 0)
	KindNetActivity                        // all checks (ID 0), for history length
	KindEmail                              // canonical e-mail key
	KindEmailDomain                        // e-mail domain key
	KindIP                                 // IPv4 /32 or IPv6 /64 key
	KindIPPrefix                           // IPv4 /24 or IPv6 /48 key
	KindApp                                // client application key
	KindAuthorMentionPosts                 // posts with mentions by one author
	KindLinkDomain                         // posts linking to one domain
	KindMedia                              // posts with one exact attachment
)

// Key identifies one window series.
type Key struct {
	Kind Kind
	ID   uint64
}

// Set selects a member set of a series.
type Set uint8

// Member sets kept per series (capped, most recent members win).
const (
	SetServers       Set = iota // servers that produced the events
	SetAccounts                 // accounts that produced the events
	SetFreshAccounts            // accounts younger than FreshAge when they did
)

// MaxDistinct is the most members a set remembers per series; distinct
// counts saturate there, so thresholds on them must stay below it.
const MaxDistinct = 32

// Spread is how far something travelled across the network in a window.
type Spread struct {
	Accounts      int
	Servers       int
	FreshAccounts int
}

// BaselineSpec asks for a series' usual rate.
type BaselineSpec struct {
	// History is the series whose first event marks how long there is
	// history at all (a server's or the network's activity): hours before
	// it are unknown, not zero.
	History Key
	// Window is the length the baseline is expressed in.
	Window time.Duration
	// TimeOfDay compares with the same hour of day (±1 h) on previous
	// days instead of all previous hours.
	TimeOfDay bool
}

// MXResult is the outcome of an MX lookup.
type MXResult int

// MX lookup outcomes; only MXNone is evidence.
const (
	MXUnknown MXResult = iota // timeout, error, resolver off
	MXFound
	MXNone // NXDOMAIN, no MX records, or a null MX
)

// State is the read-only view of the network-wide windows for one check.
// Counts include the check being screened (it is recorded before signals
// run). All queries are bounded by the check's time, so pruning never
// changes a decision.
type State interface {
	// Count is the number of events of k in the trailing window.
	Count(k Key, window time.Duration) int
	// Baseline is k's usual count per spec.Window: the median of hourly
	// counts over the trailing week (excluding the current hour) scaled to
	// the window. ok is false when there is less than an hour of history.
	Baseline(k Key, spec BaselineSpec) (perWindow float64, ok bool)
	// Distinct counts distinct members of k in the trailing window,
	// saturating at MaxDistinct.
	Distinct(k Key, set Set, window time.Duration) int
	// SeenBetween reports whether k had any event in [from, to).
	SeenBetween(k Key, from, to time.Time) bool
	// NearText is the spread of posts whose text fingerprint is within
	// maxDist of fp in the trailing window (at most one hour).
	NearText(fp uint64, maxDist int, window time.Duration) Spread
	// NearReason is the same for sign-up reasons (window at most a day).
	NearReason(fp uint64, maxDist int, window time.Duration) Spread
	// NearMedia is the spread of posts that had an attachment with one of
	// the exact keys or a perceptual hash within maxDist of one of
	// phashes, in the trailing window (at most one hour).
	NearMedia(keys, phashes []uint64, maxDist int, window time.Duration) Spread
	// LookupMX resolves the domain's mail exchangers with the engine's
	// timeout and cache.
	LookupMX(ctx context.Context, domain string) MXResult
	// Classify is the learned text model's log-odds (spam over ham) for
	// the token ids; ready is false until it has enough examples.
	Classify(tokenIDs []uint32) (logOdds float64, ready bool)
}
