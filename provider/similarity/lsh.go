package similarity

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// LSHConfig shapes an LSH index. Splitting a 64-bit fingerprint into B bands
// means two fingerprints within Hamming distance B-1 share at least one band
// exactly (pigeonhole). Also probing P of the bands at distance 1 extends
// the guarantee to B+P-1: to be missed, each probed band needs at least two
// differing bits and every other band at least one. A lookup reads a fixed
// number of band slots (B + P×bits), so its cost does not grow with the
// number of stored fingerprints beyond slot occupancy (stored / 2^bits).
type LSHConfig[V any] struct {
	// Bands is the number of bands, 4..16 (bands are at most 16 bits, so
	// each band is a flat table indexed by its value); the 64 bits are
	// split as evenly as possible.
	Bands int
	// ProbeBands is how many bands (the first ones) are also looked up
	// at every band value at Hamming distance 1; 0..Bands.
	ProbeBands int
	// Span is the width of one time generation: values are kept per
	// generation and expire a generation at a time, never one by one.
	Span time.Duration
	// Keep is how many generations are kept, counting the newest.
	Keep int
	// BucketScan caps how many entries are read from one band slot, newest
	// first, so that a flood of variants of one text cannot make lookups
	// slow. Zero means 512.
	BucketScan int
	// MaxBytes bounds, approximately, the bytes the kept values hold (each
	// value's Size plus its band and map entries); 0 for no bound. When a
	// new value would exceed it, the oldest generation is dropped early
	// (the window gets shorter); when only the newest generation is left,
	// new fingerprints are not indexed until it ends (existing values
	// still update).
	MaxBytes int64
	// Size reports the bytes a value holds (its struct and what it points
	// to); nil counts each value as its struct size.
	Size func(*V) int
}

// LSH indexes 64-bit fingerprints with a value per (generation, exact
// fingerprint), such as the accounts and servers that produced it. Band
// tables are shared by all generations (entries carry their generation and
// expired ones are skipped, then compacted on insert or by Expire); values
// live in per-generation maps that expire whole. It is safe for concurrent
// use: bands and value shards have their own locks.
type LSH[V any] struct {
	cfg    LSHConfig[V]
	shifts []uint
	masks  []uint64
	span   int64 // nanoseconds
	bands  []lshBand

	mu      sync.RWMutex
	gens    map[int64]*lshGen[V]
	newest  int64
	deadLow int64 // generations below this are expired

	count   atomic.Int64  // values in kept generations
	bytes   atomic.Int64  // their bytes, as MaxBytes counts them
	dropped atomic.Uint64 // generations dropped early for MaxBytes
	refused atomic.Uint64 // new fingerprints not indexed for MaxBytes
}

type lshEntry struct {
	fp  uint64
	gen int64
}

type lshBand struct {
	mu    sync.RWMutex
	slots [][]lshEntry
}

const lshShards = 16

type lshShard[V any] struct {
	mu sync.Mutex
	m  map[uint64]*V
}

type lshGen[V any] struct {
	shards [lshShards]lshShard[V]
	n      atomic.Int64 // values in this generation
	bytes  atomic.Int64 // and their bytes
}

// NewLSH builds an empty index.
func NewLSH[V any](cfg LSHConfig[V]) (*LSH[V], error) {
	if cfg.Bands < 4 || cfg.Bands > 16 {
		return nil, fmt.Errorf("lsh: bands must be 4..16, got %d", cfg.Bands)
	}
	if cfg.ProbeBands < 0 || cfg.ProbeBands > cfg.Bands {
		return nil, fmt.Errorf("lsh: probe bands must be 0..%d", cfg.Bands)
	}
	if cfg.Span <= 0 || cfg.Keep < 1 {
		return nil, fmt.Errorf("lsh: span and keep must be positive")
	}
	if cfg.BucketScan <= 0 {
		cfg.BucketScan = 512
	}
	if cfg.Size == nil {
		cfg.Size = func(*V) int { var v V; return int(unsafe.Sizeof(v)) }
	}
	x := &LSH[V]{cfg: cfg, span: int64(cfg.Span), gens: map[int64]*lshGen[V]{}, newest: -1 << 62, deadLow: -1 << 62}
	base, extra := 64/cfg.Bands, 64%cfg.Bands
	shift := uint(0)
	for b := 0; b < cfg.Bands; b++ {
		w := base
		if b < extra {
			w++
		}
		x.shifts = append(x.shifts, shift)
		x.masks = append(x.masks, (uint64(1)<<uint(w))-1)
		x.bands = append(x.bands, lshBand{slots: make([][]lshEntry, 1<<uint(w))})
		shift += uint(w)
	}
	return x, nil
}

// GuaranteedDistance is the largest Hamming distance at which Near is
// certain to find a stored fingerprint.
func (x *LSH[V]) GuaranteedDistance() int {
	return x.cfg.Bands + x.cfg.ProbeBands - 1
}

func (x *LSH[V]) genOf(at time.Time) int64 {
	n := at.UnixNano()
	g := n / x.span
	if n < 0 && n%x.span != 0 {
		g--
	}
	return g
}

// dropExpired deletes the generations below liveFrom; callers hold x.mu.
func (x *LSH[V]) dropExpired() {
	live := x.liveFrom()
	for k, g := range x.gens {
		if k < live {
			x.count.Add(-g.n.Load())
			x.bytes.Add(-g.bytes.Load())
			delete(x.gens, k)
		}
	}
}

// liveFrom is the oldest generation still kept; callers hold x.mu.
func (x *LSH[V]) liveFrom() int64 {
	return max(x.deadLow, x.newest-int64(x.cfg.Keep)+1)
}

func (x *LSH[V]) newGen() *lshGen[V] {
	gen := &lshGen[V]{}
	for i := range gen.shards {
		gen.shards[i].m = map[uint64]*V{}
	}
	return gen
}

// Update finds or creates the value for fp in the generation of at and calls
// fn on it while holding that value's lock. Inserting into a generation
// that has already expired is ignored.
func (x *LSH[V]) Update(fp uint64, at time.Time, fn func(v *V)) {
	g := x.genOf(at)
	x.mu.RLock()
	gen := x.gens[g]
	live := x.liveFrom()
	x.mu.RUnlock()
	if gen == nil {
		if g < live {
			return
		}
		x.mu.Lock()
		if gen = x.gens[g]; gen == nil {
			if g < x.liveFrom() {
				x.mu.Unlock()
				return
			}
			gen = x.newGen()
			x.gens[g] = gen
			if g > x.newest {
				x.newest = g
				x.dropExpired()
			}
		}
		live = x.liveFrom()
		x.mu.Unlock()
	}
	sh := &gen.shards[Mix64(fp)%lshShards]
	sh.mu.Lock()
	v, ok := sh.m[fp]
	before := 0
	if ok {
		before = x.cfg.Size(v)
	} else {
		if x.cfg.MaxBytes > 0 && x.bytes.Load() >= x.cfg.MaxBytes && !x.makeRoom(g) {
			sh.mu.Unlock()
			x.refused.Add(1)
			return
		}
		v = new(V)
		sh.m[fp] = v
		gen.n.Add(1)
		x.count.Add(1)
		before = -x.entryBytes()
	}
	fn(v)
	delta := int64(x.cfg.Size(v) - before)
	gen.bytes.Add(delta)
	x.bytes.Add(delta)
	sh.mu.Unlock()
	if ok {
		return
	}
	for b := range x.bands {
		bd := &x.bands[b]
		slot := &bd.slots[(fp>>x.shifts[b])&x.masks[b]]
		bd.mu.Lock()
		if len(*slot) > 0 && (*slot)[0].gen < live {
			*slot = slices.DeleteFunc(*slot, func(e lshEntry) bool { return e.gen < live })
		}
		*slot = append(*slot, lshEntry{fp: fp, gen: g})
		bd.mu.Unlock()
	}
}

// entryBytes is what a value costs besides its Size: an entry in each
// band's slot and in its generation's map.
func (x *LSH[V]) entryBytes() int {
	return len(x.bands)*int(unsafe.Sizeof(lshEntry{})) + 32
}

// makeRoom drops the oldest kept generation if it is older than g, and
// reports whether there is room for a new value afterwards.
func (x *LSH[V]) makeRoom(g int64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	for x.bytes.Load() >= x.cfg.MaxBytes {
		oldest := g
		for k := range x.gens {
			oldest = min(oldest, k)
		}
		if oldest >= g {
			return false
		}
		x.deadLow = oldest + 1
		x.dropExpired()
		x.dropped.Add(1)
	}
	return true
}

// LSHStats describes an index's bound.
type LSHStats struct {
	Entries int64  // values kept
	Bytes   int64  // their bytes, as MaxBytes counts them
	Dropped uint64 // generations dropped early to stay within MaxBytes
	Refused uint64 // new fingerprints not indexed to stay within MaxBytes
}

// Stats reports the index's size and what its bound cost.
func (x *LSH[V]) Stats() LSHStats {
	return LSHStats{Entries: x.count.Load(), Bytes: x.bytes.Load(), Dropped: x.dropped.Load(), Refused: x.refused.Load()}
}

type lshCand struct {
	fp  uint64
	gen int64
}

// Near calls fn for stored fingerprints within maxDist of fp whose
// generation overlaps [since, until], newest generation first (ties by
// fingerprint), holding each value's lock during the call. fn returns false
// to stop early. It returns how many values were visited. maxDist above
// GuaranteedDistance still works but may miss some matches.
func (x *LSH[V]) Near(fp uint64, maxDist int, since, until time.Time, fn func(fp uint64, v *V) bool) int {
	lo, hi := x.genOf(since), x.genOf(until)
	x.mu.RLock()
	lo = max(lo, x.liveFrom())
	x.mu.RUnlock()
	if hi < lo {
		return 0
	}
	var probe [17]uint64
	var buf [32]lshCand
	cands := buf[:0]
	for b := range x.bands {
		key := (fp >> x.shifts[b]) & x.masks[b]
		np := 1
		probe[0] = key
		if b < x.cfg.ProbeBands {
			for m := uint64(1); m <= x.masks[b]; m <<= 1 {
				probe[np] = key ^ m
				np++
			}
		}
		bd := &x.bands[b]
		bd.mu.RLock()
		for _, k := range probe[:np] {
			slot := bd.slots[k]
			stop := max(0, len(slot)-x.cfg.BucketScan)
			for i := len(slot) - 1; i >= stop; i-- {
				e := slot[i]
				if e.gen < lo || e.gen > hi || Hamming(e.fp, fp) > maxDist {
					continue
				}
				c := lshCand{e.fp, e.gen}
				if !slices.Contains(cands, c) {
					cands = append(cands, c)
				}
			}
		}
		bd.mu.RUnlock()
	}
	if len(cands) == 0 {
		return 0
	}
	slices.SortFunc(cands, func(a, b lshCand) int { return cmp.Or(cmp.Compare(b.gen, a.gen), cmp.Compare(a.fp, b.fp)) })
	visited := 0
	var gen *lshGen[V]
	genID := int64(-1 << 62)
	for _, c := range cands {
		if c.gen != genID {
			x.mu.RLock()
			gen, genID = x.gens[c.gen], c.gen
			x.mu.RUnlock()
		}
		if gen == nil {
			continue
		}
		sh := &gen.shards[Mix64(c.fp)%lshShards]
		sh.mu.Lock()
		v := sh.m[c.fp]
		cont := true
		if v != nil {
			visited++
			cont = fn(c.fp, v)
		}
		sh.mu.Unlock()
		if !cont {
			break
		}
	}
	return visited
}

// Expire drops every generation that ended at or before the given time and
// compacts the band tables. Compaction takes each band's lock for a chunk
// of slots at a time, so lookups are never held up for long.
func (x *LSH[V]) Expire(before time.Time) {
	g := x.genOf(before)
	x.mu.Lock()
	x.deadLow = max(x.deadLow, g)
	x.dropExpired()
	// Re-count: a value added to a generation while it was being dropped
	// was counted but is gone.
	var n, b int64
	for _, gen := range x.gens {
		n += gen.n.Load()
		b += gen.bytes.Load()
	}
	x.count.Store(n)
	x.bytes.Store(b)
	live := x.liveFrom()
	x.mu.Unlock()
	const chunk = 4096
	for b := range x.bands {
		bd := &x.bands[b]
		for start := 0; start < len(bd.slots); start += chunk {
			bd.mu.Lock()
			for i := start; i < min(start+chunk, len(bd.slots)); i++ {
				if s := bd.slots[i]; len(s) > 0 {
					s = slices.DeleteFunc(s, func(e lshEntry) bool { return e.gen < live })
					if len(s) == 0 {
						s = nil
					}
					bd.slots[i] = s
				}
			}
			bd.mu.Unlock()
		}
	}
}

// Len is the number of distinct (generation, fingerprint) values kept, for
// metrics and tests.
func (x *LSH[V]) Len() int {
	x.mu.RLock()
	gens := make([]*lshGen[V], 0, len(x.gens))
	for _, g := range x.gens {
		gens = append(gens, g)
	}
	x.mu.RUnlock()
	n := 0
	for _, g := range gens {
		for i := range g.shards {
			g.shards[i].mu.Lock()
			n += len(g.shards[i].m)
			g.shards[i].mu.Unlock()
		}
	}
	return n
}
