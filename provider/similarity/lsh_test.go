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
	for _, cfg := range []LSHConfig{
		{Bands: 4, Span: 10 * time.Minute, Keep: 7},
		{Bands: 4, Probe: true, Span: 10 * time.Minute, Keep: 7},
		{Bands: 5, Probe: true, Span: 10 * time.Minute, Keep: 7},
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
	x, _ := NewLSH[lshTestVal](LSHConfig{Bands: 4, Span: 10 * time.Minute, Keep: 7})
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
	x, _ := NewLSH[lshTestVal](LSHConfig{Bands: 4, Probe: true, Span: time.Minute, Keep: 5})
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
	if _, err := NewLSH[int](LSHConfig{Bands: 1, Span: time.Minute, Keep: 1}); err == nil {
		t.Fatal("want error")
	}
	if _, err := NewLSH[int](LSHConfig{Bands: 4, Keep: 1}); err == nil {
		t.Fatal("want error")
	}
}
