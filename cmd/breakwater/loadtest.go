package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// cmdLoadtest drives a running Breakwater with signed checks from a fleet
// of registered fake servers and prints throughput, latency percentiles,
// errors and the service's memory before and after.
func cmdLoadtest(ctx context.Context, args []string, io stdio) error {
	var (
		target            string
		rate              float64
		duration          time.Duration
		concurrency, nsrv int
		contentShare      float64
		asJSON            bool
		seed              uint64
		ceiling           bool
		rounds            int
		warmup            time.Duration
		sampleEvery       time.Duration
	)
	cfg, _, err := parseFlags("loadtest", args, io, func(fs *flag.FlagSet) {
		fs.StringVar(&target, "target", "", "Breakwater base URL to load (default: the public URL)")
		fs.Float64Var(&rate, "rate", 0, "requests per second to offer; 0 sends as fast as the workers can")
		fs.DurationVar(&duration, "duration", 10*time.Second, "how long to send")
		fs.IntVar(&concurrency, "concurrency", 32, "requests in flight at most")
		fs.IntVar(&nsrv, "servers", 4, "number of simulated customer servers (1-250)")
		fs.Float64Var(&contentShare, "content-share", 0.8, "share of content checks; the rest are sign-ups")
		fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
		fs.Uint64Var(&seed, "seed", 1, "seed for the generated traffic")
		fs.DurationVar(&sampleEvery, "sample-every", 0, "also sample the service's memory this often during the run (e.g. 1m for a soak) and print the series and its trend")
		fs.BoolVar(&ceiling, "ceiling", false, "first measure a bare echo handler that only verifies RFC 9421 signatures (the ceiling on this machine), then the service, and print the ratio")
		fs.DurationVar(&warmup, "warmup", 0, "first send load for this long without measuring it (to the ceiling too, with --ceiling): connections, caches and the heap settle")
		fs.IntVar(&rounds, "rounds", 1, "with --ceiling: alternate ceiling and service this many times, each for --duration, and print every round and the ratio of the totals (a busy machine's drift then falls on both alike)")
	})
	if err != nil {
		return err
	}
	if target == "" {
		target = cfg.publicURL.String()
	}
	if concurrency < 1 || duration <= 0 || contentShare < 0 || contentShare > 1 || sampleEvery < 0 || rounds < 1 || rounds > 100 || warmup < 0 {
		return usageErr("concurrency must be ≥ 1, duration > 0, content-share within 0..1, sample-every ≥ 0, rounds within 1..100, warmup ≥ 0")
	}
	if rounds > 1 && !ceiling {
		return usageErr("--rounds alternates the ceiling and the service: it needs --ceiling")
	}
	app, err := openApp(ctx, cfg, io, false)
	if err != nil {
		return err
	}
	defer app.Close(ctx)
	spec := loadSpec{rate: rate, duration: duration, concurrency: concurrency, contentShare: contentShare, seed: seed, sampleEvery: sampleEvery}
	var cf *fleet
	if ceiling {
		var stop func()
		if cf, stop, err = startCeiling(ctx, nsrv); err != nil {
			return err
		}
		defer stop()
	}
	fl, err := newFleet(ctx, app, target, nsrv)
	if err != nil {
		return err
	}
	defer fl.close()
	if warmup > 0 {
		w := spec
		w.duration, w.sampleEvery = warmup, 0
		for _, f := range []*fleet{cf, fl} {
			if f == nil {
				continue
			}
			if _, err := runLoad(ctx, f, w); err != nil {
				return err
			}
		}
	}
	if !ceiling {
		res, err := runLoad(ctx, fl, spec)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(io.out, map[string]any{"service": res})
		}
		res.print(io.out)
		return nil
	}
	// In a comparison the client spends the same on both runs: the
	// ceiling's answers are unsigned, so the service's are not verified
	// either (they are in a plain run, where unsigned answers are counted).
	fl.skipVerify = true
	var cmp ceilingComparison
	for r := 0; r < rounds; r++ {
		ceil, err := runLoad(ctx, cf, spec)
		if err != nil {
			return err
		}
		res, err := runLoad(ctx, fl, spec)
		if err != nil {
			return err
		}
		cmp.add(ceil, res)
	}
	if asJSON {
		return writeJSON(io.out, cmp.jsonable())
	}
	cmp.print(io.out)
	return nil
}

// ceilingComparison is loadtest --ceiling's result: the ceiling and the
// service measured alternately, round by round, with the same client and
// load shape.
type ceilingComparison struct {
	ceiling, service []*loadResult
}

func (c *ceilingComparison) add(ceil, svc *loadResult) {
	c.ceiling, c.service = append(c.ceiling, ceil), append(c.service, svc)
}

// ratio is the service's answered checks over the ceiling's, over all rounds
// (each round's phases are equally long, so this is the ratio of the mean
// throughputs).
func (c *ceilingComparison) ratio() float64 {
	var ceil, svc float64
	for i := range c.ceiling {
		ceil += c.ceiling[i].Throughput
		svc += c.service[i].Throughput
	}
	return svc / max(ceil, 1)
}

func (c *ceilingComparison) roundRatios() []float64 {
	out := make([]float64, len(c.ceiling))
	for i := range c.ceiling {
		out[i] = c.service[i].Throughput / max(c.ceiling[i].Throughput, 1)
	}
	return out
}

func (c *ceilingComparison) jsonable() map[string]any {
	last := len(c.service) - 1
	out := map[string]any{"service": c.service[last], "ceiling": c.ceiling[last], "ratio": c.ratio()}
	if len(c.service) > 1 {
		rounds := make([]map[string]any, len(c.service))
		for i, r := range c.roundRatios() {
			rounds[i] = map[string]any{"ceiling": c.ceiling[i], "service": c.service[i], "ratio": r}
		}
		out["rounds"] = rounds
	}
	return out
}

func (c *ceilingComparison) print(w interface{ Write([]byte) (int, error) }) {
	if len(c.service) == 1 {
		fmt.Fprintln(w, "== ceiling: bare echo handler verifying RFC 9421 signatures only")
		c.ceiling[0].print(w)
		fmt.Fprintln(w, "== service: full checks, stored durably")
		c.service[0].print(w)
		fmt.Fprintf(w, "== service / ceiling throughput: %.2f\n", c.ratio())
		return
	}
	fmt.Fprintf(w, "== %d rounds, each the ceiling (a bare echo handler verifying RFC 9421 signatures only) then the service (full checks, stored durably), %.0fs each\n",
		len(c.service), c.service[0].Seconds)
	fmt.Fprintf(w, "%5s %10s %10s %9s %9s %9s %8s %7s\n", "round", "ceiling/s", "service/s", "p50 ms", "p95 ms", "p99 ms", "errors", "ratio")
	ratios := c.roundRatios()
	for i, s := range c.service {
		errs := s.failures() + c.ceiling[i].failures()
		fmt.Fprintf(w, "%5d %10.0f %10.0f %9.2f %9.2f %9.2f %8d %7.2f\n", i+1, c.ceiling[i].Throughput, s.Throughput, s.P50, s.P95, s.P99, errs, ratios[i])
	}
	last := c.service[len(c.service)-1]
	fmt.Fprintf(w, "service memory: RSS %.1f → %.1f MiB over the last round\n", last.MemBefore.RSSBytes/(1<<20), last.MemAfter.RSSBytes/(1<<20))
	sorted := slices.Clone(ratios)
	slices.Sort(sorted)
	fmt.Fprintf(w, "== service / ceiling throughput: %.2f over all rounds (per round %.2f–%.2f, median %.2f)\n",
		c.ratio(), sorted[0], sorted[len(sorted)-1], median(sorted))
}

// failures counts what was not a 200 with a valid answer: transport
// errors, unsigned answers and every other status.
func (r *loadResult) failures() int {
	n := r.Errors + r.Unsigned
	for k, c := range r.Status {
		if k != "200" {
			n += c
		}
	}
	return n
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

type loadSpec struct {
	rate         float64
	duration     time.Duration
	concurrency  int
	contentShare float64
	seed         uint64
	sampleEvery  time.Duration
}

// loadResult is what a load run measured.
type loadResult struct {
	Target         string         `json:"target"`
	Servers        int            `json:"servers"`
	Concurrency    int            `json:"concurrency"`
	OfferedRate    float64        `json:"offeredRate"`
	Seconds        float64        `json:"seconds"`
	Requests       int            `json:"requests"`
	Throughput     float64        `json:"throughputPerSecond"`
	P50, P95, P99  float64        `json:"-"`
	Latency        map[string]any `json:"latencyMs"`
	Status         map[string]int `json:"status"`
	Errors         int            `json:"errors"`
	Unsigned       int            `json:"unsignedAnswers"`
	RetryAfterSeen int            `json:"retryAfterOn429"`
	Decisions      map[string]int `json:"decisions"`
	MemBefore      memSample      `json:"memoryBefore"`
	MemAfter       memSample      `json:"memoryAfter"`
	Samples        []memSample    `json:"samples,omitempty"`
	// HeapTrend is the least-squares slope of the live heap over the
	// second half of the samples, in MiB per minute: about 0 when memory
	// is flat.
	HeapTrend *float64 `json:"heapTrendMiBPerMinute,omitempty"`
}

type memSample struct {
	Minute         float64 `json:"minute,omitempty"` // since the start of the run
	Checks         int     `json:"checks,omitempty"` // answered so far
	RSSBytes       float64 `json:"rssBytes"`
	HeapInuseBytes float64 `json:"heapInuseBytes"`
	HeapLiveBytes  float64 `json:"heapLiveBytes"` // marked live by the last GC
	Goroutines     float64 `json:"goroutines"`
	EngineSeries   float64 `json:"engineSeries"`
	TextIndexed    float64 `json:"textIndexed"`
}

func runLoad(ctx context.Context, fl *fleet, spec loadSpec) (*loadResult, error) {
	res := &loadResult{Target: fl.target, Servers: len(fl.servers), Concurrency: spec.concurrency, OfferedRate: spec.rate,
		Status: map[string]int{}, Decisions: map[string]int{}}
	res.MemBefore = scrapeMemory(ctx, fl)
	ctx, cancel := context.WithTimeout(ctx, spec.duration)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		seq       atomic.Uint64
	)
	tokens := make(chan struct{}, spec.concurrency)
	if spec.rate > 0 {
		go func() {
			interval := time.Duration(float64(time.Second) / spec.rate)
			t := time.NewTicker(max(interval, time.Microsecond))
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					close(tokens)
					return
				case <-t.C:
					select {
					case tokens <- struct{}{}:
					default: // offered load beyond what is in flight is dropped, and counted
						mu.Lock()
						res.Status["not_sent_backlog"]++
						mu.Unlock()
					}
				}
			}
		}()
	}
	start := time.Now()
	var sampling sync.WaitGroup
	if spec.sampleEvery > 0 {
		sampling.Add(1)
		go func() {
			defer sampling.Done()
			t := time.NewTicker(spec.sampleEvery)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					m := scrapeMemory(context.WithoutCancel(ctx), fl)
					m.Minute = time.Since(start).Minutes()
					mu.Lock()
					m.Checks = res.Status["200"]
					res.Samples = append(res.Samples, m)
					mu.Unlock()
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for w := 0; w < spec.concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			tr := newTraffic(spec.seed*1000 + uint64(w))
			for {
				if spec.rate > 0 {
					if _, ok := <-tokens; !ok {
						return
					}
				} else if ctx.Err() != nil {
					return
				}
				n := seq.Add(1)
				fs := fl.servers[int(n)%len(fl.servers)]
				path, body := "/spam_detection/v0/signup_screening/checks", any(nil)
				if tr.rng.Float64() < spec.contentShare {
					path, body = "/spam_detection/v0/content_screening/checks", tr.post(fs.Domain, time.Now())
				} else {
					body = tr.signup()
				}
				b, _ := json.Marshal(body)
				t0 := time.Now()
				status, rb, err := fl.call(context.WithoutCancel(ctx), fs, http.MethodPost, path, b)
				d := time.Since(t0)
				mu.Lock()
				switch {
				case err != nil && status == 0:
					res.Errors++
				case err != nil:
					res.Unsigned++
				}
				if status != 0 {
					res.Status[strconv.Itoa(status)]++
					latencies = append(latencies, d)
				}
				if status == 200 {
					res.Decisions[decisionOf(rb)]++
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	sampling.Wait()
	elapsed := time.Since(start)
	res.Seconds = elapsed.Seconds()
	res.Requests = len(latencies)
	res.Throughput = float64(res.Status["200"]) / elapsed.Seconds()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		i := int(math.Ceil(p*float64(len(latencies)))) - 1
		return float64(latencies[max(i, 0)].Microseconds()) / 1000
	}
	res.P50, res.P95, res.P99 = pct(0.50), pct(0.95), pct(0.99)
	res.Latency = map[string]any{"p50": res.P50, "p95": res.P95, "p99": res.P99, "max": pct(1)}
	time.Sleep(200 * time.Millisecond)
	res.MemAfter = scrapeMemory(context.Background(), fl)
	if half := res.Samples[len(res.Samples)/2:]; len(half) >= 3 {
		xs, ys := make([]float64, len(half)), make([]float64, len(half))
		for i, m := range half {
			xs[i], ys[i] = m.Minute, m.HeapLiveBytes/(1<<20)
		}
		slope := leastSquaresSlope(xs, ys)
		res.HeapTrend = &slope
	}
	return res, nil
}

// leastSquaresSlope is the slope of the least-squares line through the
// points (at least two, xs not all equal).
func leastSquaresSlope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

func (r *loadResult) print(w interface{ Write([]byte) (int, error) }) {
	fmt.Fprintf(w, "target %s, %d servers, concurrency %d, offered %s, %.1fs\n", r.Target, r.Servers, r.Concurrency,
		func() string {
			if r.OfferedRate == 0 {
				return "max"
			}
			return fmt.Sprintf("%.0f/s", r.OfferedRate)
		}(), r.Seconds)
	fmt.Fprintf(w, "%-14s %10s %9s %9s %9s %9s\n", "", "req/s(200)", "p50 ms", "p95 ms", "p99 ms", "requests")
	fmt.Fprintf(w, "%-14s %10.0f %9.2f %9.2f %9.2f %9d\n", "checks", r.Throughput, r.P50, r.P95, r.P99, r.Requests)
	keys := make([]string, 0, len(r.Status))
	for k := range r.Status {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, r.Status[k]))
	}
	fmt.Fprintf(w, "status: %s; transport errors %d; unsigned answers %d\n", strings.Join(parts, " "), r.Errors, r.Unsigned)
	fmt.Fprintf(w, "decisions: allow=%d review=%d reject=%d\n", r.Decisions["allow"], r.Decisions["review"], r.Decisions["reject"])
	fmt.Fprintf(w, "service memory: RSS %.1f → %.1f MiB, heap in use %.1f → %.1f MiB, goroutines %.0f → %.0f\n",
		r.MemBefore.RSSBytes/(1<<20), r.MemAfter.RSSBytes/(1<<20), r.MemBefore.HeapInuseBytes/(1<<20), r.MemAfter.HeapInuseBytes/(1<<20),
		r.MemBefore.Goroutines, r.MemAfter.Goroutines)
	if len(r.Samples) == 0 {
		return
	}
	fmt.Fprintf(w, "%7s %10s %9s %9s %9s %10s %13s %11s\n", "minute", "checks", "live MiB", "heap MiB", "RSS MiB", "goroutines",
		"engine series", "text index")
	for _, m := range r.Samples {
		fmt.Fprintf(w, "%7.1f %10d %9.1f %9.1f %9.1f %10.0f %13.0f %11.0f\n", m.Minute, m.Checks, m.HeapLiveBytes/(1<<20),
			m.HeapInuseBytes/(1<<20), m.RSSBytes/(1<<20), m.Goroutines, m.EngineSeries, m.TextIndexed)
	}
	if r.HeapTrend != nil {
		fmt.Fprintf(w, "live heap over the second half of the run: %+.2f MiB/min (least squares)\n", *r.HeapTrend)
	}
}

// scrapeMemory reads the service's own memory figures from /metrics.
func scrapeMemory(ctx context.Context, fl *fleet) memSample {
	var m memSample
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fl.target+"/metrics", nil)
	if err != nil {
		return m
	}
	resp, err := fl.client.Do(req)
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		name, val, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			m.RSSBytes = f
		case "go_memstats_heap_inuse_bytes":
			m.HeapInuseBytes = f
		case "go_gc_heap_live_bytes":
			m.HeapLiveBytes = f
		case "go_goroutines":
			m.Goroutines = f
		case "breakwater_engine_series":
			m.EngineSeries = f
		case `breakwater_engine_index_entries{index="text"}`:
			m.TextIndexed = f
		}
	}
	return m
}

// decisionOf reads an answer's decision without decoding the whole answer:
// the load generator shares the machine with the service, and whatever it
// spends per answer is taken from the service being measured (and not from
// the ceiling, whose answers have no decision). An answer not in the
// service's own compact form falls back to a full decode.
func decisionOf(answer []byte) string {
	const key = `"decision":"`
	if i := bytes.Index(answer, []byte(key)); i >= 0 {
		rest := answer[i+len(key):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			return string(rest[:j])
		}
	}
	var out struct{ Decision string }
	_ = json.Unmarshal(answer, &out)
	return out.Decision
}
