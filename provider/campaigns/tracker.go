package campaigns

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

// maxMembers caps the members a candidate cluster remembers, and so the
// largest account threshold.
const maxMembers = 64

// maxSamples caps the check ids kept per server and origin.
const maxSamples = 20

// Options configures a Tracker.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Params Params
	// MemoryBudget bounds, approximately, the bytes the candidate clusters
	// hold (default DefaultMemoryBudget): 40 % for near-duplicate texts,
	// 20 % each for image hashes and exact attachments, 10 % each for
	// links and sign-up patterns. Past it the least recently seen
	// candidates go first, so a flood shortens the window in which a wave
	// can be recognised instead of growing the process.
	MemoryBudget int64
}

// DefaultMemoryBudget is the candidates' memory bound by default.
const DefaultMemoryBudget = 64 << 20

// Tracker is the in-memory view of candidates, campaigns and origins. It is
// safe for concurrent use; one mutex guards everything, because every
// operation is a few map and bit operations.
type Tracker struct {
	mu  sync.Mutex
	p   Params
	now func() time.Time

	camps map[string]*camp

	text    *similarity.LSH[cand]
	phash   *similarity.LSH[cand]
	media   *candMap[uint64]
	links   *candMap[string]
	signups *candMap[uint64]

	origins map[string]*origin
	servers map[string]*serverState

	evicted uint64 // exact-key candidates evicted for the budget
}

// New builds an empty tracker; zero Params mean DefaultParams.
func New(opts Options) (*Tracker, error) {
	p := opts.Params
	if p == (Params{}) {
		p = DefaultParams()
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	t := &Tracker{p: p, now: opts.Now, camps: map[string]*camp{}, origins: map[string]*origin{}, servers: map[string]*serverState{}}
	if t.now == nil {
		t.now = time.Now
	}
	budget := opts.MemoryBudget
	if budget <= 0 {
		budget = DefaultMemoryBudget
	}
	share := func(pct int64) int64 { return budget * pct / 100 }
	t.media, t.links, t.signups = newCandMap[uint64](share(20)), newCandMap[string](share(10)), newCandMap[uint64](share(10))
	size := func(c *cand) int { return c.size() }
	span := time.Minute
	keep := int(maxWindow(p)/span) + 2
	var err error
	if t.text, err = similarity.NewLSH(similarity.LSHConfig[cand]{Bands: 4, ProbeBands: 3, Span: span, Keep: keep,
		MaxBytes: share(40), Size: size}); err != nil {
		return nil, err
	}
	if t.phash, err = similarity.NewLSH(similarity.LSHConfig[cand]{Bands: 5, ProbeBands: 4, Span: span, Keep: keep,
		MaxBytes: share(20), Size: size}); err != nil {
		return nil, err
	}
	return t, nil
}

// Stats describes the candidates' memory: how many are held and what
// keeping within MemoryBudget has cost.
type Stats struct {
	Text, PHash           similarity.LSHStats
	Media, Links, Signups int
	ExactBytes            int64  // bytes of the exact-key candidates, as the budget counts them
	EvictedCandidates     uint64 // exact-key candidates evicted for the budget
}

// Stats reports the tracker's candidate counts.
func (t *Tracker) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Stats{Text: t.text.Stats(), PHash: t.phash.Stats(), Media: len(t.media.m), Links: len(t.links.m), Signups: len(t.signups.m),
		ExactBytes: int64(t.media.bytes + t.links.bytes + t.signups.bytes), EvictedCandidates: t.evicted}
}

func maxWindow(p Params) time.Duration {
	return max(p.Text.Window, p.Media.Window, p.Link.Window, p.Signup.Window)
}

// Params returns the tracker's params.
func (t *Tracker) Params() Params { return t.p }

// Event is one screened check, as the tracker sees it: fingerprints and
// facts, no personal data.
type Event struct {
	CheckID string
	// ServerID is the customer server that made the check; ServerDomain
	// its domain (the origin of local posts and of sign-ups).
	ServerID     string
	ServerDomain string
	Gate         string
	At           time.Time
	// Account is the keyed hash of the account (per server).
	Account uint64
	// AuthorAge is the post author's account age (content only).
	AuthorAge time.Duration
	// Local is set when a post's author is an account of the customer
	// server; otherwise Origin is the author's domain.
	Local  bool
	Origin string
	// Flagged is set when the engine held or rejected the check.
	Flagged bool
	// Campaign is the campaign the check matched when it was decided.
	Campaign string
	// Fingerprints.
	Text    uint64
	Media   []uint64
	PHashes []uint64
	Links   []string
	Signup  uint64
	// Facts that name a campaign: mentions, direct visibility, and
	// whether the server's sign-up burst signal fired.
	Mentions    int
	Direct      bool
	BurstSignup bool
	// Replay marks a check replayed from the store at start-up: it only
	// rebuilds candidate clusters and burst state (its hits are already
	// stored), and never proposes or notifies.
	Replay bool
}

func (e *Event) origin() (domain, serverID string) {
	if e.Gate == GateContent && !e.Local && e.Origin != "" {
		return strings.ToLower(e.Origin), ""
	}
	return strings.ToLower(e.ServerDomain), e.ServerID
}

func (e *Event) fresh(p *Params) bool {
	return e.Gate == GateSignup || e.AuthorAge < p.FreshAge
}

// Result is what one observed check changed.
type Result struct {
	// Campaign is the campaign the check counted for, if any, and
	// NewEvidence what that campaign's evidence grew by.
	Campaign    string
	NewEvidence Evidence
	// Proposal asks the caller to open a campaign (and Install it).
	Proposal *Proposal
	// Notices are things to tell customer servers' admins.
	Notices []Notice
}

// Proposal is a cluster that crossed its kind's threshold.
type Proposal struct {
	Kind     Kind
	Label    string
	Evidence Evidence
	Members  []Member
	At       time.Time
}

// Member is one check of a proposal's cluster.
type Member struct {
	CheckID      string
	ServerID     string
	Origin       string
	OriginServer string
	Account      uint64
	At           time.Time
	Flagged      bool
}

// NoticeKind says what a notice is about.
type NoticeKind string

// Notice kinds.
const (
	// NoticeCampaign: a campaign reached a customer server (sent when it
	// opens, and when it first reaches another server).
	NoticeCampaign NoticeKind = "campaign"
	// NoticeSource: accounts of a customer server emit campaign traffic.
	NoticeSource NoticeKind = "source"
	// NoticeGhost: a customer server has a sign-up burst and no moderator
	// response.
	NoticeGhost NoticeKind = "ghost_ship"
)

// Notice is one thing worth telling a customer server's admins.
type Notice struct {
	Kind       NoticeKind
	ServerID   string
	Domain     string
	CampaignID string
	Since      time.Time
	Hits       int64
	Accounts   int
	Samples    []string
}

// Query is the decision-time lookup of one check's fingerprints.
type Query struct {
	Gate    string
	At      time.Time
	Text    uint64
	Media   []uint64
	PHashes []uint64
	Links   []string
	Signup  uint64
}

// Match is the campaign a check matches.
type Match struct {
	ID        string
	Kind      Kind
	Label     string
	Confirmed bool
}

// camp is a campaign with its presence indexed.
type camp struct {
	c       Campaign // Servers and Origins are kept in the maps below
	servers map[string]*pres
	origins map[string]*pres
}

type pres struct {
	Presence
	accts []uint64
}

func (p *pres) addAccount(a uint64) {
	if a == 0 || slices.Contains(p.accts, a) {
		return
	}
	if len(p.accts) < maxMembers {
		p.accts = append(p.accts, a)
	}
	p.Accounts = max(p.Accounts, len(p.accts))
}

func (p *pres) addSample(id string) {
	if id != "" && len(p.Samples) < maxSamples && !slices.Contains(p.Samples, id) {
		p.Samples = append(p.Samples, id)
	}
}

func (p *pres) seen(at time.Time) {
	if p.FirstSeen.IsZero() || at.Before(p.FirstSeen) {
		p.FirstSeen = at
	}
	if at.After(p.LastSeen) {
		p.LastSeen = at
	}
}

// confirmed is Campaign.Confirmed over the indexed presence.
func (c *camp) confirmed(feedbackServers int) bool {
	if c.c.OperatorConfirmed() {
		return true
	}
	servers := make([]Presence, 0, len(c.servers))
	for _, p := range c.servers {
		servers = append(servers, p.Presence)
	}
	return feedbackConfirmed(servers, feedbackServers)
}

func (c *camp) snapshot() Campaign {
	out := c.c.clone()
	out.Servers = presList(c.servers)
	out.Origins = presList(c.origins)
	return out
}

func presList(m map[string]*pres) []Presence {
	out := make([]Presence, 0, len(m))
	for _, p := range m {
		q := p.Presence
		q.Samples = slices.Clone(p.Samples)
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b Presence) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// Install adds a campaign loaded from the store, or refreshes one the
// tracker holds: status, confirmation, extension and label come from c;
// evidence, counts and presence are merged (the tracker may have seen hits
// the store has not yet been told about).
func (t *Tracker) Install(c Campaign) {
	t.mu.Lock()
	defer t.mu.Unlock()
	x := t.camps[c.ID]
	if x == nil {
		x = &camp{c: c, servers: map[string]*pres{}, origins: map[string]*pres{}}
		x.c.Servers, x.c.Origins = nil, nil
		x.c.Evidence = c.Evidence.Union(Evidence{}, 1<<30)
		t.camps[c.ID] = x
	} else {
		ev := x.c.Evidence.Union(c.Evidence, t.p.MaxEvidence*2)
		hits, last := max(x.c.Hits, c.Hits), x.c.LastHitAt
		if c.LastHitAt.After(last) {
			last = c.LastHitAt
		}
		x.c = c
		x.c.Servers, x.c.Origins = nil, nil
		x.c.Evidence, x.c.Hits, x.c.LastHitAt = ev, hits, last
	}
	mergePresence(x.servers, c.Servers)
	mergePresence(x.origins, c.Origins)
}

func mergePresence(dst map[string]*pres, src []Presence) {
	for _, p := range src {
		d := dst[p.Key]
		if d == nil {
			d = &pres{Presence: p}
			d.Samples = slices.Clone(p.Samples)
			dst[p.Key] = d
			continue
		}
		d.seen(p.FirstSeen)
		d.seen(p.LastSeen)
		d.Hits = max(d.Hits, p.Hits)
		d.Accounts = max(d.Accounts, p.Accounts)
		d.Spam, d.Ham = p.Spam, p.Ham
		if p.Source && !d.Source {
			d.Source, d.SourceAt = true, p.SourceAt
		}
		if d.ServerID == "" {
			d.ServerID = p.ServerID
		}
		for _, s := range p.Samples {
			d.addSample(s)
		}
	}
}

// Get returns a copy of a campaign the tracker holds.
func (t *Tracker) Get(id string) (Campaign, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	x := t.camps[id]
	if x == nil {
		return Campaign{}, false
	}
	return x.snapshot(), true
}

// Campaigns returns copies of every campaign the tracker holds, newest
// first.
func (t *Tracker) Campaigns() []Campaign {
	t.mu.Lock()
	out := make([]Campaign, 0, len(t.camps))
	for _, x := range t.camps {
		out = append(out, x.snapshot())
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b Campaign) int {
		return cmp.Or(b.OpenedAt.Compare(a.OpenedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Expired returns the ids of campaigns that are still marked active but
// whose quiet period has passed at now, so the caller can store them as
// expired.
func (t *Tracker) Expired(now time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []string
	for id, x := range t.camps {
		if x.c.Status == StatusActive && !x.c.ActiveAt(now, t.p.Quiet) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Match finds the active campaign a check's fingerprints match, if any:
// operator-confirmed campaigns first, then the one with the most hits,
// then the oldest. Dismissed and expired campaigns never match.
func (t *Tracker) Match(q Query) (Match, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	x := t.match(q)
	if x == nil {
		return Match{}, false
	}
	return Match{ID: x.c.ID, Kind: x.c.Kind, Label: x.c.Label, Confirmed: x.confirmed(t.p.FeedbackServers)}, true
}

func (t *Tracker) match(q Query) *camp {
	var best *camp
	for _, x := range t.camps {
		if !x.c.ActiveAt(q.At, t.p.Quiet) || x.c.Kind.Gate() != q.Gate || !t.evidenceMatches(&x.c.Evidence, q) {
			continue
		}
		if best == nil || better(x, best) {
			best = x
		}
	}
	return best
}

func better(a, b *camp) bool {
	if ac, bc := a.c.OperatorConfirmed(), b.c.OperatorConfirmed(); ac != bc {
		return ac
	}
	if a.c.Hits != b.c.Hits {
		return a.c.Hits > b.c.Hits
	}
	if !a.c.OpenedAt.Equal(b.c.OpenedAt) {
		return a.c.OpenedAt.Before(b.c.OpenedAt)
	}
	return a.c.ID < b.c.ID
}

func (t *Tracker) evidenceMatches(e *Evidence, q Query) bool {
	if q.Text != 0 {
		for _, p := range e.Texts {
			if similarity.Hamming(p, q.Text) <= t.p.TextDistance {
				return true
			}
		}
	}
	for _, k := range q.Media {
		if slices.Contains(e.Media, k) {
			return true
		}
	}
	for _, ph := range q.PHashes {
		for _, p := range e.PHashes {
			if similarity.Hamming(p, ph) <= t.p.MediaDistance {
				return true
			}
		}
	}
	for _, d := range q.Links {
		if slices.Contains(e.Links, d) {
			return true
		}
	}
	return q.Signup != 0 && slices.Contains(e.Signups, q.Signup)
}

// Covered names the active campaign of kind k whose evidence overlaps e at
// at, if there is one: a proposal it covers must not open a second
// campaign.
func (t *Tracker) Covered(k Kind, e Evidence, at time.Time) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var best *camp
	for _, x := range t.camps {
		if x.c.Kind == k && x.c.ActiveAt(at, t.p.Quiet) && t.overlaps(&x.c.Evidence, &e) && (best == nil || better(x, best)) {
			best = x
		}
	}
	if best == nil {
		return "", false
	}
	return best.c.ID, true
}

// Overlaps reports whether two campaigns' evidence share a fingerprint
// (within the match distances): the store uses it to keep replicas from
// opening the same campaign twice.
func (t *Tracker) Overlaps(a, b Evidence) bool {
	return t.overlaps(&a, &b)
}

func (t *Tracker) overlaps(a, b *Evidence) bool {
	for _, p := range b.Texts {
		if t.evidenceMatches(a, Query{Text: p}) {
			return true
		}
	}
	if t.evidenceMatches(a, Query{Media: b.Media, PHashes: b.PHashes, Links: b.Links}) {
		return true
	}
	for _, p := range b.Signups {
		if t.evidenceMatches(a, Query{Signup: p}) {
			return true
		}
	}
	return false
}

// dismissedMatch reports whether q matches a dismissed campaign's evidence:
// a false-positive pattern the operator rejected.
func (t *Tracker) dismissedMatch(q Query) bool {
	for _, x := range t.camps {
		if x.c.Status == StatusDismissed && x.c.Kind.Gate() == q.Gate && t.evidenceMatches(&x.c.Evidence, q) {
			return true
		}
	}
	return false
}

func (e *Event) query() Query {
	return Query{Gate: e.Gate, At: e.At, Text: e.Text, Media: e.Media, PHashes: e.PHashes, Links: e.Links, Signup: e.Signup}
}

// BurstExplained names the active sign-up campaign that hit serverID within
// BurstWindow before at, if there is one: that server's sign-up burst is
// then that campaign's doing.
func (t *Tracker) BurstExplained(serverID string, at time.Time) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var best *camp
	for _, x := range t.camps {
		if x.c.Kind != KindSignup || !x.c.ActiveAt(at, t.p.Quiet) {
			continue
		}
		p := x.servers[serverID]
		if p == nil || at.Sub(p.LastSeen) > t.p.BurstWindow {
			continue
		}
		if best == nil || better(x, best) {
			best = x
		}
	}
	if best == nil {
		return "", false
	}
	return best.c.ID, true
}

// Observe records one screened check: a hit of the campaign it matches
// (growing it), or a candidate for a new campaign. It must see every check
// of every replica, local or not, and is idempotent only in the sense that
// the caller observes each check once.
func (t *Tracker) Observe(ev Event) Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	var res Result
	if ev.Replay {
		if ev.Gate == GateSignup {
			t.observeSignupBurst(&ev, ev.Campaign != "")
		}
		if ev.Campaign == "" && t.match(ev.query()) == nil && !t.dismissedMatch(ev.query()) {
			t.candidate(&ev)
		}
		return res
	}
	var x *camp
	if ev.Campaign != "" {
		if c := t.camps[ev.Campaign]; c != nil && c.c.Status != StatusDismissed {
			x = c
		}
	}
	if x == nil {
		x = t.match(ev.query())
	}
	if ev.Gate == GateSignup {
		res.Notices = append(res.Notices, t.observeSignupBurst(&ev, x != nil)...)
	}
	if x != nil {
		t.hit(x, &ev, &res)
		return res
	}
	if t.dismissedMatch(ev.query()) {
		return res
	}
	res.Proposal = t.candidate(&ev)
	return res
}

// hit counts a check for campaign x.
func (t *Tracker) hit(x *camp, ev *Event, res *Result) {
	res.Campaign = x.c.ID
	x.c.Hits++
	if ev.At.After(x.c.LastHitAt) {
		x.c.LastHitAt = ev.At
	}
	active := x.c.ActiveAt(ev.At, t.p.Quiet)
	sp := x.servers[ev.ServerID]
	if sp == nil {
		sp = &pres{Presence: Presence{Key: ev.ServerID}}
		x.servers[ev.ServerID] = sp
		if active {
			res.Notices = append(res.Notices, Notice{Kind: NoticeCampaign, ServerID: ev.ServerID, Domain: ev.ServerDomain,
				CampaignID: x.c.ID, Since: ev.At, Hits: 1, Accounts: 1, Samples: []string{ev.CheckID}})
		}
	}
	sp.seen(ev.At)
	sp.Hits++
	sp.addAccount(ev.Account)
	sp.addSample(ev.CheckID)

	domain, originServer := ev.origin()
	if domain != "" {
		op := x.origins[domain]
		if op == nil {
			op = &pres{Presence: Presence{Key: domain, ServerID: originServer}}
			x.origins[domain] = op
		}
		op.seen(ev.At)
		op.Hits++
		op.addAccount(ev.Account)
		if originServer == "" || originServer == ev.ServerID {
			op.addSample(ev.CheckID) // a customer origin's samples are its own checks only
		}
		if !op.Source && op.Hits >= int64(t.p.SourceChecks) && op.Accounts >= t.p.SourceAccounts {
			op.Source, op.SourceAt = true, ev.At
			if originServer != "" && active {
				res.Notices = append(res.Notices, Notice{Kind: NoticeSource, ServerID: originServer, Domain: domain,
					CampaignID: x.c.ID, Since: op.FirstSeen, Hits: op.Hits, Accounts: op.Accounts, Samples: slices.Clone(op.Samples)})
			}
		}
		t.touchOrigin(domain, originServer, ev.At)
	}
	if ev.Gate == GateContent && ev.fresh(&t.p) {
		// Grow with what extends the reach: a print or perceptual hash
		// already within a few bits of the evidence adds nothing but uses
		// up the cap a drifting wave needs for its further variants.
		grow := Evidence{Media: ev.Media}
		if ev.Text != 0 && minDistance(x.c.Evidence.Texts, ev.Text) >= spreadBits {
			grow.Texts = []uint64{ev.Text}
		}
		for _, ph := range ev.PHashes {
			if minDistance(x.c.Evidence.PHashes, ph) >= spreadBits {
				grow.PHashes = append(grow.PHashes, ph)
			}
		}
		before := x.c.Evidence
		x.c.Evidence = before.Union(grow, t.p.MaxEvidence)
		res.NewEvidence = diffEvidence(before, x.c.Evidence)
	}
}

// spreadBits is how far a fingerprint must be from a campaign's evidence to
// be added to it.
const spreadBits = 3

func minDistance(list []uint64, fp uint64) int {
	best := 64
	for _, p := range list {
		best = min(best, similarity.Hamming(p, fp))
	}
	return best
}

func diffEvidence(before, after Evidence) Evidence {
	return Evidence{
		Texts:   after.Texts[len(before.Texts):],
		Media:   after.Media[len(before.Media):],
		PHashes: after.PHashes[len(before.PHashes):],
		Links:   after.Links[len(before.Links):],
		Signups: after.Signups[len(before.Signups):],
	}
}

// Actions the operator can take on a campaign.
const (
	ActionConfirm = "confirm"
	ActionDismiss = "dismiss"
	ActionExtend  = "extend"
)

// ErrUnknownAction is returned by Apply for an action it does not know.
var ErrUnknownAction = errors.New("unknown action: want confirm, dismiss or extend")

// Apply is an operator's action on a campaign at now:
//   - confirm marks it confirmed (it then weighs more, and its sources may
//     be listed as suspend); confirming a dismissed or expired campaign
//     reactivates it;
//   - dismiss stops it from affecting decisions for good, and its evidence
//     becomes a false-positive pattern that never opens a campaign again;
//   - extend keeps it active for another quiet period from now, even
//     without hits (an expired campaign is reactivated).
func Apply(c Campaign, action, by string, now time.Time, quiet time.Duration) (Campaign, error) {
	switch action {
	case ActionConfirm:
		c.Status = StatusActive
		c.ConfirmedAt, c.ConfirmedBy = now, by
		c.DismissedAt, c.DismissedBy = time.Time{}, ""
		if !c.ActiveAt(now, quiet) {
			c.ExtendedUntil = now.Add(quiet)
		}
	case ActionDismiss:
		c.Status = StatusDismissed
		c.DismissedAt, c.DismissedBy = now, by
		c.ConfirmedAt, c.ConfirmedBy = time.Time{}, ""
	case ActionExtend:
		if c.Status == StatusDismissed {
			return c, errors.New("a dismissed campaign cannot be extended; confirm it to reactivate it")
		}
		c.Status = StatusActive
		c.ExtendedUntil = now.Add(quiet)
	default:
		return c, fmt.Errorf("%w: %q", ErrUnknownAction, action)
	}
	return c, nil
}

// NewCampaign turns a proposal into a campaign with the given id, its
// members counted as its first hits.
func NewCampaign(id string, p *Proposal, params Params) Campaign {
	x := &camp{c: Campaign{ID: id, Kind: p.Kind, Label: p.Label, Status: StatusActive, OpenedAt: p.At, LastHitAt: p.At,
		Evidence: p.Evidence.Union(Evidence{}, 1<<30)}, servers: map[string]*pres{}, origins: map[string]*pres{}}
	for _, m := range p.Members {
		x.c.Hits++
		sp := x.servers[m.ServerID]
		if sp == nil {
			sp = &pres{Presence: Presence{Key: m.ServerID}}
			x.servers[m.ServerID] = sp
		}
		sp.seen(m.At)
		sp.Hits++
		sp.addAccount(m.Account)
		sp.addSample(m.CheckID)
		if m.Origin == "" {
			continue
		}
		op := x.origins[m.Origin]
		if op == nil {
			op = &pres{Presence: Presence{Key: m.Origin, ServerID: m.OriginServer}}
			x.origins[m.Origin] = op
		}
		op.seen(m.At)
		op.Hits++
		op.addAccount(m.Account)
		if m.OriginServer == "" || m.OriginServer == m.ServerID {
			op.addSample(m.CheckID)
		}
		if !op.Source && op.Hits >= int64(params.SourceChecks) && op.Accounts >= params.SourceAccounts {
			op.Source, op.SourceAt = true, m.At
		}
	}
	return x.snapshot()
}

// Feedback records a moderator's verdict on a check of campaign id from
// serverID, replacing prev ("" if none). It reports whether the campaign's
// confirmation changed.
func (t *Tracker) Feedback(id, serverID, verdict, prev string) (changed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	x := t.camps[id]
	if x == nil {
		return false
	}
	before := x.confirmed(t.p.FeedbackServers)
	sp := x.servers[serverID]
	if sp == nil {
		sp = &pres{Presence: Presence{Key: serverID}}
		x.servers[serverID] = sp
	}
	adjust(&sp.Presence, prev, -1)
	adjust(&sp.Presence, verdict, +1)
	return before != x.confirmed(t.p.FeedbackServers)
}

func adjust(p *Presence, verdict string, d int) {
	switch verdict {
	case "spam":
		p.Spam = max(0, p.Spam+d)
	case "ham":
		p.Ham = max(0, p.Ham+d)
	}
}

// Prune forgets candidates and origin state that no query can reach any
// more; campaigns themselves are kept (the store decides about them).
func (t *Tracker) Prune(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	horizon := now.Add(-maxWindow(t.p))
	t.text.Expire(horizon)
	t.phash.Expire(horizon)
	t.media.prune(horizon.Unix())
	t.signups.prune(horizon.Unix())
	t.links.prune(horizon.Unix())
	t.pruneOrigins(now)
}
