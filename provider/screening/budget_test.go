package screening

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/signals"
)

// TestWindowsEvictLeastRecentlySeen: past its budget the store evicts the
// series seen longest ago; the newest keys and the pinned per-server and
// network series survive a flood of distinct keys.
func TestWindowsEvictLeastRecentlySeen(t *testing.T) {
	const budget = 1 << 20
	w := newWindows(budget)
	t0 := time.Date(2024, 2, 15, 0, 0, 0, 0, time.UTC)
	server := signals.Key{Kind: signals.KindServerActivity, ID: 7}
	w.add(server, t0, who{})
	const n = 50_000 // about ten times what the budget holds
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		w.add(signals.Key{Kind: signals.KindIP, ID: uint64(i + 1)}, at, who{server: 7})
	}
	end := t0.Add(n * time.Second)
	var bytes, series int
	for i := range w.shards {
		bytes += w.shards[i].bytes
		series += len(w.shards[i].m)
		if w.shards[i].bytes > w.shardBudget {
			t.Fatalf("shard %d holds %d bytes, budget %d", i, w.shards[i].bytes, w.shardBudget)
		}
	}
	if ev := w.evictions.Load(); ev == 0 || series >= n/2 {
		t.Fatalf("%d series kept, %d evicted: the budget did not bind", series, ev)
	}
	t.Logf("%d of %d series kept in %d bytes (budget %d), %d evicted", series, n, bytes, budget, w.evictions.Load())
	for i := n - 200; i < n; i++ {
		if got := w.count(signals.Key{Kind: signals.KindIP, ID: uint64(i + 1)}, end, time.Hour); got != 1 {
			t.Fatalf("a key seen %s before the end was evicted", time.Duration(n-i)*time.Second)
		}
	}
	for i := range 200 {
		if got := w.count(signals.Key{Kind: signals.KindIP, ID: uint64(i + 1)}, end, 24*time.Hour); got != 0 {
			t.Fatalf("key %d, seen 14 h ago, outlived the flood", i+1)
		}
	}
	if got := w.count(server, end, 24*time.Hour); got != 1 {
		t.Fatalf("the pinned server series was evicted")
	}
	// Pruning re-counts what is held and keeps the accounting exact.
	w.prune(end, DefaultRetention)
	for i := range w.shards {
		sh := &w.shards[i]
		want := 0
		for k, s := range sh.m {
			if !pinned(k.Kind) {
				want += s.size()
			}
		}
		if sh.bytes != want {
			t.Fatalf("shard %d accounts %d bytes, holds %d", i, sh.bytes, want)
		}
	}
}

// TestMemoryBudgetHolds: a flood of distinct sign-ups and posts, far more
// than the windows can keep, leaves the engine's live heap within its
// budget (plus the index tables, which are fixed), and Stats says what it
// cost. Without the budget the same traffic holds over 100 MiB.
func TestMemoryBudgetHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("fills an engine with 330,000 checks")
	}
	const budget = 16 << 20
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	clk := newClock()
	base := heap()
	e := newEngine(t, clk, func(o *Options) { o.MemoryBudget = budget })
	empty := heap()
	g := newTraffic(11)
	for i := range 330_000 {
		if i%10 == 0 {
			in := g.ordinarySignup()
			in.Account.Reason, in.Account.ReasonRequired = g.ordinaryText(), true
			_, f := e.signupFacts(servers[i%3], &in)
			e.record(servers[i%3], &f, clk.Now())
		} else {
			p := g.ordinaryPost(clk.Now())
			p.Author.Acct = fmt.Sprintf("u%d", i)
			_, f := e.contentFacts(servers[i%3], &p, clk.Now())
			e.record(servers[i%3], &f, clk.Now())
		}
		if i%100 == 0 {
			clk.Advance(time.Second)
		}
	}
	e.Prune()
	used := heap()
	st := e.Stats()
	runtime.KeepAlive(e)
	fixed := empty - base
	t.Logf("engine at rest %.1f MiB, after the flood %.1f MiB (budget %d MiB); %+v",
		float64(fixed)/(1<<20), float64(used-base)/(1<<20), budget>>20, st)
	if limit := fixed + budget*11/10; used-base > limit {
		t.Errorf("heap grew to %.1f MiB, more than the %.1f MiB the budget allows", float64(used-base)/(1<<20), float64(limit)/(1<<20))
	}
	if st.SeriesEvictions == 0 || st.Text.Dropped == 0 {
		t.Errorf("the budget never bound: %+v", st)
	}
	if st.SeriesBytes > budget/2 || st.Text.Bytes > budget*30/100+1024 {
		t.Errorf("over budget: %+v", st)
	}
}
