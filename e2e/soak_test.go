package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// TestSoak runs `breakwater loadtest` at a fixed rate against a service on
// PostgreSQL whose engine budget is small enough to fill within the run,
// and checks the promises of a soak: no errors, every answer signed, no
// goroutine growth, and a live heap that stops growing once the engine's
// windows are full. CI runs it for two minutes; BREAKWATER_SOAK=10m runs
// the full soak that docs/performance.md quotes.
func TestSoak(t *testing.T) {
	length := 2 * time.Minute
	if v := os.Getenv("BREAKWATER_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			t.Fatalf("BREAKWATER_SOAK=%q: want a duration of at least 1m", v)
		}
		length = d
	}
	addr := freeAddr(t)
	e := baseEnv(t, testdb.Postgres(t).URL).at(addr).with("BREAKWATER_ENGINE_MEMORY", "4MiB", "BREAKWATER_LOG_LEVEL", "warn")
	serve(t, "serve", e, addr)

	ctx, cancel := context.WithTimeout(context.Background(), length+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "loadtest", "--json", "--rate", "300", "--concurrency", "16", "--servers", "8", //nolint:gosec // the binary this test built
		"--content-share", "0.9", "--duration", length.String(), "--sample-every", (length / 24).String())
	cmd.Env = e.list()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("loadtest: %v\n%s", err, errOut.String())
	}
	var res struct {
		Service struct {
			Requests  int            `json:"requests"`
			Status    map[string]int `json:"status"`
			Errors    int            `json:"errors"`
			Unsigned  int            `json:"unsignedAnswers"`
			MemBefore struct {
				Goroutines float64 `json:"goroutines"`
			} `json:"memoryBefore"`
			MemAfter struct {
				Goroutines float64 `json:"goroutines"`
			} `json:"memoryAfter"`
			Samples []struct {
				Minute    float64 `json:"minute"`
				Live      float64 `json:"heapLiveBytes"`
				Series    float64 `json:"engineSeries"`
				Text      float64 `json:"textIndexed"`
				Goroutine float64 `json:"goroutines"`
			} `json:"samples"`
			Trend *float64 `json:"heapTrendMiBPerMinute"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("loadtest --json: %v\n%s", err, out.String())
	}
	s := res.Service
	for _, m := range s.Samples {
		t.Logf("minute %4.1f: live heap %5.1f MiB, %3.0f goroutines, %6.0f series, %6.0f posts indexed",
			m.Minute, m.Live/(1<<20), m.Goroutine, m.Series, m.Text)
	}
	if s.Requests == 0 || s.Status["200"] != s.Requests || s.Errors+s.Unsigned != 0 {
		t.Fatalf("%d requests, status %v, %d transport errors, %d unsigned answers", s.Requests, s.Status, s.Errors, s.Unsigned)
	}
	if sent := s.Requests + s.Status["not_sent_backlog"]; float64(s.Requests) < 0.9*float64(sent) {
		t.Errorf("only %d of %d offered requests were sent: the service did not keep up with 300/s", s.Requests, sent)
	}
	// Up to one goroutine per client connection (16) may still be open
	// when the last figure is read; more would be a leak.
	if s.MemAfter.Goroutines > s.MemBefore.Goroutines+16 {
		t.Errorf("goroutines %v before, %v after the soak", s.MemBefore.Goroutines, s.MemAfter.Goroutines)
	}
	if len(s.Samples) < 12 || s.Trend == nil {
		t.Fatalf("%d memory samples, trend %v: the soak was not sampled", len(s.Samples), s.Trend)
	}
	// The engine's windows fill within the first half (their budget is
	// 4 MiB, full after about 40 s); after that the live heap must not rise
	// above the first half's peak by more than the collector's noise. If
	// checks were still being kept, 300 a second would add about 6 MiB a
	// minute.
	var first, second float64
	for i, m := range s.Samples {
		if i < len(s.Samples)/2 {
			first = max(first, m.Live)
		} else {
			second = max(second, m.Live)
		}
	}
	t.Logf("live heap peak: first half %.1f MiB, second half %.1f MiB; trend over the second half %+.2f MiB/min",
		first/(1<<20), second/(1<<20), *s.Trend)
	if second > first+3<<20 {
		t.Errorf("live heap still growing: peak %.1f MiB in the first half, %.1f MiB in the second", first/(1<<20), second/(1<<20))
	}
}
