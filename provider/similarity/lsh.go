package similarity

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// LSHConfig shapes an LSH index. Splitting a 64-bit fingerprint into B bands
// means two fingerprints within Hamming distance B-1 share at least one band
// exactly (pigeonhole); probing every band value at distance 1 as well
// extends the guarantee to 2B-1. Lookups touch a fixed number of buckets, so
// their cost does not grow with the number of stored fingerprints beyond the
// bucket occupancy (stored/2^bandBits).
type LSHConfig struct {
	// Bands is the number of bands, 2..16; the 64 bits are split as evenly
	// as possible.
	Bands int
	// Probe also looks up every band value at Hamming distance 1.
	Probe bool
	// Span is the width of one time generation; entries expire a
	// generation at a time, never one by one.
	Span time.Duration
	// Keep is how many generations are kept, counting the newest.
	Keep int
	// BucketScan caps how many fingerprints are read from one bucket,
	// newest first, so that a flood of variants of one text cannot make
	// lookups slow. Zero means 512.
	BucketScan int
}

// LSH indexes 64-bit fingerprints with a value per (generation, exact
// fingerprint), such as the accounts and servers that produced it. It is
// safe for concurrent use: generations are found under a read lock, bands
// and value shards have their own locks.
type LSH[V any] struct {
	cfg    LSHConfig
	shifts []uint
	masks  []uint64
	span   int64 // nanoseconds

	mu     sync.RWMutex
	gens   map[int64]*lshGen[V]
	newest int64
}

const lshShards = 16

type lshBand struct {
	mu sync.RWMutex
	m  map[uint32][]uint64
}

type lshShard[V any] struct {
	mu sync.Mutex
	m  map[uint64]*V
}

type lshGen[V any] struct {
	start  int64 // generation number (time / span)
	bands  []lshBand
	shards [lshShards]lshShard[V]
}

// NewLSH builds an empty index.
func NewLSH[V any](cfg LSHConfig) (*LSH[V], error) {
	if cfg.Bands < 2 || cfg.Bands > 16 {
		return nil, fmt.Errorf("lsh: bands must be 2..16, got %d", cfg.Bands)
	}
	if cfg.Span <= 0 || cfg.Keep < 1 {
		return nil, fmt.Errorf("lsh: span and keep must be positive")
	}
	if cfg.BucketScan <= 0 {
		cfg.BucketScan = 512
	}
	x := &LSH[V]{cfg: cfg, span: int64(cfg.Span), gens: map[int64]*lshGen[V]{}, newest: -1 << 62}
	base, extra := 64/cfg.Bands, 64%cfg.Bands
	shift := uint(0)
	for b := 0; b < cfg.Bands; b++ {
		w := base
		if b < extra {
			w++
		}
		x.shifts = append(x.shifts, shift)
		x.masks = append(x.masks, (uint64(1)<<uint(w))-1)
		shift += uint(w)
	}
	return x, nil
}

// GuaranteedDistance is the largest Hamming distance at which Near is
// certain to find a stored fingerprint.
func (x *LSH[V]) GuaranteedDistance() int {
	if x.cfg.Probe {
		return 2*x.cfg.Bands - 1
	}
	return x.cfg.Bands - 1
}

func (x *LSH[V]) genOf(at time.Time) int64 {
	n := at.UnixNano()
	g := n / x.span
	if n < 0 && n%x.span != 0 {
		g--
	}
	return g
}

func (x *LSH[V]) newGen(g int64) *lshGen[V] {
	gen := &lshGen[V]{start: g, bands: make([]lshBand, x.cfg.Bands)}
	for i := range gen.bands {
		gen.bands[i].m = map[uint32][]uint64{}
	}
	for i := range gen.shards {
		gen.shards[i].m = map[uint64]*V{}
	}
	return gen
}

// Update finds or creates the value for fp in the generation of at and calls
// fn on it while holding that value's lock. Inserting into a generation
// older than the kept range is ignored (the data would expire at once).
func (x *LSH[V]) Update(fp uint64, at time.Time, fn func(v *V)) {
	g := x.genOf(at)
	x.mu.RLock()
	gen := x.gens[g]
	newest := x.newest
	x.mu.RUnlock()
	if gen == nil {
		if g <= newest-int64(x.cfg.Keep) {
			return
		}
		x.mu.Lock()
		gen = x.gens[g]
		if gen == nil {
			gen = x.newGen(g)
			x.gens[g] = gen
			if g > x.newest {
				x.newest = g
				for k := range x.gens {
					if k <= g-int64(x.cfg.Keep) {
						delete(x.gens, k)
					}
				}
			}
		}
		x.mu.Unlock()
	}
	sh := &gen.shards[Mix64(fp)%lshShards]
	sh.mu.Lock()
	v, ok := sh.m[fp]
	if !ok {
		v = new(V)
		sh.m[fp] = v
	}
	fn(v)
	sh.mu.Unlock()
	if ok {
		return
	}
	for b := range gen.bands {
		key := uint32((fp >> x.shifts[b]) & x.masks[b])
		bd := &gen.bands[b]
		bd.mu.Lock()
		bd.m[key] = append(bd.m[key], fp)
		bd.mu.Unlock()
	}
}

// Near calls fn for stored fingerprints within maxDist of fp whose
// generation overlaps [since, until], newest generation first, holding each
// value's lock during the call. fn returns false to stop early. It returns
// how many values were visited. maxDist above GuaranteedDistance still
// works but may miss some matches.
func (x *LSH[V]) Near(fp uint64, maxDist int, since, until time.Time, fn func(fp uint64, v *V) bool) int {
	lo, hi := x.genOf(since), x.genOf(until)
	x.mu.RLock()
	gens := make([]*lshGen[V], 0, x.cfg.Keep+1)
	for g, gen := range x.gens {
		if g >= lo && g <= hi {
			gens = append(gens, gen)
		}
	}
	x.mu.RUnlock()
	slices.SortFunc(gens, func(a, b *lshGen[V]) int { return int(b.start - a.start) })

	visited := 0
	var cands []uint64
	var probe [65]uint32
	for _, gen := range gens {
		cands = cands[:0]
		for b := range gen.bands {
			key := uint32((fp >> x.shifts[b]) & x.masks[b])
			np := 1
			probe[0] = key
			if x.cfg.Probe {
				w := 0
				for m := x.masks[b]; m != 0; m >>= 1 {
					probe[np] = key ^ (1 << uint(w))
					np++
					w++
				}
			}
			bd := &gen.bands[b]
			bd.mu.RLock()
			for _, k := range probe[:np] {
				bucket := bd.m[k]
				stop := max(0, len(bucket)-x.cfg.BucketScan)
				for i := len(bucket) - 1; i >= stop; i-- {
					c := bucket[i]
					if Hamming(c, fp) <= maxDist && !slices.Contains(cands, c) {
						cands = append(cands, c)
					}
				}
			}
			bd.mu.RUnlock()
		}
		for _, c := range cands {
			sh := &gen.shards[Mix64(c)%lshShards]
			sh.mu.Lock()
			v := sh.m[c]
			cont := true
			if v != nil {
				visited++
				cont = fn(c, v)
			}
			sh.mu.Unlock()
			if !cont {
				return visited
			}
		}
	}
	return visited
}

// Expire drops every generation that ended at or before the given time.
func (x *LSH[V]) Expire(before time.Time) {
	g := x.genOf(before)
	x.mu.Lock()
	for k := range x.gens {
		if k < g {
			delete(x.gens, k)
		}
	}
	x.mu.Unlock()
}

// Len is the number of distinct (generation, fingerprint) entries, for
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
