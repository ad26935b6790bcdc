package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers"
	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
	"github.com/breakwater-fasp/breakwater/provider/screening"
	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

// cmdSimulate replays the three spam waves of incidents.md against
// Breakwater, with ordinary traffic around them, and reports how much spam
// was caught, how fast, and what it cost ordinary users.
//
// Time. The waves and the baselines they are measured against span hours,
// and the engine's windows run on the service's clock, not on occurredAt
// (a server could lie about it). Compressing hours into seconds at real
// time would multiply every rate and turn ordinary traffic into a burst. So
// by default simulate starts its own Breakwater, on a throwaway SQLite
// database in a temporary directory, whose clock is a simulated one that
// the simulator moves to each event's time: the service is real (listener,
// router, signatures, engine, campaigns, database), only its clock is
// driven. That clock is a Go value passed in-process by this command; no
// flag or variable of serve can set it, so a production service cannot run
// on it. With --target the simulator drives an existing Breakwater instead,
// in real time (one simulated second per second; the target's own history
// serves as the warm-up).
func cmdSimulate(ctx context.Context, args []string, io stdio) error {
	var (
		target, jsonOut, scenarios string
		spec                       simSpec
		check                      bool
	)
	spec.explain = 0
	cfg, _, err := parseFlags("simulate", args, io, func(fs *flag.FlagSet) {
		fs.StringVar(&target, "target", "", "drive this running Breakwater in real time instead of a simulated one (needs its database settings)")
		fs.StringVar(&scenarios, "scenarios", strings.Join(scenarioNames, ","), "scenarios to run, comma-separated")
		fs.Uint64Var(&spec.seed, "seed", 1, "seed for all generated traffic")
		fs.IntVar(&spec.servers, "servers", 30, "number of simulated customer servers (8-250)")
		fs.DurationVar(&spec.warmup, "warmup", 2*time.Hour, "ordinary traffic before each wave (simulated; 0 with --target)")
		fs.DurationVar(&spec.cooldown, "cooldown", 3*time.Minute, "ordinary traffic after the longest wave")
		fs.Float64Var(&spec.scale, "scale", 1, "multiplies the length of each wave")
		fs.Float64Var(&spec.ordinary, "ordinary", 1, "multiplies the rate of ordinary traffic")
		fs.DurationVar(&spec.bootstrap, "bootstrap", time.Hour, "ordinary traffic in the simulated service's first period, before it has baselines, is reported apart from the false-positive rate")
		fs.StringVar(&jsonOut, "json", "", "also write the run as JSON to this file (- for standard output)")
		fs.BoolVar(&check, "check", false, "exit with an error when a scenario misses a target")
		fs.IntVar(&spec.explain, "show-false-positives", 0, "print the reasons of up to this many ordinary checks held or rejected, per scenario")
	})
	if err != nil {
		return err
	}
	if spec.servers < 8 || spec.servers > 250 || spec.scale <= 0 || spec.ordinary < 0 || spec.warmup < 0 || spec.cooldown < 0 {
		return usageErr("servers must be 8-250, scale positive, warmup, cooldown and ordinary not negative")
	}
	if target != "" {
		spec.bootstrap = 0 // the target has its own history
		if !isFlagSet(args, "warmup") {
			spec.warmup = 0
		}
	}
	var names []string
	for _, n := range strings.Split(scenarios, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	run := simRun{Seed: spec.seed, Servers: spec.servers, WarmupSeconds: spec.warmup.Seconds(), BootstrapSeconds: spec.bootstrap.Seconds(),
		Scale: spec.scale, Ordinary: spec.ordinary,
		Clock: "simulated (in-process Breakwater)"}
	if target != "" {
		run.Clock, run.Target = "real time", target
	}
	for _, name := range names {
		res, err := runScenario(ctx, cfg, io, spec, name, target)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", name, err)
		}
		run.Scenarios = append(run.Scenarios, res)
	}
	run.print(io.out)
	if jsonOut != "" {
		w := io.out
		if jsonOut != "-" {
			f, err := os.Create(jsonOut)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		if err := writeJSON(w, run); err != nil {
			return err
		}
	}
	if check {
		for _, s := range run.Scenarios {
			if !s.Pass {
				return fmt.Errorf("scenario %s missed its targets: %s", s.Scenario, strings.Join(s.Failures, "; "))
			}
		}
	}
	return nil
}

func isFlagSet(args []string, name string) bool {
	for _, a := range args {
		if a == "-"+name || a == "--"+name || strings.HasPrefix(a, "-"+name+"=") || strings.HasPrefix(a, "--"+name+"=") {
			return true
		}
	}
	return false
}

// simRun is a whole run, as --json writes it.
type simRun struct {
	Seed          uint64  `json:"seed"`
	Servers       int     `json:"servers"`
	WarmupSeconds float64 `json:"warmupSeconds"`
	// BootstrapSeconds is the service's first period, whose ordinary
	// traffic is reported apart (Bootstrap*).
	BootstrapSeconds float64     `json:"bootstrapSeconds"`
	Scale            float64     `json:"scale"`
	Ordinary         float64     `json:"ordinary"`
	Clock            string      `json:"clock"`
	Target           string      `json:"target,omitempty"`
	Scenarios        []simResult `json:"scenarios"`
}

// simResult is one scenario's outcome. Times are simulated seconds since
// the wave began.
type simResult struct {
	Scenario                string        `json:"scenario"`
	Title                   string        `json:"title"`
	WaveSeconds             float64       `json:"waveSeconds"`
	AttackPosts             int           `json:"attackPosts"`
	AttackPostsCaught       int           `json:"attackPostsCaught"`
	AfterFirst20            int           `json:"attackPostsAfterFirst20"`
	AfterFirst20Caught      int           `json:"attackPostsAfterFirst20Caught"`
	AttackSignups           int           `json:"attackSignups"`
	AttackSignupsCaught     int           `json:"attackSignupsCaught"`
	DeliveredBeforeCampaign int           `json:"deliveredBeforeCampaign"`
	DetectionSeconds        float64       `json:"detectionSeconds"` // -1: no campaign
	Campaigns               []simCampaign `json:"campaigns"`
	Ordinary                int           `json:"ordinary"`
	OrdinaryReviews         int           `json:"ordinaryReviews"`
	OrdinaryRejects         int           `json:"ordinaryRejects"`
	OrdinarySignupReviews   int           `json:"ordinarySignupReviews"`
	BootstrapChecks         int           `json:"bootstrapChecks"`
	BootstrapReviews        int           `json:"bootstrapReviews"`
	BootstrapRejects        int           `json:"bootstrapRejects"`
	Timeline                []simBucket   `json:"timeline"`
	Requests                int           `json:"requests"`
	Errors                  int           `json:"errors"`
	WallSeconds             float64       `json:"wallSeconds"`
	Pass                    bool          `json:"pass"`
	Failures                []string      `json:"failures,omitempty"`
}

type simCampaign struct {
	ID                 string  `json:"id"`
	Kind               string  `json:"kind"`
	Label              string  `json:"label"`
	OpenedAfterSeconds float64 `json:"openedAfterSeconds"` // negative: before the wave
	Hits               int64   `json:"hits"`
	Servers            int     `json:"servers"`
}

// simBucket is one simulated minute of the wave.
type simBucket struct {
	Minute        int `json:"minute"`
	Posts         int `json:"attackPosts"`
	Caught        int `json:"attackPostsCaught"`
	Signups       int `json:"attackSignups"`
	SignupsCaught int `json:"attackSignupsCaught"`
}

// simClock is the service's clock in a simulated run: it stands still
// until the simulator moves it to the next event.
type simClock struct{ ns atomic.Int64 }

func (c *simClock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func (c *simClock) set(t time.Time) {
	if n := t.UnixNano(); n > c.ns.Load() {
		c.ns.Store(n)
	}
}

// simService is a Breakwater started by the simulator on a simulated clock.
type simService struct {
	app   *App
	url   string
	srv   *http.Server
	dir   string
	clock *simClock
}

func startSimService(ctx context.Context, io stdio, clock *simClock, seed uint64) (*simService, error) {
	dir, err := os.MkdirTemp("", "breakwater-simulate-*")
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.err, &slog.HandlerOptions{Level: slog.LevelError}))
	db, err := models.Open(ctx, models.Options{SQLitePath: filepath.Join(dir, "breakwater.db"), Logger: log})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	fail := func(err error) (*simService, error) {
		db.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		return fail(err)
	}
	// The secret keys every hash and fingerprint; derived from the seed, so
	// that SimHashes, and the decisions on them, repeat from run to run.
	box, err := sealbox.Load(fmt.Sprintf("breakwater-simulate-%020d-not-a-secret", seed), "")
	if err != nil {
		return fail(err)
	}
	engine, err := screening.New(screening.Options{HashKey: []byte(box.Hash("engine-hash-key", "v1")), Now: clock.Now})
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	pub, _ := url.Parse("http://" + ln.Addr().String())
	svc, err := provider.New(provider.Options{PublicURL: pub, Name: "Breakwater (simulation)", Now: clock.Now, Logger: log,
		RatePerSecond: 10000, RateBurst: 20000},
		db, box, netguard.New(netguard.Options{AllowedRanges: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}), engine)
	if err != nil {
		ln.Close()
		return fail(err)
	}
	if err := svc.Start(ctx); err != nil {
		ln.Close()
		return fail(err)
	}
	e, _, err := handlers.New(svc, handlers.Options{Logger: log})
	if err != nil {
		ln.Close()
		return fail(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	app := &App{cfg: &config{publicURL: pub, Name: "Breakwater (simulation)"}, log: log, db: db, box: box, svc: svc}
	return &simService{app: app, url: pub.String(), srv: srv, dir: dir, clock: clock}, nil
}

func (s *simService) close(ctx context.Context) {
	_ = s.srv.Close()
	s.app.Close(ctx)
	os.RemoveAll(s.dir)
}

// simCall is fleet.call with the simulated time for the signature and the
// check of the signed answer.
func simCall(ctx context.Context, fl *fleet, fs *fleetServer, path string, body []byte, now time.Time) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fl.target+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	fs.mu.Lock()
	priv, pub := fs.priv, fs.providerPub
	fs.mu.Unlock()
	if err := msgsig.SignRequest(req, body, fs.ServerID, priv, now); err != nil {
		return 0, nil, err
	}
	resp, err := fl.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if resp.StatusCode < 300 {
		if err := msgsig.VerifyResponse(resp.StatusCode, resp.Header, rb, pub, now, 15*time.Minute); err != nil {
			return resp.StatusCode, rb, fmt.Errorf("answer not correctly signed: %w", err)
		}
	}
	return resp.StatusCode, rb, nil
}

// runScenario runs one scenario on a fresh simulated Breakwater (or on
// the target) and measures it.
func runScenario(ctx context.Context, cfg *config, io stdio, spec simSpec, name, target string) (simResult, error) {
	res := simResult{Scenario: name, Title: scenarioTitles[name], DetectionSeconds: -1, Campaigns: []simCampaign{}}
	var (
		app   *App
		clock *simClock
		base  string
	)
	if target == "" {
		clock = &simClock{}
		clock.set(time.Now().Truncate(time.Second))
		ss, err := startSimService(ctx, io, clock, spec.seed)
		if err != nil {
			return res, err
		}
		defer ss.close(context.WithoutCancel(ctx))
		app, base = ss.app, ss.url
	} else {
		a, err := openApp(ctx, cfg, io, false)
		if err != nil {
			return res, err
		}
		defer a.Close(ctx)
		app, base = a, target
	}
	fl, err := newFleet(ctx, app, base, spec.servers)
	if err != nil {
		return res, err
	}
	defer fl.close()

	now := time.Now().Truncate(time.Second)
	if clock != nil {
		// The fleet registered at real time (its activation calls are
		// signed with it); the run itself starts at the next full hour but
		// one, so that minute and hour buckets, and with them every
		// decision, line up the same way in every run of a seed.
		now = clock.Now().Truncate(time.Hour).Add(2 * time.Hour)
		clock.set(now)
	}
	plan, err := planScenario(spec, name, now)
	if err != nil {
		return res, err
	}
	res.WaveSeconds = (plan.waveEnd - plan.waveStart).Seconds()
	waveStart := now.Add(plan.waveStart)
	realStart := time.Now()

	type outcome struct {
		at     time.Duration
		caught bool
	}
	var attackPosts []outcome
	buckets := map[int]*simBucket{}
	bucket := func(at time.Duration) *simBucket {
		m := int((at - plan.waveStart) / time.Minute)
		b := buckets[m]
		if b == nil {
			b = &simBucket{Minute: m}
			buckets[m] = b
		}
		return b
	}
	step := max(len(plan.events)/10, 1)
	explained := 0
	for i, e := range plan.events {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		t := now.Add(e.at)
		if clock != nil {
			clock.set(t)
		} else if d := time.Until(realStart.Add(e.at)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
		path, payload := "/spam_detection/v0/content_screening/checks", any(e.content)
		if e.signup != nil {
			path, payload = "/spam_detection/v0/signup_screening/checks", e.signup
		}
		body, _ := json.Marshal(payload)
		callNow := time.Now()
		if clock != nil {
			callNow = clock.Now()
		}
		status, rb, err := simCall(ctx, fl, fl.servers[e.server], path, body, callNow)
		res.Requests++
		var out struct {
			Decision   string             `json:"decision"`
			CampaignID string             `json:"campaignId"`
			Reasons    []screening.Reason `json:"reasons"`
		}
		if err != nil || status != http.StatusOK || json.Unmarshal(rb, &out) != nil {
			res.Errors++
			if res.Errors <= 3 {
				fmt.Fprintf(io.err, "simulate %s: request %d: status %d %v %s\n", name, i, status, err, truncateBytes(rb, 200))
			}
			continue
		}
		caught := out.Decision == screening.Review || out.Decision == screening.Reject
		switch {
		case e.attack && e.content != nil:
			res.AttackPosts++
			attackPosts = append(attackPosts, outcome{e.at, caught})
			b := bucket(e.at)
			b.Posts++
			if caught {
				res.AttackPostsCaught++
				b.Caught++
			}
		case e.attack:
			res.AttackSignups++
			b := bucket(e.at)
			b.Signups++
			if caught {
				res.AttackSignupsCaught++
				b.SignupsCaught++
			}
		case e.at < spec.bootstrap:
			res.BootstrapChecks++
			switch out.Decision {
			case screening.Review:
				res.BootstrapReviews++
			case screening.Reject:
				res.BootstrapRejects++
			}
		default:
			res.Ordinary++
			switch out.Decision {
			case screening.Review:
				res.OrdinaryReviews++
				if e.signup != nil {
					res.OrdinarySignupReviews++
				}
			case screening.Reject:
				res.OrdinaryRejects++
			}
			if caught && explained < spec.explain {
				explained++
				var codes []string
				for _, r := range out.Reasons {
					codes = append(codes, fmt.Sprintf("%s:%d", r.Code, r.Weight))
				}
				fmt.Fprintf(io.err, "simulate %s: ordinary %s at %+.0fs on server %d: %s %s\n", name, out.Decision,
					(e.at - plan.waveStart).Seconds(), e.server, strings.Join(codes, " "), truncateBytes(body, 300))
			}
		}
		if (i+1)%step == 0 {
			fmt.Fprintf(io.err, "simulate %s: %d%% (%d checks, %.0fs)\n", name, 100*(i+1)/len(plan.events), i+1, time.Since(realStart).Seconds())
		}
	}
	res.WallSeconds = time.Since(realStart).Seconds()

	// Campaigns, as the service stored them (a target writes its hits
	// every second).
	app.svc.FlushCampaigns(ctx)
	if clock == nil {
		time.Sleep(1500 * time.Millisecond)
	}
	list, err := app.svc.ListCampaigns(ctx, provider.CampaignFilter{Limit: 1000})
	if err != nil && !errors.Is(err, context.Canceled) {
		return res, err
	}
	var first time.Time
	for _, c := range list {
		if c.OpenedAt.Before(now) {
			continue // a target's older campaigns
		}
		res.Campaigns = append(res.Campaigns, simCampaign{ID: c.ID, Kind: c.Kind, Label: c.Label, Hits: c.Hits, Servers: c.Servers,
			OpenedAfterSeconds: c.OpenedAt.Sub(waveStart).Seconds()})
		if !c.OpenedAt.Before(waveStart) && (first.IsZero() || c.OpenedAt.Before(first)) {
			first = c.OpenedAt
		}
	}
	slices.SortFunc(res.Campaigns, func(a, b simCampaign) int {
		switch {
		case a.OpenedAfterSeconds < b.OpenedAfterSeconds:
			return -1
		case a.OpenedAfterSeconds > b.OpenedAfterSeconds:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	if !first.IsZero() {
		res.DetectionSeconds = first.Sub(waveStart).Seconds()
	}
	for i, o := range attackPosts {
		if !o.caught && (first.IsZero() || now.Add(o.at).Before(first)) {
			res.DeliveredBeforeCampaign++
		}
		if i >= 20 {
			res.AfterFirst20++
			if o.caught {
				res.AfterFirst20Caught++
			}
		}
	}
	for _, b := range buckets {
		if b.Minute >= 0 {
			res.Timeline = append(res.Timeline, *b)
		}
	}
	slices.SortFunc(res.Timeline, func(a, b simBucket) int { return a.Minute - b.Minute })
	res.judge()
	return res, nil
}

// judge applies the targets of the issue: at least 99% of attack posts
// after the first 20 held or rejected, at most 0.1% of ordinary traffic
// reviewed and none rejected, a campaign within 60 simulated seconds.
func (r *simResult) judge() {
	if r.AfterFirst20 == 0 || float64(r.AfterFirst20Caught) < 0.99*float64(r.AfterFirst20) {
		r.Failures = append(r.Failures, fmt.Sprintf("attack posts after the first 20 caught %s < 99%%", pct(r.AfterFirst20Caught, r.AfterFirst20)))
	}
	if float64(r.OrdinaryReviews) > 0.001*float64(r.Ordinary) {
		r.Failures = append(r.Failures, fmt.Sprintf("ordinary reviews %s > 0.1%%", pct(r.OrdinaryReviews, r.Ordinary)))
	}
	if r.OrdinaryRejects > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d ordinary checks rejected", r.OrdinaryRejects))
	}
	if r.DetectionSeconds < 0 || r.DetectionSeconds > 60 {
		r.Failures = append(r.Failures, "no campaign within 60 simulated seconds")
	}
	if r.Errors > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d requests failed", r.Errors))
	}
	r.Pass = len(r.Failures) == 0
}

func (run *simRun) print(w io.Writer) {
	fmt.Fprintf(w, "breakwater simulate: seed %d, %d customer servers, %s of ordinary traffic before each wave, clock: %s\n\n",
		run.Seed, run.Servers, time.Duration(run.WarmupSeconds*float64(time.Second)), run.Clock)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tattack posts\tcaught\tafter first 20\tsign-ups held\tdelivered before campaign\tdetection\tordinary checks\treviews\trejects\t")
	for _, r := range run.Scenarios {
		det := "none"
		if r.DetectionSeconds >= 0 {
			det = fmt.Sprintf("%.0fs", r.DetectionSeconds)
		}
		signups := "-"
		if r.AttackSignups > 0 {
			signups = fmt.Sprintf("%s of %d", pct(r.AttackSignupsCaught, r.AttackSignups), r.AttackSignups)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d (%s)\t%d\t\n", r.Scenario, r.AttackPosts, pct(r.AttackPostsCaught, r.AttackPosts),
			pct(r.AfterFirst20Caught, r.AfterFirst20), signups, r.DeliveredBeforeCampaign, det, r.Ordinary, r.OrdinaryReviews,
			pctFine(r.OrdinaryReviews, r.Ordinary), r.OrdinaryRejects)
	}
	_ = tw.Flush()
	if run.BootstrapSeconds > 0 {
		var parts []string
		for _, r := range run.Scenarios {
			parts = append(parts, fmt.Sprintf("%s %d checks, %d reviews, %d rejects", r.Scenario, r.BootstrapChecks, r.BootstrapReviews, r.BootstrapRejects))
		}
		fmt.Fprintf(w, "\nordinary checks above are those after the simulated service's first %s; in that first period it has no baselines yet\n(cold-start thresholds), reported apart: %s\n",
			time.Duration(run.BootstrapSeconds*float64(time.Second)), strings.Join(parts, "; "))
	}
	fmt.Fprintln(w, "\nspam caught over time (attack posts held or rejected, per simulated minute since the wave began):")
	for _, r := range run.Scenarios {
		var parts []string
		for _, b := range r.Timeline {
			if b.Posts > 0 {
				parts = append(parts, fmt.Sprintf("%dm %s", b.Minute, pct(b.Caught, b.Posts)))
			}
		}
		fmt.Fprintf(w, "  %-8s %s\n", r.Scenario, strings.Join(parts, " | "))
	}
	fmt.Fprintln(w, "\ncampaigns opened (simulated seconds after the wave began):")
	for _, r := range run.Scenarios {
		var parts []string
		for _, c := range r.Campaigns {
			parts = append(parts, fmt.Sprintf("%s %s %+.0fs (%d hits, %d servers)", c.Kind, c.Label, c.OpenedAfterSeconds, c.Hits, c.Servers))
		}
		if len(parts) == 0 {
			parts = []string{"none"}
		}
		fmt.Fprintf(w, "  %-8s %s\n", r.Scenario, strings.Join(parts, "; "))
	}
	fmt.Fprintln(w, "\ntargets (≥ 99% of attack posts after the first 20 caught, ordinary ≤ 0.1% reviews and no rejects, campaign within 60 s):")
	for _, r := range run.Scenarios {
		verdict := "PASS"
		if !r.Pass {
			verdict = "FAIL: " + strings.Join(r.Failures, "; ")
		}
		fmt.Fprintf(w, "  %-8s %s (%s, %d requests in %.0fs)\n", r.Scenario, verdict, r.Title, r.Requests, r.WallSeconds)
	}
}

// pctFine is a percentage with three decimals, for rates near 0.1%.
func pctFine(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f%%", 100*float64(n)/float64(of))
}

func truncateBytes(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
