package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser is a cookie-keeping client for the web pages; it does not follow
// redirects.
type browser struct {
	base string
	hc   *http.Client
	csrf string
}

func newBrowser(t testing.TB, base string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{base: base, hc: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (int, string, error) {
	req.Header.Set("Accept", "text/html")
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if m := csrfRe.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body), nil
}

func (b *browser) get(path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		return 0, "", err
	}
	return b.do(req)
}

func (b *browser) post(path string, v url.Values) (int, string, error) {
	v.Set("csrf", b.csrf)
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(v.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// TestSlowFediverseServers registers, through the web form, servers that
// never answer (one hangs in nodeinfo, one in the registration call), and
// calls the debug capability of a server whose callback endpoint hangs, and
// sends it a test alert whose webhook hangs. None of it holds up request
// handlers: the debug calls are answered at
// once, /healthz and signed checks stay fast while everything hangs, and
// each registration ends with an error within the outbound timeout (15 s).
func TestSlowFediverseServers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out the 15 s outbound timeout")
	}
	t.Parallel()
	ctx := deadline(t, 60*time.Second)
	addr := freeAddr(t)
	e := baseEnv(t, "").at(addr).with("BREAKWATER_REGISTRATION_MODE", "open")
	p := serve(t, "serve", e, addr)
	good := newFediverse(t, "127.0.0.6")
	s := register(t, e, good, p.URL, "content_screening", "callback")
	hangNodeinfo, hangRegistration := newFediverse(t, "127.0.0.7"), newFediverse(t, "127.0.0.8")
	hangNodeinfo.HangNodeinfo.Store(true)
	hangRegistration.HangRegistration.Store(true)

	// Debug calls whose callbacks hang: each is answered at once.
	good.HangCallback.Store(true)
	var slowest time.Duration
	for i := 0; i < 20; i++ {
		ans, err := s.call(ctx, p.URL, http.MethodPost, "/debug/v0/callback/logs", map[string]int{"n": i})
		if err != nil || ans.Status != http.StatusCreated {
			t.Fatalf("debug call %d: %v %s", i, err, ans)
		}
		slowest = max(slowest, ans.Took)
	}
	t.Logf("20 debug calls answered 201, slowest in %s, while their callbacks hang", slowest.Round(time.Microsecond))
	if slowest > time.Second {
		t.Errorf("a debug call took %s: the callback held up the answer", slowest)
	}

	// An alert webhook that hangs (when this build has alerts).
	good.HangAlerts.Store(true)
	alerts := true
	if _, errOut, err := cliResult(e, "", "campaigns", "alerts", s.ID, "--webhook-url", good.URL+"/alerts", "--test"); err != nil {
		if !strings.Contains(errOut, `unknown command "campaigns"`) {
			t.Fatalf("campaigns alerts --test: %v\n%s", err, errOut)
		}
		alerts = false
		t.Log("this build has no alerts (no campaigns command): alert delivery not exercised")
	}

	// Web registrations of servers that never answer.
	type result struct {
		target string
		status int
		took   time.Duration
		err    error
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []result
	)
	for i, f := range []*fediverse{hangNodeinfo, hangNodeinfo, hangNodeinfo, hangRegistration, hangRegistration, hangRegistration} {
		wg.Add(1)
		go func(i int, f *fediverse) {
			defer wg.Done()
			b := newBrowser(t, p.URL)
			if status, _, err := b.get("/register"); err != nil || status != http.StatusOK {
				mu.Lock()
				results = append(results, result{target: f.Domain, status: status, err: fmt.Errorf("GET /register: %v", err)})
				mu.Unlock()
				return
			}
			start := time.Now()
			status, _, err := b.post("/register", url.Values{"serverUrl": {f.URL}, "email": {fmt.Sprintf("slow%d@example.org", i)},
				"password": {"correct horse battery staple"}, "acceptTerms": {"yes"}})
			mu.Lock()
			results = append(results, result{target: f.Domain, status: status, took: time.Since(start), err: err})
			mu.Unlock()
		}(i, f)
	}
	until := time.Now().Add(10 * time.Second)
	for hangNodeinfo.hanging.Load() < 3 || hangRegistration.hanging.Load() < 3 || good.hanging.Load() < 1 ||
		(alerts && good.alertsHanging.Load() < 1) {
		if time.Now().After(until) {
			t.Fatalf("the slow servers never got their requests: nodeinfo %d, registration %d, callbacks and alerts %d (alerts %d)",
				hangNodeinfo.hanging.Load(), hangRegistration.hanging.Load(), good.hanging.Load(), good.alertsHanging.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	held := hangNodeinfo.hanging.Load() + hangRegistration.hanging.Load() + good.hanging.Load()

	// While all of that hangs, the service answers at its usual speed.
	var health, checks []time.Duration
	for i := 0; i < 100; i++ {
		start := time.Now()
		if status, _ := get(p.URL + "/healthz"); status != http.StatusOK {
			t.Fatalf("/healthz: %d", status)
		}
		health = append(health, time.Since(start))
		ans, err := s.call(ctx, p.URL, http.MethodPost, "/spam_detection/v0/content_screening/checks", ordinaryPost(i))
		if err != nil || ans.Status != http.StatusOK {
			t.Fatalf("check while servers hang: %v %s", err, ans)
		}
		checks = append(checks, ans.Took)
	}
	t.Logf("with %d outbound requests hanging: /healthz p50 %s p99 %s; signed checks p50 %s p99 %s", held,
		percentile(health, .5).Round(time.Microsecond), percentile(health, .99).Round(time.Microsecond),
		percentile(checks, .5).Round(time.Microsecond), percentile(checks, .99).Round(time.Microsecond))
	if p99 := percentile(health, .99); p99 > 250*time.Millisecond {
		t.Errorf("/healthz p99 %s while outbound calls hang, want < 250ms", p99)
	}
	if p99 := percentile(checks, .99); p99 > 250*time.Millisecond {
		t.Errorf("signed checks p99 %s while outbound calls hang, want < 250ms", p99)
	}

	wg.Wait()
	for _, r := range results {
		t.Logf("registration of a server hanging in %s: %d after %s", r.target, r.status, r.took.Round(time.Millisecond))
		if r.err != nil || r.status < 400 {
			t.Errorf("registration of %s: %d %v, want an error page", r.target, r.status, r.err)
		}
		if r.took > 20*time.Second {
			t.Errorf("registration of %s took %s, beyond the 15s outbound timeout", r.target, r.took)
		}
	}
}
