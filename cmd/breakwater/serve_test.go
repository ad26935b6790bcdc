package main

import (
	"runtime/debug"
	"testing"
)

// TestGCPolicy: without GOGC or GOMEMLIMIT, serve collects at GOGC=200
// within a soft limit of twice the engine budget plus headroom; with either
// set, the operator's settings stand.
func TestGCPolicy(t *testing.T) {
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })

	const budget = 512 << 20
	p := applyGCPolicy(func(string) string { return "" }, budget)
	if p.percent != 200 || p.limit != 2*budget+256<<20 {
		t.Fatalf("policy %+v", p)
	}
	if got := debug.SetGCPercent(-1); got != 200 {
		t.Errorf("runtime GC percent %d, want 200", got)
	}
	debug.SetGCPercent(200)
	if got := debug.SetMemoryLimit(-1); got != 2*budget+256<<20 {
		t.Errorf("runtime memory limit %d", got)
	}

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		debug.SetGCPercent(75)
		debug.SetMemoryLimit(1 << 40)
		p := applyGCPolicy(func(k string) string {
			if k == env {
				return "set"
			}
			return ""
		}, budget)
		if p.percent != 75 || p.limit != 1<<40 {
			t.Errorf("%s set: policy %+v, want the runtime's own 75 and 1 TiB", env, p)
		}
		if got := debug.SetGCPercent(-1); got != 75 {
			t.Errorf("%s set: runtime GC percent changed to %d", env, got)
		}
		debug.SetGCPercent(75)
	}
}
