package similarity

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

type lshTestVal struct{ n int }

func flipBits(x uint64, r *rand.Rand, k int) uint64 {
	seen := map[int]bool{}
	for len(seen) < k {
		b := r.IntN(64)
		if !seen[b] {
			seen[b] = true
			x ^= 1 << uint(b)
		}
	}
	return x
}

func TestLSHFindsWithinGuarantee(t *testing.T) {
	t0 := time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)
	for _, cfg := range []LSHConfig[lshTestVal]{
		{Bands: 4, Span: 10 * time.Minute, Keep: 7},
		{Bands: 4, ProbeBands: 1, Span: 10 * time.Minute, Keep: 7},
		{Bands: 4, ProbeBands: 3, Span: 10 * time.Minute, Keep: 7},
		{Bands: 4, ProbeBands: 4, Span: 10 * time.Minute, Keep: 7},
		{Bands: 5, ProbeBands: 4, Span: 10 * time.Minute, Keep: 7},
	} {
		x, err := NewLSH[lshTestVal](cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(7, uint64(cfg.Bands)))
		// Background noise.
		for range 20000 {
			x.Update(r.Uint64(), t0, func(v *lshTestVal) { v.n++ })
		}
		g := x.GuaranteedDistance()
		for trial := range 300 {
			base := r.Uint64()
			x.Update(base, t0, func(v *lshTestVal) { v.n = 1000 + trial })
			q := flipBits(base, r, g)
			found := false
			x.Near(q, g, t0.Add(-time.Hour), t0, func(f uint64, v *lshTestVal) bool {
				if f == base {
					found = true
				}
				return true
			})
			if !found {
				t.Fatalf("cfg %+v: fingerprint at distance %d not found", cfg, g)
			}
		}
	}
}

func TestLSHExpiryAndWindow(t *testing.T) {
	t0 := time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)
	x, _ := NewLSH(LSHConfig[lshTestVal]{Bands: 4, Span: 10 * time.Minute, Keep: 7})
	x.Update(42, t0, func(v *lshTestVal) { v.n++ })
	x.Update(42, t0.Add(time.Minute), func(v *lshTestVal) { v.n++ })
	count := func(now time.Time, window time.Duration) int {
		n := 0
		x.Near(42, 0, now.Add(-window), now, func(_ uint64, v *lshTestVal) bool { n += v.n; return true })
		return n
	}
	if got := count(t0.Add(5*time.Minute), time.Hour); got != 2 {
		t.Fatalf("got %d want 2", got)
	}
	if got := count(t0.Add(3*time.Hour), time.Hour); got != 0 {
		t.Fatalf("outside window: got %d", got)
	}
	// A newer generation pushes old ones out once Keep is exceeded.
	x.Update(7, t0.Add(2*time.Hour), func(v *lshTestVal) {})
	if x.Len() != 1 {
		t.Fatalf("old generations not dropped: len %d", x.Len())
	}
	// Too-old inserts are ignored.
	x.Update(9, t0, func(v *lshTestVal) {})
	if x.Len() != 1 {
		t.Fatalf("stale insert kept: len %d", x.Len())
	}
	x.Expire(t0.Add(3 * time.Hour))
	if x.Len() != 0 {
		t.Fatalf("expire left %d", x.Len())
	}
}

func TestLSHConcurrent(t *testing.T) {
	t0 := time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)
	x, _ := NewLSH(LSHConfig[lshTestVal]{Bands: 4, ProbeBands: 4, Span: time.Minute, Keep: 5})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range 2000 {
				at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
				f := r.Uint64()
				x.Update(f, at, func(v *lshTestVal) { v.n++ })
				x.Near(f, 3, at.Add(-time.Minute), at, func(uint64, *lshTestVal) bool { return true })
			}
		}()
	}
	wg.Wait()
}

func TestNewLSHRejectsBadConfig(t *testing.T) {
	if _, err := NewLSH(LSHConfig[int]{Bands: 2, Span: time.Minute, Keep: 1}); err == nil {
		t.Fatal("want error")
	}
	if _, err := NewLSH(LSHConfig[int]{Bands: 4, Keep: 1}); err == nil {
		t.Fatal("want error")
	}
}

// TestLSHWorstCasePlacements spreads exactly GuaranteedDistance differing
// bits over the bands in every possible way and checks each is found.
func TestLSHWorstCasePlacements(t *testing.T) {
	t0 := time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)
	for _, cfg := range []LSHConfig[lshTestVal]{
		{Bands: 4, ProbeBands: 1, Span: time.Hour, Keep: 2},
		{Bands: 4, ProbeBands: 3, Span: time.Hour, Keep: 2},
		{Bands: 5, ProbeBands: 4, Span: time.Hour, Keep: 2},
	} {
		x, _ := NewLSH[lshTestVal](cfg)
		base := uint64(0x0123456789abcdef)
		x.Update(base, t0, func(v *lshTestVal) { v.n = 1 })
		g := x.GuaranteedDistance()
		var rec func(band, left int, counts []int)
		rec = func(band, left int, counts []int) {
			if band == cfg.Bands {
				if left != 0 {
					return
				}
				q := base
				for b, n := range counts {
					for i := range n {
						q ^= 1 << (x.shifts[b] + uint(i))
					}
				}
				found := false
				x.Near(q, g, t0, t0, func(f uint64, _ *lshTestVal) bool { found = found || f == base; return true })
				if !found {
					t.Errorf("cfg %+v: distance %d spread %v not found", cfg, g, counts)
				}
				return
			}
			width := int(64 / uint(cfg.Bands))
			for n := 0; n <= min(left, width); n++ {
				rec(band+1, left-n, append(counts, n))
			}
		}
		rec(0, g, nil)
	}
}

// TestLSHMaxBytes: a full index drops its oldest generation to make room,
// refuses new fingerprints when only the newest generation is left (values
// already there still update), and its count stays exact.
func TestLSHMaxBytes(t *testing.T) {
	t0 := time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)
	// 104 bytes a value plus 96 for its band and map entries: room for 100.
	x, err := NewLSH(LSHConfig[lshTestVal]{Bands: 4, Span: 10 * time.Minute, Keep: 7, MaxBytes: 100 * 200,
		Size: func(*lshTestVal) int { return 104 }})
	if err != nil {
		t.Fatal(err)
	}
	found := func(fp uint64, at time.Time) bool {
		ok := false
		x.Near(fp, 0, at.Add(-time.Hour), at.Add(time.Hour), func(f uint64, _ *lshTestVal) bool { ok = ok || f == fp; return true })
		return ok
	}
	for g := range 3 { // 60 values in each of three generations
		for i := range 60 {
			x.Update(uint64(g*1000+i+1), t0.Add(time.Duration(g)*10*time.Minute), func(v *lshTestVal) { v.n++ })
		}
	}
	st := x.Stats()
	if st.Entries > 100 || st.Bytes != st.Entries*200 || st.Dropped != 2 || st.Refused != 0 || int(st.Entries) != x.Len() {
		t.Fatalf("after three generations of 60: %+v, len %d", st, x.Len())
	}
	if found(1, t0) || found(1001, t0) || !found(2001, t0.Add(20*time.Minute)) {
		t.Fatal("the oldest generations should have gone and the newest stayed")
	}
	// Only the newest generation is left: new fingerprints are refused
	// once it is full, existing ones still update.
	for i := range 60 {
		x.Update(uint64(2000+60+i+1), t0.Add(20*time.Minute), func(v *lshTestVal) {})
	}
	n := 0
	x.Update(2001, t0.Add(21*time.Minute), func(v *lshTestVal) { v.n++; n = v.n })
	if st := x.Stats(); st.Entries != 100 || st.Refused != 20 || n != 2 {
		t.Fatalf("full newest generation: %+v, existing value updated to %d", st, n)
	}
	// A later generation makes room again.
	x.Update(9999, t0.Add(30*time.Minute), func(v *lshTestVal) {})
	if !found(9999, t0.Add(30*time.Minute)) || x.Stats().Dropped != 3 {
		t.Fatalf("no room made for a new generation: %+v", x.Stats())
	}
	x.Expire(t0.Add(-time.Hour))
	if st := x.Stats(); int(st.Entries) != x.Len() || st.Bytes != st.Entries*200 {
		t.Fatalf("count %d (%d bytes), held %d", st.Entries, st.Bytes, x.Len())
	}
}
