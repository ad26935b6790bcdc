package screening

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/breakwater-fasp/breakwater/provider/signals"
	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

// minuteSpan is how long minute buckets are kept; windows up to this long
// are counted to the minute, longer ones to the hour.
const minuteSpan = 2 * time.Hour

// baselineSpan is the trailing period baselines are computed over.
const baselineSpan = 7 * 24 * time.Hour

type bucket struct {
	t int64 // unix minute or unix hour
	n uint32
}

// member is one account or server seen in a series, with the time it was
// last seen (unix seconds) and whether it was a fresh account then.
type member struct {
	key   uint64
	last  int64
	fresh bool
}

// memberSet keeps the signals.MaxDistinct most recently seen members. The
// kept set is the top members by last-seen time, whatever order events
// arrive in, so replaying persisted checks rebuilds the same set.
type memberSet struct {
	m []member
}

func (s *memberSet) add(key uint64, t int64, fresh bool) {
	for i := range s.m {
		if s.m[i].key == key {
			switch {
			case t > s.m[i].last:
				s.m[i].last, s.m[i].fresh = t, fresh
			case t == s.m[i].last:
				s.m[i].fresh = s.m[i].fresh || fresh
			}
			return
		}
	}
	if len(s.m) < signals.MaxDistinct {
		s.m = append(s.m, member{key, t, fresh})
		return
	}
	// Replace the oldest (ties: smallest key) if the newcomer is newer.
	lo := 0
	for i := 1; i < len(s.m); i++ {
		if s.m[i].last < s.m[lo].last || s.m[i].last == s.m[lo].last && s.m[i].key < s.m[lo].key {
			lo = i
		}
	}
	if t > s.m[lo].last || t == s.m[lo].last && key > s.m[lo].key {
		s.m[lo] = member{key, t, fresh}
	}
}

func (s *memberSet) count(since, until int64, freshOnly bool) int {
	n := 0
	for _, m := range s.m {
		if m.last >= since && m.last <= until && (!freshOnly || m.fresh) {
			n++
		}
	}
	return n
}

func (s *memberSet) prune(before int64) {
	s.m = shrink(slices.DeleteFunc(s.m, func(m member) bool { return m.last < before }))
}

// shrink gives back a backing array that pruning left mostly empty, so
// that a series' memory follows what it holds.
func shrink[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	if cap(s) > 2*len(s)+4 {
		return slices.Clone(s)
	}
	return s
}

// series is one key's history: minute buckets for short windows, hour
// buckets for baselines and long windows, and member sets.
type series struct {
	minutes  []bucket
	hours    []bucket
	servers  memberSet
	accounts memberSet
}

func addBucket(bs []bucket, t int64) []bucket {
	n := len(bs)
	if n == 0 || bs[n-1].t < t {
		return append(bs, bucket{t, 1})
	}
	if bs[n-1].t == t {
		bs[n-1].n++
		return bs
	}
	i, found := slices.BinarySearchFunc(bs, t, func(b bucket, t int64) int {
		switch {
		case b.t < t:
			return -1
		case b.t > t:
			return 1
		}
		return 0
	})
	if found {
		bs[i].n++
		return bs
	}
	return slices.Insert(bs, i, bucket{t, 1})
}

// sumBuckets adds counts with from <= t <= to, scanning from the newest.
func sumBuckets(bs []bucket, from, to int64) int {
	n := 0
	for i := len(bs) - 1; i >= 0 && bs[i].t >= from; i-- {
		if bs[i].t <= to {
			n += int(bs[i].n)
		}
	}
	return n
}

// seriesOverhead is what a series costs besides its slices' backing
// arrays: the struct and its map entry (key, pointer, control byte and
// the map's spare room), measured with the engine's memory test.
const seriesOverhead = int(unsafe.Sizeof(series{})) + 80

// size estimates the bytes a series holds.
func (s *series) size() int {
	return seriesOverhead + int(unsafe.Sizeof(bucket{}))*(cap(s.minutes)+cap(s.hours)) +
		int(unsafe.Sizeof(member{}))*(cap(s.servers.m)+cap(s.accounts.m))
}

// lastSeen is the unix second of the series' newest event (to the minute or
// the hour, whichever is newer).
func (s *series) lastSeen() int64 {
	var t int64 = -1 << 62
	if n := len(s.minutes); n > 0 {
		t = s.minutes[n-1].t * 60
	}
	if n := len(s.hours); n > 0 {
		t = max(t, s.hours[n-1].t*3600)
	}
	return t
}

// pinned kinds are never evicted: one series per server or for the whole
// network, few, and what baselines need.
func pinned(k signals.Kind) bool {
	switch k {
	case signals.KindServerSignups, signals.KindServerActivity, signals.KindNetSignups, signals.KindNetActivity:
		return true
	}
	return false
}

const windowShards = 64

// evictSample is how many series an eviction compares; the one seen least
// recently goes (sampled LRU, as in Redis: cheap, and close to exact LRU).
const evictSample = 8

type windowShard struct {
	mu    sync.Mutex
	m     map[signals.Key]*series
	bytes int // estimated bytes of the evictable series
}

// windows is the sharded store of all counters and member sets. When a
// shard's series exceed its share of the memory budget, the least recently
// seen series are evicted, so memory stays bounded whatever the traffic:
// under a flood of distinct e-mail addresses or IPs, per-address windows
// get shorter instead of the process growing.
type windows struct {
	shards      [windowShards]windowShard
	shardBudget int // bytes per shard; 0: unbounded
	evictions   atomic.Uint64
}

func newWindows(budget int64) *windows {
	w := &windows{shardBudget: int(budget / windowShards)}
	for i := range w.shards {
		w.shards[i].m = map[signals.Key]*series{}
	}
	return w
}

// totals counts the series held and the estimated bytes of the evictable
// ones.
func (w *windows) totals() (series int, bytes int64) {
	for i := range w.shards {
		sh := &w.shards[i]
		sh.mu.Lock()
		series += len(sh.m)
		bytes += int64(sh.bytes)
		sh.mu.Unlock()
	}
	return series, bytes
}

// evict drops least recently seen evictable series until the shard is
// within budget; the caller holds sh.mu. keep is never evicted.
func (w *windows) evict(sh *windowShard, keep signals.Key) {
	for w.shardBudget > 0 && sh.bytes > w.shardBudget {
		var (
			victim signals.Key
			vs     *series
			seen   int
		)
		for k, s := range sh.m {
			if pinned(k.Kind) || k == keep {
				continue
			}
			if vs == nil || s.lastSeen() < vs.lastSeen() {
				victim, vs = k, s
			}
			if seen++; seen == evictSample {
				break
			}
		}
		if vs == nil {
			return
		}
		sh.bytes -= vs.size()
		delete(sh.m, victim)
		w.evictions.Add(1)
	}
}

func (w *windows) shard(k signals.Key) *windowShard {
	return &w.shards[similarity.Mix64(k.ID^uint64(k.Kind)<<56)%windowShards]
}

// who is the optional member information recorded with an event.
type who struct {
	server  uint64
	account uint64
	fresh   bool
}

func unixMinute(t time.Time) int64 { return floorDiv(t.Unix(), 60) }
func unixHour(t time.Time) int64   { return floorDiv(t.Unix(), 3600) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (w *windows) add(k signals.Key, at time.Time, m who) {
	sh := w.shard(k)
	sh.mu.Lock()
	s := sh.m[k]
	before := 0
	if s == nil {
		s = &series{}
		sh.m[k] = s
	} else {
		before = s.size()
	}
	s.minutes = addBucket(s.minutes, unixMinute(at))
	s.hours = addBucket(s.hours, unixHour(at))
	sec := at.Unix()
	if m.server != 0 {
		s.servers.add(m.server, sec, false)
	}
	if m.account != 0 {
		s.accounts.add(m.account, sec, m.fresh)
	}
	if !pinned(k.Kind) {
		sh.bytes += s.size() - before
		w.evict(sh, k)
	}
	sh.mu.Unlock()
}

// count is the number of events in the trailing window ending at now.
func (w *windows) count(k signals.Key, now time.Time, window time.Duration) int {
	sh := w.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[k]
	if s == nil {
		return 0
	}
	if window <= minuteSpan {
		to := unixMinute(now)
		return sumBuckets(s.minutes, to-int64(window/time.Minute)+1, to)
	}
	to := unixHour(now)
	return sumBuckets(s.hours, to-int64(window/time.Hour)+1, to)
}

func (w *windows) distinct(k signals.Key, set signals.Set, now time.Time, window time.Duration) int {
	sh := w.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[k]
	if s == nil {
		return 0
	}
	since, until := now.Add(-window).Unix(), now.Unix()
	switch set {
	case signals.SetServers:
		return s.servers.count(since, until, false)
	case signals.SetAccounts:
		return s.accounts.count(since, until, false)
	case signals.SetFreshAccounts:
		return s.accounts.count(since, until, true)
	}
	return 0
}

// members copies the members of a set seen in [since, until] into dst.
func (w *windows) members(k signals.Key, since, until int64, u *union) {
	sh := w.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s := sh.m[k]; s != nil {
		u.addSets(&s.accounts, &s.servers, since, until)
	}
}

// seenBetween reports any event in [from, to), to the hour.
func (w *windows) seenBetween(k signals.Key, from, to time.Time) bool {
	sh := w.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[k]
	if s == nil {
		return false
	}
	return sumBuckets(s.hours, unixHour(from), unixHour(to)-1) > 0
}

// hourlyCounts returns the count of every hour in [from, to] (inclusive,
// unix hours) and the first hour with an event in that range (-1: none).
func (w *windows) hourlyCounts(k signals.Key, from, to int64, dst []uint32) (first int64) {
	first = -1
	sh := w.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[k]
	if s == nil {
		return -1
	}
	for i := len(s.hours) - 1; i >= 0 && s.hours[i].t >= from; i-- {
		b := s.hours[i]
		if b.t > to {
			continue
		}
		if dst != nil {
			dst[b.t-from] = b.n
		}
		first = b.t
	}
	return first
}

// baseline implements signals.State.Baseline; see there.
func (w *windows) baseline(k signals.Key, spec signals.BaselineSpec, now time.Time, retention time.Duration) (float64, bool) {
	span := min(baselineSpan, retention)
	nowH := unixHour(now)
	hours := int64(span / time.Hour)
	from, to := nowH-hours, nowH-1
	if to < from {
		return 0, false
	}
	first := w.hourlyCounts(spec.History, from, to, nil)
	if first < 0 {
		return 0, false
	}
	var buf [7 * 24]uint32
	counts := buf[:to-first+1]
	w.hourlyCounts(k, first, to, counts)
	var picked [7 * 24]uint32
	sel := picked[:0]
	if spec.TimeOfDay {
		// Same hour of day ±1 on previous days.
		for h := first; h <= to; h++ {
			if d := (nowH - h + 1) % 24; nowH-h >= 23 && d <= 2 {
				sel = append(sel, counts[h-first])
			}
		}
	}
	if len(sel) == 0 {
		sel = append(sel, counts...)
	}
	slices.Sort(sel)
	var median float64
	if n := len(sel); n%2 == 1 {
		median = float64(sel[n/2])
	} else {
		median = (float64(sel[n/2-1]) + float64(sel[n/2])) / 2
	}
	return median * float64(spec.Window) / float64(time.Hour), true
}

// prune drops buckets and members that no query can reach any more.
// kindRetention caps how long the high-cardinality kinds (one series per IP,
// author, attachment or address) are kept: no signal looks further back in
// them, and keeping them for the whole retention would make memory grow
// with every check instead of levelling off. Low-cardinality kinds (servers,
// providers, applications, link domains, network totals) keep the full
// retention, which baselines and "new to the network" need.
var kindRetention = map[signals.Kind]time.Duration{
	signals.KindIP:                 24 * time.Hour,     // ip_velocity looks back 30 min
	signals.KindIPPrefix:           48 * time.Hour,     // ip_prefix_velocity: 1 h
	signals.KindAuthorMentionPosts: 24 * time.Hour,     // posting_velocity: 10 min
	signals.KindMedia:              24 * time.Hour,     // duplicate_media: 1 h
	signals.KindEmail:              8 * 24 * time.Hour, // email_reuse: 7 days
}

func (w *windows) prune(now time.Time, retention time.Duration) {
	minFrom := unixMinute(now.Add(-minuteSpan))
	for i := range w.shards {
		sh := &w.shards[i]
		sh.mu.Lock()
		bytes := 0
		for k, s := range sh.m {
			keep := retention
			if r, ok := kindRetention[k.Kind]; ok && r < keep {
				keep = r
			}
			hourFrom := unixHour(now.Add(-keep))
			memberFrom := now.Add(-keep).Unix()
			s.minutes = shrink(slices.DeleteFunc(s.minutes, func(b bucket) bool { return b.t < minFrom }))
			s.hours = shrink(slices.DeleteFunc(s.hours, func(b bucket) bool { return b.t < hourFrom }))
			s.servers.prune(memberFrom)
			s.accounts.prune(memberFrom)
			if len(s.hours) == 0 && len(s.minutes) == 0 {
				delete(sh.m, k)
				continue
			}
			if !pinned(k.Kind) {
				bytes += s.size()
			}
		}
		sh.bytes = bytes
		sh.mu.Unlock()
	}
}

// union collects distinct members across several sets, each side capped at
// signals.MaxDistinct. Its sets are fixed arrays, so a union on the stack
// allocates nothing.
type union struct {
	accounts cappedSet
	fresh    cappedSet
	servers  cappedSet
}

// cappedSet is a set of at most signals.MaxDistinct keys, in insertion
// order.
type cappedSet struct {
	n    int
	keys [signals.MaxDistinct]uint64
}

func (s *cappedSet) add(k uint64) {
	if s.n >= len(s.keys) || slices.Contains(s.keys[:s.n], k) {
		return
	}
	s.keys[s.n] = k
	s.n++
}

func (s *cappedSet) full() bool { return s.n >= len(s.keys) }

func (u *union) addSets(accounts, servers *memberSet, since, until int64) {
	for _, m := range accounts.m {
		if m.last >= since && m.last <= until {
			u.accounts.add(m.key)
			if m.fresh {
				u.fresh.add(m.key)
			}
		}
	}
	for _, m := range servers.m {
		if m.last >= since && m.last <= until {
			u.servers.add(m.key)
		}
	}
}

func (u *union) full() bool {
	return u.accounts.full() && u.fresh.full() && u.servers.full()
}

func (u *union) spread() signals.Spread {
	return signals.Spread{Accounts: u.accounts.n, Servers: u.servers.n, FreshAccounts: u.fresh.n}
}

// spreadRec is the value kept per fingerprint in the LSH indexes.
type spreadRec struct {
	accounts memberSet
	servers  memberSet
}
