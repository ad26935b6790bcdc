package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// sample is one call made under load.
type sample struct {
	start      time.Time
	took       time.Duration
	status     int
	retryAfter string
	err        error
}

// loader sends content checks from workers until stopped, recording every
// call.
type loader struct {
	mu      sync.Mutex
	samples []sample
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func startLoad(ctx context.Context, s *fedServer, base string, workers int) *loader {
	l := &loader{}
	ctx, l.cancel = context.WithCancel(ctx)
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func(w int) {
			defer l.wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				start := time.Now()
				ans, err := s.call(ctx, base, http.MethodPost, "/spam_detection/v0/content_screening/checks", ordinaryPost(w*1000000+n))
				if ctx.Err() != nil {
					return
				}
				sm := sample{start: start, took: time.Since(start), err: err}
				if ans != nil {
					sm.status, sm.retryAfter = ans.Status, ans.Header.Get("Retry-After")
				}
				l.mu.Lock()
				l.samples = append(l.samples, sm)
				l.mu.Unlock()
				if err != nil || sm.status != http.StatusOK {
					time.Sleep(5 * time.Millisecond) // a client backing off a little, not a tight loop
				}
			}
		}(w)
	}
	return l
}

func (l *loader) stop() []sample {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.samples
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	i := int(p*float64(len(ds))+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// TestPostgresStopDuringLoad stops PostgreSQL (pg_ctl stop -m fast) under a
// steady load and starts it again: while it is down every check fails fast
// with 503 and Retry-After, nothing panics, goroutines, file descriptors
// and database connections stay bounded, and the service resumes by itself
// within seconds of PostgreSQL's return.
func TestPostgresStopDuringLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the PostgreSQL outage test takes about 10 s")
	}
	ctx := deadline(t, 60*time.Second)
	pg := newCluster(t)
	addr := freeAddr(t)
	e := baseEnv(t, pg.URL).at(addr)
	p := serve(t, "serve", e, addr)
	f := newFediverse(t, "127.0.0.5")
	s := register(t, e, f, p.URL, "content_screening")

	conn, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	backends := func() float64 { // the service's connections to PostgreSQL
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return float64(n)
	}
	// rest lets connections settle: the test's own idle keep-alive
	// connections closed, so open descriptors are the service's own.
	rest := func() (goroutines, fds, db float64) {
		apiClient.CloseIdleConnections()
		time.Sleep(500 * time.Millisecond)
		return metric(t, p.URL, "go_goroutines"), metric(t, p.URL, "process_open_fds"), backends()
	}

	// Warm up, then take the resting baseline.
	startLoad(ctx, s, p.URL, 8).stop()
	g0, fd0, db0 := rest()

	l := startLoad(ctx, s, p.URL, 8)
	time.Sleep(time.Second)
	stopAt := time.Now()
	if out, err := pg.stop("fast"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	stopped := time.Now()
	time.Sleep(500 * time.Millisecond)
	if status, _ := get(p.URL + "/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with PostgreSQL down: %d, want 503", status)
	}
	if status, _ := get(p.URL + "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz with PostgreSQL down: %d, want 200 (the process is alive)", status)
	}
	time.Sleep(2 * time.Second)
	gDown := metric(t, p.URL, "go_goroutines")
	startAt := time.Now()
	if out, err := pg.start(); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	started := time.Now()
	var recovered time.Time
	for recovered.IsZero() && time.Since(started) < 15*time.Second {
		time.Sleep(50 * time.Millisecond)
		l.mu.Lock()
		for _, sm := range l.samples {
			if sm.status == http.StatusOK && sm.start.After(started) {
				recovered = sm.start.Add(sm.took)
				break
			}
		}
		l.mu.Unlock()
	}
	if recovered.IsZero() {
		t.Fatalf("no check succeeded within 15s of PostgreSQL's return")
	}
	time.Sleep(time.Second)
	samples := l.stop()
	steadyFrom := time.Now().Add(-700 * time.Millisecond)

	var (
		failures           []time.Duration
		byStatus           = map[string]int{}
		noRetryAfter       int
		after, afterFailed int
	)
	for _, sm := range samples {
		key := fmt.Sprint(sm.status)
		if sm.err != nil && sm.status == 0 {
			key = "transport error"
		}
		if sm.start.After(stopAt) && sm.start.Before(startAt) {
			byStatus[key]++
			if sm.status != http.StatusOK {
				failures = append(failures, sm.took)
				if sm.status == http.StatusServiceUnavailable && sm.retryAfter == "" {
					noRetryAfter++
				}
			}
		}
		if sm.start.After(steadyFrom) {
			after++
			if sm.status != http.StatusOK {
				afterFailed++
			}
		}
	}
	p50, p99, worst := percentile(failures, .5), percentile(failures, .99), percentile(failures, 1)
	t.Logf("PostgreSQL stopped in %s, down %s; calls while down: %v", stopped.Sub(stopAt).Round(time.Millisecond),
		started.Sub(stopped).Round(time.Millisecond), byStatus)
	t.Logf("failures while down: p50 %s, p99 %s, max %s", p50.Round(time.Microsecond), p99.Round(time.Microsecond), worst.Round(time.Microsecond))
	t.Logf("service resumed %s after PostgreSQL accepted connections again (pg_ctl start took %s)",
		recovered.Sub(started).Round(time.Millisecond), started.Sub(startAt).Round(time.Millisecond))
	for k, n := range byStatus {
		if k != "200" && k != "503" {
			t.Errorf("%d calls answered %s while PostgreSQL was down; want only 503 (or 200 for work already past the database)", n, k)
		}
	}
	if byStatus["503"] == 0 {
		t.Errorf("no call failed while PostgreSQL was down: the test did not test anything")
	}
	if noRetryAfter > 0 {
		t.Errorf("%d answers 503 without Retry-After", noRetryAfter)
	}
	if p99 >= time.Second {
		t.Errorf("p99 of failures while PostgreSQL was down is %s, want < 1s", p99)
	}
	if d := recovered.Sub(started); d > 5*time.Second {
		t.Errorf("the service resumed %s after PostgreSQL came back, want within 5s", d)
	}
	if afterFailed > 0 {
		t.Errorf("%d of %d calls failed in the last 0.7s, after recovery", afterFailed, after)
	}

	// The test's own connection was cut by the stop: connect again.
	conn.Close(context.Background())
	if conn, err = pgx.Connect(ctx, pg.URL); err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	g1, fd1, db1 := rest()
	t.Logf("at rest before → after: goroutines %.0f → %.0f (%.0f while down under load), open fds %.0f → %.0f, connections to PostgreSQL %.0f → %.0f",
		g0, g1, gDown, fd0, fd1, db0, db1)
	if g1 > g0+10 {
		t.Errorf("goroutines grew from %.0f to %.0f across the outage: a leak", g0, g1)
	}
	if gDown > g0+60 {
		t.Errorf("%.0f goroutines while PostgreSQL was down (%.0f at rest): work piles up", gDown, g0)
	}
	// Pooled database connections come and go with load (bounded below);
	// every other descriptor must be back where it was.
	if fd1-db1 > fd0-db0+5 {
		t.Errorf("open file descriptors other than database connections grew from %.0f to %.0f across the outage", fd0-db0, fd1-db1)
	}
	if db1 > 41 { // main pool 32 + asynchronous-commit pool 8 + LISTEN 1
		t.Errorf("%.0f connections to PostgreSQL after the outage, more than the pools allow (41)", db1)
	}
	if logs := p.Logs.String(); strings.Contains(strings.ToLower(logs), "panic") || strings.Contains(logs, "goroutine ") {
		t.Errorf("the service logged a panic:\n%s", tailString(logs, 3000))
	}
	select {
	case <-p.done:
		t.Errorf("the service exited: %v", p.err)
	default:
	}
}
