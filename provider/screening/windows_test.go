package screening

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/signals"
)

func TestMemberSetOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type ev struct {
		key   uint64
		t     int64
		fresh bool
	}
	var evs []ev
	for range 500 {
		evs = append(evs, ev{uint64(r.IntN(80) + 1), int64(r.IntN(1000)), r.IntN(2) == 0})
	}
	build := func(order []ev) []member {
		var s memberSet
		for _, e := range order {
			s.add(e.key, e.t, e.fresh)
		}
		out := slices.Clone(s.m)
		slices.SortFunc(out, func(a, b member) int { return int(a.key) - int(b.key) })
		return out
	}
	want := build(evs)
	if len(want) != signals.MaxDistinct {
		t.Fatalf("kept %d members", len(want))
	}
	for i := range 20 {
		shuffled := slices.Clone(evs)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if got := build(shuffled); !slices.Equal(got, want) {
			t.Fatalf("shuffle %d: sets differ", i)
		}
	}
}

func TestWindowsCountAndPrune(t *testing.T) {
	w := newWindows(0)
	k := signals.Key{Kind: signals.KindIP, ID: 42}
	t0 := time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		w.add(k, t0.Add(time.Duration(i)*5*time.Minute), who{server: uint64(i%3 + 1)})
	}
	now := t0.Add(45 * time.Minute)
	cases := []struct {
		window time.Duration
		want   int
	}{{time.Minute, 1}, {30 * time.Minute, 6}, {time.Hour, 10}, {3 * time.Hour, 10}}
	for _, c := range cases {
		if got := w.count(k, now, c.window); got != c.want {
			t.Errorf("count(%v) = %d, want %d", c.window, got, c.want)
		}
	}
	if got := w.distinct(k, signals.SetServers, now, time.Hour); got != 3 {
		t.Errorf("distinct servers = %d", got)
	}
	// Out-of-order (replayed) events land in the right bucket.
	w.add(k, t0.Add(-time.Hour), who{})
	if got := w.count(k, now, time.Hour); got != 10 {
		t.Errorf("old event counted in the last hour: %d", got)
	}
	// Pruning never changes an answer inside the windows.
	before := w.count(k, now, 30*time.Minute)
	w.prune(now, 14*24*time.Hour)
	if got := w.count(k, now, 30*time.Minute); got != before {
		t.Errorf("prune changed count: %d -> %d", before, got)
	}
	w.prune(now.Add(15*24*time.Hour), 14*24*time.Hour)
	if got := w.count(k, now, 30*time.Minute); got != 0 {
		t.Errorf("retention did not drop the series: %d", got)
	}
}

func TestBaseline(t *testing.T) {
	w := newWindows(0)
	k := signals.Key{Kind: signals.KindEmailDomain, ID: 1}
	hist := signals.Key{Kind: signals.KindNetActivity}
	t0 := time.Date(2024, 2, 8, 0, 0, 0, 0, time.UTC)
	// Two days at 12 per hour, except 600 per hour from 13:00 to 16:00.
	for h := range 48 {
		n := 12
		if h%24 >= 13 && h%24 <= 15 {
			n = 600
		}
		for i := range n {
			at := t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Hour/time.Duration(n))
			w.add(k, at, who{})
			w.add(hist, at, who{})
		}
	}
	now := t0.Add(48*time.Hour + 14*time.Hour + 30*time.Minute) // day 3, 14:30
	base, ok := w.baseline(k, signals.BaselineSpec{History: hist, Window: time.Hour}, now, DefaultRetention)
	if !ok || base != 12 {
		t.Errorf("all-hours baseline = %v %v, want 12 (median ignores the busy hour)", base, ok)
	}
	base, ok = w.baseline(k, signals.BaselineSpec{History: hist, Window: time.Hour, TimeOfDay: true}, now, DefaultRetention)
	if !ok || base != 600 {
		t.Errorf("time-of-day baseline = %v %v, want 600 (the afternoon is busy every day)", base, ok)
	}
	base, ok = w.baseline(k, signals.BaselineSpec{History: hist, Window: 10 * time.Minute}, now, DefaultRetention)
	if !ok || base != 2 {
		t.Errorf("10-minute baseline = %v", base)
	}
	if _, ok := w.baseline(k, signals.BaselineSpec{History: signals.Key{Kind: signals.KindServerActivity, ID: 9}, Window: time.Hour}, now, DefaultRetention); ok {
		t.Error("no history must mean no baseline")
	}
}
