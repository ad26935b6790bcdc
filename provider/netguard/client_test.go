package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeResolver answers from a script: each host has a list of successive
// answers, and the last one repeats. It counts lookups so tests can prove a
// name is resolved once per connection.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]string
	calls   map[string]int
}

func newFakeResolver(answers map[string][]string) *fakeResolver {
	return &fakeResolver{answers: answers, calls: map[string]int{}}
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	script, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := r.calls[host]
	r.calls[host]++
	if i >= len(script) {
		i = len(script) - 1
	}
	var out []netip.Addr
	for _, s := range strings.Split(script[i], ",") {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}

// hitServer is a loopback test server that counts the requests it served.
type hitServer struct {
	*httptest.Server
	hits atomic.Int32
	port string
}

// startServer listens on addr ("127.0.0.1:0", "127.0.0.2:1234", "[::1]:0").
func startServer(t *testing.T, addr string, h http.HandlerFunc) *hitServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	s := &hitServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	_ = s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	return s
}

func okHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = fmt.Fprintf(w, "ok %s", r.Header.Get("User-Agent"))
}

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func get(t *testing.T, c *Client, rawURL string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Close = true // every request dials (and resolves) afresh
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func TestLoopbackBlockedUnlessAllowed(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", okHandler)
	res := newFakeResolver(map[string][]string{
		"public.test":  {"127.0.0.1"},
		"mapped.test":  {"::ffff:7f00:1"},
		"metadata.svc": {"169.254.169.254"},
	})
	hostURL := func(host string) string { return "http://" + net.JoinHostPort(host, srv.port) + "/" }
	tests := []struct {
		name    string
		url     string
		allowed []netip.Prefix
		wantOK  bool
	}{
		{name: "literal default", url: srv.URL},
		{name: "literal allowed", url: srv.URL, allowed: prefixes("127.0.0.0/8"), wantOK: true},
		{name: "literal other range allowed", url: srv.URL, allowed: prefixes("10.0.0.0/8")},
		{name: "name default", url: hostURL("public.test")},
		{name: "name allowed", url: hostURL("public.test"), allowed: prefixes("127.0.0.0/8"), wantOK: true},
		{name: "name to mapped v6", url: hostURL("mapped.test")},
		{name: "metadata name", url: "http://metadata.svc/latest/meta-data/"},
		{name: "mapped literal", url: hostURL("::ffff:127.0.0.1")},
		{name: "mapped hex literal", url: hostURL("::ffff:7f00:1")},
		{name: "mapped literal allowed", url: hostURL("::ffff:127.0.0.1"), allowed: prefixes("127.0.0.0/8"), wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.hits.Load()
			c := New(Options{AllowedRanges: tt.allowed, Resolver: res, Timeout: 5 * time.Second})
			body, err := get(t, c, tt.url)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("GET %s: %v", tt.url, err)
				}
				if body != "ok Breakwater" {
					t.Errorf("body = %q", body)
				}
				return
			}
			var be *BlockedError
			if !errors.Is(err, ErrBlocked) || !errors.As(err, &be) {
				t.Fatalf("GET %s = %v, want ErrBlocked", tt.url, err)
			}
			if srv.hits.Load() != before {
				t.Errorf("blocked request reached the server")
			}
		})
	}
}

func TestRealResolverLocalhostBlocked(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", okHandler)
	c := New(Options{})
	_, err := get(t, c, "http://localhost:"+srv.port+"/")
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("localhost = %v, want ErrBlocked", err)
	}
	if srv.hits.Load() != 0 {
		t.Error("request reached the server")
	}
}

func TestIPv6Loopback(t *testing.T) {
	srv := startServer(t, "[::1]:0", okHandler)
	for _, tt := range []struct {
		name    string
		allowed []netip.Prefix
		wantOK  bool
	}{
		{name: "default"},
		{name: "v4 loopback allowed only", allowed: prefixes("127.0.0.0/8")},
		{name: "::1 allowed", allowed: prefixes("::1/128"), wantOK: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{AllowedRanges: tt.allowed})
			_, err := get(t, c, srv.URL)
			if tt.wantOK != (err == nil) {
				t.Fatalf("GET %s: %v, want ok=%v", srv.URL, err, tt.wantOK)
			}
			if !tt.wantOK && !errors.Is(err, ErrBlocked) {
				t.Fatalf("GET %s: %v, want ErrBlocked", srv.URL, err)
			}
		})
	}
}

// twoServers starts "public" on 127.0.0.2 and "private" on 127.0.0.1 with the
// same port, so one URL reaches either depending on what DNS says.
func twoServers(t *testing.T, public http.HandlerFunc) (pub, priv *hitServer) {
	t.Helper()
	priv = startServer(t, "127.0.0.1:0", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "SECRET")
	})
	pub = startServer(t, "127.0.0.2:"+priv.port, public)
	return pub, priv
}

func TestRedirectToBlockedAddress(t *testing.T) {
	var target string
	pub, priv := twoServers(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			_, _ = io.WriteString(w, "public")
			return
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
	res := newFakeResolver(map[string][]string{
		"public.test":   {"127.0.0.2"},
		"internal.test": {"127.0.0.1"},
	})
	base := "http://public.test:" + pub.port
	tests := []struct {
		name   string
		target string
		wantOK bool
	}{
		{name: "same host", target: base + "/ok", wantOK: true},
		{name: "loopback literal", target: "http://127.0.0.1:" + priv.port + "/"},
		{name: "mapped literal", target: "http://[::ffff:127.0.0.1]:" + priv.port + "/"},
		{name: "name resolving to loopback", target: "http://internal.test:" + priv.port + "/"},
		{name: "metadata", target: "http://169.254.169.254/latest/meta-data/"},
		{name: "other scheme", target: "file:///etc/passwd"},
		{name: "credentials", target: "http://user:pw@public.test:" + pub.port + "/ok"},
	}
	c := New(Options{AllowedRanges: prefixes("127.0.0.2/32"), Resolver: res})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target = tt.target
			body, err := get(t, c, base+"/start")
			if tt.wantOK {
				if err != nil || body != "public" {
					t.Fatalf("GET = %q, %v", body, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("redirect to %s was followed (body %q)", tt.target, body)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("error leaks the password: %v", err)
			}
			if priv.hits.Load() != 0 {
				t.Fatalf("redirect reached the private server")
			}
		})
	}
	// Sanity: the test would notice a hit on the private server.
	if _, err := get(t, New(Options{AllowedRanges: prefixes("127.0.0.0/8")}), "http://127.0.0.1:"+priv.port+"/"); err != nil || priv.hits.Load() != 1 {
		t.Fatalf("control request to the private server failed: %v", err)
	}
}

func TestTooManyRedirects(t *testing.T) {
	var srv *hitServer
	srv = startServer(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if n == 0 {
			_, _ = io.WriteString(w, "done")
			return
		}
		http.Redirect(w, r, srv.URL+"/"+strconv.Itoa(n-1), http.StatusFound)
	})
	allow := prefixes("127.0.0.0/8")
	tests := []struct {
		max, chain int
		wantOK     bool
	}{
		{max: 0, chain: 3, wantOK: true}, // default 3
		{max: 0, chain: 4},
		{max: 1, chain: 1, wantOK: true},
		{max: 1, chain: 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max%d_chain%d", tt.max, tt.chain), func(t *testing.T) {
			c := New(Options{AllowedRanges: allow, MaxRedirects: tt.max})
			body, err := get(t, c, srv.URL+"/"+strconv.Itoa(tt.chain))
			if tt.wantOK {
				if err != nil || body != "done" {
					t.Fatalf("got %q, %v", body, err)
				}
				return
			}
			if !errors.Is(err, ErrTooManyRedirects) {
				t.Fatalf("got %v, want ErrTooManyRedirects", err)
			}
		})
	}
	t.Run("negative returns the redirect", func(t *testing.T) {
		c := New(Options{AllowedRanges: allow, MaxRedirects: -1})
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/2", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("status %d, want 302", resp.StatusCode)
		}
	})
}

func TestDNSRebinding(t *testing.T) {
	pub, priv := twoServers(t, okHandler)
	url := "http://rebind.test:" + pub.port + "/"
	allow := prefixes("127.0.0.2/32") // stands in for "a public address"

	t.Run("second resolution is checked again", func(t *testing.T) {
		res := newFakeResolver(map[string][]string{"rebind.test": {"127.0.0.2", "127.0.0.1"}})
		c := New(Options{AllowedRanges: allow, Resolver: res})
		if _, err := c.CheckURL(url); err != nil {
			t.Fatalf("CheckURL: %v", err)
		}
		if body, err := get(t, c, url); err != nil || body != "ok Breakwater" {
			t.Fatalf("first request: %q, %v", body, err)
		}
		_, err := get(t, c, url)
		if !errors.Is(err, ErrBlocked) {
			t.Fatalf("after rebinding to loopback: %v, want ErrBlocked", err)
		}
		if got := res.count("rebind.test"); got != 2 {
			t.Errorf("resolved %d times for 2 connections, want 2", got)
		}
	})
	t.Run("check and connect use one resolution", func(t *testing.T) {
		// A checker that resolved, then let the dialer resolve again, would
		// connect to the second answer. Here the first answer is dialled.
		res := newFakeResolver(map[string][]string{"rebind.test": {"127.0.0.2", "127.0.0.1"}})
		c := New(Options{AllowedRanges: allow, Resolver: res})
		before := pub.hits.Load()
		if _, err := get(t, c, url); err != nil {
			t.Fatalf("GET: %v", err)
		}
		if res.count("rebind.test") != 1 || pub.hits.Load() != before+1 {
			t.Errorf("lookups = %d, public hits +%d; want 1 and 1", res.count("rebind.test"), pub.hits.Load()-before)
		}
	})
	t.Run("mixed answer refused", func(t *testing.T) {
		res := newFakeResolver(map[string][]string{"rebind.test": {"127.0.0.2,127.0.0.1"}})
		c := New(Options{AllowedRanges: allow, Resolver: res})
		if _, err := get(t, c, url); !errors.Is(err, ErrBlocked) {
			t.Fatalf("mixed public/loopback answer: %v, want ErrBlocked", err)
		}
	})
	if priv.hits.Load() != 0 {
		t.Fatalf("the private server was reached %d times", priv.hits.Load())
	}
}

func TestProxyEnvironmentIgnored(t *testing.T) {
	proxy := startServer(t, "127.0.0.1:0", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "via proxy")
	})
	pub, _ := twoServers(t, okHandler)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	res := newFakeResolver(map[string][]string{"public.test": {"127.0.0.2"}})
	c := New(Options{AllowedRanges: prefixes("127.0.0.2/32"), Resolver: res})
	tr := c.HTTPClient().Transport.(*guardedTransport).next.(*http.Transport)
	if tr.Proxy != nil {
		t.Fatal("transport has a Proxy function")
	}
	body, err := get(t, c, "http://public.test:"+pub.port+"/")
	if err != nil || body != "ok Breakwater" {
		t.Fatalf("GET: %q, %v", body, err)
	}
	if proxy.hits.Load() != 0 {
		t.Error("request went through the proxy")
	}
}

func TestHTTPClientIsGuarded(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", okHandler)
	hc := New(Options{}).HTTPClient()
	resp, err := hc.Get(srv.URL)
	if err == nil {
		_ = resp.Body.Close()
	}
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("HTTPClient().Get(loopback) = %v, want ErrBlocked", err)
	}

	hc = New(Options{AllowedRanges: prefixes("127.0.0.0/8"), UserAgent: "bw-test", MaxBodyBytes: 4}).HTTPClient()
	resp, err = hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("read %v, want ErrBodyTooLarge", err)
	}
}

func TestUserAgent(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", okHandler)
	c := New(Options{AllowedRanges: prefixes("127.0.0.0/8"), UserAgent: "Breakwater/1.0 (+https://bw.example)"})
	if body, _ := get(t, c, srv.URL); body != "ok Breakwater/1.0 (+https://bw.example)" {
		t.Errorf("default UA: %q", body)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	req.Header.Set("User-Agent", "caller")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "ok caller" {
		t.Errorf("caller UA: %q", b)
	}
	if req.Header.Get("User-Agent") != "caller" {
		t.Error("request header changed")
	}
}

func TestBodyLimit(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		chunk := []byte(strings.Repeat("x", 512))
		for n > 0 {
			k := min(n, len(chunk))
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	c := New(Options{AllowedRanges: prefixes("127.0.0.0/8"), MaxBodyBytes: 1000})
	tests := []struct {
		query   string
		wantLen int
		tooBig  bool
	}{
		{query: "n=0", wantLen: 0},
		{query: "n=999", wantLen: 999},
		{query: "n=1000", wantLen: 1000},
		{query: "n=1000&chunked=1", wantLen: 1000},
		{query: "n=1001", tooBig: true},
		{query: "n=1001&chunked=1", tooBig: true},
		{query: "n=5000000&chunked=1", tooBig: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			body, err := get(t, c, srv.URL+"/?"+tt.query)
			if tt.tooBig {
				if !errors.Is(err, ErrBodyTooLarge) {
					t.Fatalf("got %d bytes, %v; want ErrBodyTooLarge", len(body), err)
				}
				return
			}
			if err != nil || len(body) != tt.wantLen {
				t.Fatalf("got %d bytes, %v; want %d", len(body), err, tt.wantLen)
			}
		})
	}
	t.Run("default is 1 MiB", func(t *testing.T) {
		c := New(Options{AllowedRanges: prefixes("127.0.0.0/8")})
		if _, err := get(t, c, srv.URL+"/?n=1048576"); err != nil {
			t.Fatalf("1 MiB: %v", err)
		}
		if _, err := get(t, c, srv.URL+"/?n=1048577"); !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("1 MiB + 1: %v", err)
		}
	})
}

func TestTimeoutsAreBounded(t *testing.T) {
	stop := make(chan struct{})
	hang := startServer(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			_, _ = io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // runs before hang.Close

	// Accepts TCP connections (the kernel does) but never reads or answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })

	tests := []struct {
		name string
		url  string
		opts Options
	}{
		{name: "no response headers", url: hang.URL + "/", opts: Options{Timeout: 300 * time.Millisecond}},
		{name: "body never ends", url: hang.URL + "/body", opts: Options{Timeout: 300 * time.Millisecond}},
		{name: "listener never accepts", url: "http://" + silent.Addr().String() + "/", opts: Options{Timeout: 300 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.AllowedRanges = prefixes("127.0.0.0/8", "10.0.0.0/8")
			c := New(tt.opts)
			start := time.Now()
			_, err := get(t, c, tt.url)
			if err == nil {
				t.Fatal("request succeeded")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("took %v (err %v)", d, err)
			}
			if errors.Is(err, ErrBlocked) {
				t.Fatalf("unexpected block: %v", err)
			}
		})
	}
}

func TestControlSocketRefusesBlocked(t *testing.T) {
	// The dialer's Control hook is the last line of defence if a path ever
	// reached it with an unchecked address.
	c := New(Options{})
	_, err := c.dialer.DialContext(context.Background(), "tcp", "127.0.0.1:9")
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("raw dial to loopback: %v, want ErrBlocked", err)
	}
}

func TestErrorsDoNotLeakQuery(t *testing.T) {
	c := New(Options{})
	_, err := get(t, c, "http://127.0.0.1/hook?token=s3cr3t")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error %v leaks the query", err)
	}
}

func TestConnectTimeout(t *testing.T) {
	addr := fullBacklogListener(t)
	c := New(Options{
		AllowedRanges:  prefixes("127.0.0.0/8"),
		ConnectTimeout: 300 * time.Millisecond,
		Timeout:        30 * time.Second,
	})
	start := time.Now()
	_, err := get(t, c, "http://"+addr+"/")
	d := time.Since(start)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("GET to a listener whose queue is full: %v, want a connect timeout", err)
	}
	if d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("connect gave up after %v, want about 300ms", d)
	}
}

// fullBacklogListener returns the address of a socket that listens with a
// backlog of 0 and whose accept queue is already full, so the kernel drops
// further SYNs and a connect hangs until the dialer gives up. (An unrouted
// address would do the same, but sandboxes often answer those.)
func fullBacklogListener(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("relies on Linux accept-queue behaviour")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatalf("listen: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	// Fill the queue: connect until a connect stalls.
	for i := 0; i < 8; i++ {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { _ = conn.Close() })
	}
	t.Skip("could not fill the accept queue")
	return ""
}
