package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// binary is the breakwater executable TestMain built for this run.
var binary string

// testSecret is the BREAKWATER_SECRET_KEY every process of a test shares.
const testSecret = "e2e-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"

// binDirPrefix names the build directories under the temp dir; one left by
// a killed run is removed by the next (testdb.Main exits the process, so
// TestMain has no later point to remove its own).
const binDirPrefix = "breakwater-e2e-bin-"

func TestMain(m *testing.M) {
	removeStaleDirs(binDirPrefix)
	dir, err := os.MkdirTemp("", binDirPrefix)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	if err == nil {
		binary = filepath.Join(dir, "breakwater")
		err = build(binary)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build breakwater: %v\n", err)
		os.Exit(1)
	}
	testdb.Main(m)
}

// build compiles ./cmd/breakwater the way the Dockerfile does (static, no
// cgo), once for the whole package.
func build(out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/breakwater")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, b)
	}
	return nil
}

// removeStaleDirs deletes temp directories with prefix whose owner.pid
// names a process that is gone.
func removeStaleDirs(prefix string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid")) //nolint:gosec // our own marker files
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// env is a process environment: the test's own minus every BREAKWATER_*
// variable (CI sets some for the test harness), plus the settings given.
type env map[string]string

func (e env) list() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BREAKWATER_") {
			out = append(out, kv)
		}
	}
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

// with returns a copy of e with more settings.
func (e env) with(kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// baseEnv is what every test process starts from: a data directory, the
// shared secret, no DNS look-ups, loopback reachable for the fakes.
func baseEnv(t testing.TB, dbURL string) env {
	return env{
		"BREAKWATER_DATA_DIR":             t.TempDir(),
		"BREAKWATER_SECRET_KEY":           testSecret,
		"BREAKWATER_DATABASE_URL":         dbURL,
		"BREAKWATER_MX_CHECK":             "false",
		"BREAKWATER_ALLOW_PRIVATE_RANGES": "127.0.0.0/8",
		"BREAKWATER_SHUTDOWN_TIMEOUT":     "5s",
		"BREAKWATER_RATE_LIMIT":           "5000",
		"BREAKWATER_RATE_BURST":           "5000",
	}
}

// at is e for a service listening on addr and reached there directly: its
// public URL is http://addr. Commands run beside it need the same.
func (e env) at(addr string) env {
	return e.with("BREAKWATER_LISTEN", addr, "BREAKWATER_PUBLIC_URL", "http://"+addr)
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logBuffer collects a child's output, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// proc is one running `breakwater serve`.
type proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	// URL is where the process listens (not necessarily its public URL).
	URL  string
	Logs *logBuffer
	done chan struct{}
	err  error
}

// serve starts `breakwater serve` listening on addr with e and waits until
// /readyz answers 200. The process is killed when the test ends.
func serve(t testing.TB, name string, e env, addr string) *proc {
	t.Helper()
	if e["BREAKWATER_PUBLIC_URL"] == "" {
		t.Fatal("serve needs BREAKWATER_PUBLIC_URL in its environment (the operator commands beside it need the same)")
	}
	e = e.with("BREAKWATER_LISTEN", addr)
	cmd := exec.Command(binary, "serve") //nolint:gosec // the binary this test built
	cmd.Env = e.list()
	p := startProc(t, name, cmd, "http://"+addr)
	p.waitReady(30 * time.Second)
	return p
}

// startProc starts cmd, a service that will listen at url, collecting its
// output. The process is killed when the test ends, and its logs shown if
// the test failed.
func startProc(t testing.TB, name string, cmd *exec.Cmd, url string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, cmd: cmd, URL: url, Logs: &logBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.Logs, p.Logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- logs of %s ---\n%s", name, tailString(p.Logs.String(), 6000))
		}
	})
	return p
}

// waitReady polls /readyz until it answers 200.
func (p *proc) waitReady(within time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			p.t.Fatalf("%s exited before it was ready: %v\n%s", p.name, p.err, tailString(p.Logs.String(), 4000))
		default:
		}
		if status, _ := get(p.URL + "/readyz"); status == http.StatusOK {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("%s not ready within %s\n%s", p.name, within, tailString(p.Logs.String(), 4000))
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop sends SIGTERM, the way an orchestrator stops a container, and waits.
func (p *proc) stop(within time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(within):
		p.kill()
		return fmt.Errorf("%s did not stop within %s", p.name, within)
	}
}

// cli runs one operator command beside the service and returns its
// standard output; a failure ends the test.
func cli(t testing.TB, e env, args ...string) string {
	t.Helper()
	out, errOut, err := cliResult(e, "", args...)
	if err != nil {
		t.Fatalf("breakwater %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// cliResult runs one command with stdin and returns both outputs.
func cliResult(e env, stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...) //nolint:gosec // the binary this test built
	cmd.Env = e.list()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

var plainClient = &http.Client{Timeout: 10 * time.Second}

// get fetches a URL and returns status and body (0 on a transport error).
func get(u string) (int, string) {
	resp, err := plainClient.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, string(b)
}

// metric reads one unlabelled sample from a service's /metrics.
func metric(t testing.TB, base, name string) float64 {
	t.Helper()
	status, body := get(base + "/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == name {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not exposed", name)
	return 0
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// deadline bounds a whole test: its context ends, and the test fails, if
// the test takes longer than d.
func deadline(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
