package campaigns

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// OriginReputation is what the tracker knows about one origin server: the
// author's server for remote posts, the customer server itself for local
// posts and sign-ups. Score counts campaign checks from it, halving every
// HalfLife, so an origin that stops emitting recovers on its own.
type OriginReputation struct {
	Domain    string    `json:"domain"`
	ServerID  string    `json:"serverId,omitempty"` // a customer server
	Score     float64   `json:"score"`              // at ScoreAt
	ScoreAt   time.Time `json:"scoreAt"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	Hits      int64     `json:"hits"`
	// GhostSince is set while a customer server is judged unmanaged: a
	// sign-up burst and no moderator response.
	GhostSince time.Time `json:"ghostSince,omitzero"`
}

// ScoreNow is the decayed score at now.
func (o *OriginReputation) ScoreNow(now time.Time, halfLife time.Duration) float64 {
	if o.ScoreAt.IsZero() || !now.After(o.ScoreAt) {
		return o.Score
	}
	return o.Score * math.Exp2(-float64(now.Sub(o.ScoreAt))/float64(halfLife))
}

type origin struct {
	OriginReputation
	dirty bool
}

// serverState follows one customer server's held sign-ups for ghost-ship
// detection.
type serverState struct {
	domain       string
	burst        []int64 // unix seconds of held burst or campaign sign-ups
	burstSince   time.Time
	ghostSince   time.Time
	lastFeedback time.Time
}

func (t *Tracker) originFor(domain, serverID string) *origin {
	o := t.origins[domain]
	if o == nil {
		o = &origin{OriginReputation: OriginReputation{Domain: domain, ServerID: serverID}}
		t.origins[domain] = o
	}
	if o.ServerID == "" {
		o.ServerID = serverID
	}
	return o
}

func (t *Tracker) touchOrigin(domain, serverID string, at time.Time) {
	o := t.originFor(domain, serverID)
	o.Score = o.ScoreNow(at, t.p.HalfLife) + 1
	if at.After(o.ScoreAt) {
		o.ScoreAt = at
	}
	o.Hits++
	if o.FirstSeen.IsZero() || at.Before(o.FirstSeen) {
		o.FirstSeen = at
	}
	if at.After(o.LastSeen) {
		o.LastSeen = at
	}
	o.dirty = true
}

// observeSignupBurst follows a server's held sign-ups and reports a ghost
// ship once per episode.
func (t *Tracker) observeSignupBurst(ev *Event, matched bool) []Notice {
	st := t.servers[ev.ServerID]
	if st == nil {
		st = &serverState{}
		t.servers[ev.ServerID] = st
	}
	st.domain = ev.ServerDomain
	if ev.Flagged && (ev.BurstSignup || matched) {
		st.burst = append(st.burst, ev.At.Unix())
	}
	from := ev.At.Add(-t.p.GhostWindow).Unix()
	st.burst = slices.DeleteFunc(st.burst, func(s int64) bool { return s < from })
	if len(st.burst) < t.p.GhostSignups {
		st.burstSince = time.Time{}
		return nil
	}
	if st.burstSince.IsZero() {
		st.burstSince = time.Unix(slices.Min(st.burst), 0).UTC()
	}
	quietMods := st.lastFeedback.IsZero() || ev.At.Sub(st.lastFeedback) > t.p.GhostNoFeedback
	if !st.ghostSince.IsZero() || ev.At.Sub(st.burstSince) < t.p.GhostGrace || !quietMods {
		return nil
	}
	st.ghostSince = ev.At
	if st.domain != "" {
		o := t.originFor(st.domain, ev.ServerID)
		o.GhostSince, o.dirty = ev.At, true
	}
	return []Notice{{Kind: NoticeGhost, ServerID: ev.ServerID, Domain: st.domain, Since: st.burstSince, Hits: int64(len(st.burst))}}
}

// NoteFeedback records that a moderator of serverID answered at at: the
// server is managed, so it is no ghost ship (for GhostNoFeedback).
func (t *Tracker) NoteFeedback(serverID string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.servers[serverID]
	if st == nil {
		st = &serverState{}
		t.servers[serverID] = st
	}
	if at.After(st.lastFeedback) {
		st.lastFeedback = at
	}
	st.ghostSince = time.Time{}
	for _, o := range t.origins {
		if o.ServerID == serverID && !o.GhostSince.IsZero() {
			o.GhostSince, o.dirty = time.Time{}, true
		}
	}
}

// InstallOrigin restores an origin's reputation from the store.
func (t *Tracker) InstallOrigin(r OriginReputation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.originFor(r.Domain, r.ServerID)
	if r.LastSeen.After(o.LastSeen) || o.Hits == 0 {
		o.OriginReputation = r
	}
	if r.ServerID != "" && !r.GhostSince.IsZero() {
		st := t.servers[r.ServerID]
		if st == nil {
			st = &serverState{domain: r.Domain}
			t.servers[r.ServerID] = st
		}
		st.ghostSince = r.GhostSince
	}
}

// Origins returns every origin's reputation, highest score at now first.
func (t *Tracker) Origins(now time.Time) []OriginReputation {
	t.mu.Lock()
	out := make([]OriginReputation, 0, len(t.origins))
	for _, o := range t.origins {
		r := o.OriginReputation
		r.Score, r.ScoreAt = o.ScoreNow(now, t.p.HalfLife), now
		out = append(out, r)
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b OriginReputation) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Domain, b.Domain))
	})
	return out
}

// DirtyOrigins returns the origins changed since the last call, for the
// caller to store.
func (t *Tracker) DirtyOrigins() []OriginReputation {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []OriginReputation
	for _, o := range t.origins {
		if o.dirty {
			out = append(out, o.OriginReputation)
			o.dirty = false
		}
	}
	slices.SortFunc(out, func(a, b OriginReputation) int { return cmp.Compare(a.Domain, b.Domain) })
	return out
}

// Ghost reports whether a customer server is judged a ghost ship, and since
// when.
func (t *Tracker) Ghost(serverID string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.servers[serverID]
	if st == nil || st.ghostSince.IsZero() {
		return time.Time{}, false
	}
	return st.ghostSince, true
}

func (t *Tracker) pruneOrigins(now time.Time) {
	horizon := now.Add(-t.p.Quiet)
	for k, o := range t.origins {
		if o.LastSeen.Before(horizon) && o.GhostSince.IsZero() && !o.dirty {
			delete(t.origins, k)
		}
	}
	from := now.Add(-t.p.GhostWindow).Unix()
	for _, st := range t.servers {
		st.burst = slices.DeleteFunc(st.burst, func(s int64) bool { return s < from })
	}
}
