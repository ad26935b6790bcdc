package screening

import (
	"context"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/signals"
)

func (w *windows) kinds() map[signals.Kind]int {
	out := map[signals.Kind]int{}
	for i := range w.shards {
		sh := &w.shards[i]
		sh.mu.Lock()
		for k := range sh.m {
			out[k.Kind]++
		}
		sh.mu.Unlock()
	}
	return out
}

// TestPruneByKind: per-address series go once no signal can look at them,
// while low-cardinality series (e-mail providers, the server) stay for the
// whole retention, so memory levels off under steady traffic.
func TestPruneByKind(t *testing.T) {
	clk := newClock()
	e, err := New(Options{Now: clk.Now, HashKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	in := SignupInput{Account: SignupAccount{Username: "kim_park", Email: "kim@posteo.de"}, IP: "198.51.100.20"}
	e.ScreenSignup(context.Background(), "srv", DefaultPolicy(), in)
	before := e.win.kinds()
	for _, k := range []signals.Kind{signals.KindIP, signals.KindEmail, signals.KindEmailDomain} {
		if before[k] == 0 {
			t.Fatalf("no %v series after a sign-up: %v", k, before)
		}
	}
	clk.Advance(25 * time.Hour)
	e.Prune()
	after := e.win.kinds()
	if after[signals.KindIP] != 0 {
		t.Errorf("per-IP series kept after 25 h: %v", after)
	}
	if after[signals.KindEmail] == 0 || after[signals.KindEmailDomain] == 0 {
		t.Errorf("e-mail series dropped too early: %v", after)
	}
	clk.Advance(8 * 24 * time.Hour)
	e.Prune()
	if after := e.win.kinds(); after[signals.KindEmail] != 0 || after[signals.KindEmailDomain] == 0 {
		t.Errorf("after 9 days: %v, want e-mail series gone and the provider's kept", after)
	}
}
