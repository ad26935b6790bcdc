package campaigns

import (
	"slices"
	"time"
	"unsafe"
)

// member is one check in a candidate cluster.
type member struct {
	acct         uint64
	server       string
	origin       string
	originServer string
	check        string
	at           int64 // unix seconds
	flagged      bool
}

// cand is the members of one fingerprint (exact, or one value of an LSH
// index), the most recent maxMembers of them.
type cand struct {
	m []member
}

func (c *cand) add(m member) {
	if len(c.m) >= maxMembers {
		oldest := 0
		for i := range c.m {
			if c.m[i].at < c.m[oldest].at {
				oldest = i
			}
		}
		c.m = slices.Delete(c.m, oldest, oldest+1)
	}
	c.m = append(c.m, m)
}

// last is the time of the newest member.
func (c *cand) last() int64 {
	var t int64
	for i := range c.m {
		t = max(t, c.m[i].at)
	}
	return t
}

// memberBytes is what a member holds: the struct and its strings' data
// (check id, server id, origin domain).
const memberBytes = int(unsafe.Sizeof(member{})) + 64

// size is what a candidate holds, as the memory budget counts it.
func (c *cand) size() int { return int(unsafe.Sizeof(cand{})) + cap(c.m)*memberBytes }

// candMap is the candidates of one exact-key kind (attachments, link
// domains, sign-up patterns) within a byte budget: when adding a member
// takes it over, the least recently seen of a sample of other candidates
// go (sampled LRU).
type candMap[K comparable] struct {
	m            map[K]*cand
	bytes, limit int
}

// mapEntryBytes is a candidate's map entry and pointer.
const mapEntryBytes = 48

func newCandMap[K comparable](limit int64) *candMap[K] {
	return &candMap[K]{m: map[K]*cand{}, limit: int(limit)}
}

// add adds mem to k's candidate and returns it.
func (cm *candMap[K]) add(t *Tracker, k K, mem member) *cand {
	c := cm.m[k]
	before := 0
	if c == nil {
		c = &cand{}
		cm.m[k] = c
		before = -mapEntryBytes
	} else {
		before = c.size()
	}
	c.add(mem)
	cm.bytes += c.size() - before
	for cm.bytes > cm.limit && len(cm.m) > 1 {
		var (
			victim K
			vc     *cand
			n      int
		)
		for key, x := range cm.m {
			if key == k {
				continue
			}
			if vc == nil || x.last() < vc.last() {
				victim, vc = key, x
			}
			if n++; n == 8 {
				break
			}
		}
		cm.bytes -= vc.size() + mapEntryBytes
		delete(cm.m, victim)
		t.evicted++
	}
	return c
}

// prune drops members older than before, and candidates left empty.
func (cm *candMap[K]) prune(before int64) {
	cm.bytes = 0
	for k, c := range cm.m {
		if c.prune(before) {
			delete(cm.m, k)
			continue
		}
		cm.bytes += c.size() + mapEntryBytes
	}
}

// prune drops members older than before and reports whether none is left.
func (c *cand) prune(before int64) bool {
	c.m = slices.DeleteFunc(c.m, func(m member) bool { return m.at < before })
	if cap(c.m) > 2*len(c.m)+4 {
		c.m = slices.Clone(c.m)
	}
	return len(c.m) == 0
}

// cluster is the union of members of several cands within a window.
type cluster struct {
	since, until int64
	members      []member
	accounts     []uint64
	servers      []string
	flagged      []uint64
}

func (u *cluster) add(c *cand) {
	for _, m := range c.m {
		if m.at < u.since || m.at > u.until {
			continue
		}
		if slices.ContainsFunc(u.members, func(x member) bool { return x.check == m.check && x.acct == m.acct }) {
			continue
		}
		u.members = append(u.members, m)
		if !slices.Contains(u.accounts, m.acct) {
			u.accounts = append(u.accounts, m.acct)
		}
		if !slices.Contains(u.servers, m.server) {
			u.servers = append(u.servers, m.server)
		}
		if m.flagged && !slices.Contains(u.flagged, m.acct) {
			u.flagged = append(u.flagged, m.acct)
		}
	}
}

func (u *cluster) crosses(th Threshold) bool {
	return len(u.accounts) >= th.Accounts && len(u.servers) >= th.Servers && len(u.flagged) >= th.Flagged
}

func newCluster(at time.Time, window time.Duration) *cluster {
	return &cluster{since: at.Add(-window).Unix(), until: at.Unix()}
}

// candidate counts a check that matched no campaign towards the clusters of
// its fingerprints and returns a proposal for the first kind whose
// threshold the check makes its cluster cross (text, media, link, sign-up).
// Only checks that look like a wave's raw material count: posts of fresh
// accounts (and, for links, only held ones) and sign-ups with a pattern.
func (t *Tracker) candidate(ev *Event) *Proposal {
	domain, originServer := ev.origin()
	m := member{acct: ev.Account, server: ev.ServerID, origin: domain, originServer: originServer, check: ev.CheckID,
		at: ev.At.Unix(), flagged: ev.Flagged}
	if m.acct == 0 {
		m.acct = hashString(ev.CheckID) // an account we cannot tell apart counts once
	}
	var prop *Proposal
	offer := func(k Kind, u *cluster, evid Evidence) {
		if prop == nil && u.crosses(t.p.threshold(k)) {
			prop = &Proposal{Kind: k, Label: describe(ev), Evidence: evid, Members: members(u), At: ev.At}
		}
	}
	switch ev.Gate {
	case GateContent:
		if !ev.fresh(&t.p) {
			return nil
		}
		if ev.Text != 0 {
			t.text.Update(ev.Text, ev.At, func(c *cand) { c.add(m) })
			u := newCluster(ev.At, t.p.Text.Window)
			var prints []uint64
			t.text.Near(ev.Text, t.p.TextDistance, ev.At.Add(-t.p.Text.Window), ev.At, func(fp uint64, c *cand) bool {
				u.add(c)
				if len(prints) < 16 && !slices.Contains(prints, fp) {
					prints = append(prints, fp)
				}
				return true
			})
			offer(KindText, u, Evidence{Texts: prints})
		}
		if len(ev.Media) > 0 || len(ev.PHashes) > 0 {
			u := newCluster(ev.At, t.p.Media.Window)
			evid := Evidence{Media: slices.Clone(ev.Media)}
			for _, k := range ev.Media {
				c := t.media.add(t, k, m)
				u.add(c)
			}
			for _, ph := range ev.PHashes {
				t.phash.Update(ph, ev.At, func(c *cand) { c.add(m) })
				t.phash.Near(ph, t.p.MediaDistance, ev.At.Add(-t.p.Media.Window), ev.At, func(fp uint64, c *cand) bool {
					u.add(c)
					if len(evid.PHashes) < 16 && !slices.Contains(evid.PHashes, fp) {
						evid.PHashes = append(evid.PHashes, fp)
					}
					return true
				})
			}
			offer(KindMedia, u, evid)
		}
		if ev.Flagged {
			for _, d := range ev.Links {
				c := t.links.add(t, d, m)
				u := newCluster(ev.At, t.p.Link.Window)
				u.add(c)
				offer(KindLink, u, Evidence{Links: []string{d}})
			}
		}
	case GateSignup:
		if ev.Signup == 0 {
			return nil
		}
		c := t.signups.add(t, ev.Signup, m)
		u := newCluster(ev.At, t.p.Signup.Window)
		u.add(c)
		offer(KindSignup, u, Evidence{Signups: []uint64{ev.Signup}})
	}
	return prop
}

func members(u *cluster) []Member {
	out := make([]Member, 0, len(u.members))
	for _, m := range u.members {
		out = append(out, Member{CheckID: m.check, ServerID: m.server, Origin: m.origin, OriginServer: m.originServer,
			Account: m.acct, At: time.Unix(m.at, 0).UTC(), Flagged: m.flagged})
	}
	slices.SortFunc(out, func(a, b Member) int { return a.At.Compare(b.At) })
	return out
}

// describe names a campaign by what its posts or sign-ups look like, for
// moderators and the public comment of the feed; never by the rule that
// detected it.
func describe(ev *Event) string {
	if ev.Gate == GateSignup {
		return "scripted sign-ups"
	}
	var what string
	switch {
	case ev.Direct:
		what = "direct messages"
	case ev.Mentions >= 5:
		what = "mass-mention posts"
	case ev.Mentions > 0:
		what = "posts mentioning strangers"
	default:
		what = "posts"
	}
	switch {
	case len(ev.Media)+len(ev.PHashes) > 0:
		what += " with an image"
	case len(ev.Links) > 0:
		what += " with links"
	}
	return what
}

// hashString is FNV-1a, enough to tell checks apart when an account key is
// missing.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	if h == 0 {
		h = 1
	}
	return h
}
