package testdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dirPrefix names cluster directories under /tmp so stale ones from killed
// test binaries can be found and removed.
const dirPrefix = "breakwater-pg-"

// binaries are the PostgreSQL programs a cluster needs.
type binaries struct {
	initdb, pgctl string
}

func (b binaries) dir() string { return filepath.Dir(b.pgctl) }

// findBinaries looks on PATH first, then in the newest Debian-style
// /usr/lib/postgresql/<version>/bin, which is not on PATH by default.
func findBinaries() (binaries, error) {
	if pgctl, err := exec.LookPath("pg_ctl"); err == nil {
		if initdb, err := exec.LookPath("initdb"); err == nil {
			return binaries{initdb: initdb, pgctl: pgctl}, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if dir := newestVersionDir(dirs); dir != "" {
		b := binaries{initdb: filepath.Join(dir, "initdb"), pgctl: filepath.Join(dir, "pg_ctl")}
		if isExecutable(b.initdb) && isExecutable(b.pgctl) {
			return b, nil
		}
	}
	return binaries{}, errors.New("initdb and pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin")
}

// newestVersionDir picks the highest version from paths like
// /usr/lib/postgresql/15/bin, comparing versions numerically (9.6 < 10 < 15).
func newestVersionDir(dirs []string) string {
	best, bestV := "", []int(nil)
	for _, d := range dirs {
		v, ok := parseVersion(filepath.Base(filepath.Dir(d)))
		if !ok {
			continue
		}
		if best == "" || versionLess(bestV, v) {
			best, bestV = d, v
		}
	}
	return best
}

func parseVersion(s string) ([]int, bool) {
	var v []int
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}

func versionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// cluster is a throwaway PostgreSQL instance whose data, socket and log live
// in one temporary directory.
type cluster struct {
	bins binaries
	root string // temp dir: data/, sock/, server.log, owner.pid
	// runAs is "postgres" when this process is root: initdb refuses to run
	// as root, so every command goes through runuser.
	runAs   string
	runuser string
	port    int
	url     string
}

func (c *cluster) data() string { return filepath.Join(c.root, "data") }

// startCluster initialises and starts a cluster tuned for tests (no fsync,
// no synchronous commit): about half a second on the CI machine.
func startCluster(bins binaries) (*cluster, error) {
	c := &cluster{bins: bins}
	if os.Geteuid() == 0 {
		c.runAs = "postgres"
		rp, err := findRunuser()
		if err != nil {
			return nil, err
		}
		c.runuser = rp
	}
	removeStaleClusters(c)

	root, err := makeRoot()
	if err != nil {
		return nil, err
	}
	c.root = root
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(root)
		}
	}()
	if err := os.WriteFile(filepath.Join(root, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, fmt.Errorf("write owner.pid: %w", err)
	}
	for _, d := range []string{c.data(), filepath.Join(root, "sock")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	if c.runAs != "" {
		if err := handOver(root, c.runAs); err != nil {
			return nil, err
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	initArgs := []string{"-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"}
	if out, err := c.run(ctx, c.bins.initdb, append(initArgs, "--locale=C.UTF-8")...); err != nil {
		// Not every system has a C.UTF-8 locale; plain C is fine for tests.
		if !strings.Contains(string(out), "locale") {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
		_ = os.RemoveAll(c.data())
		if err := os.Mkdir(c.data(), 0o700); err != nil {
			return nil, fmt.Errorf("recreate data dir: %w", err)
		}
		if c.runAs != "" {
			if err := handOver(root, c.runAs); err != nil {
				return nil, err
			}
		}
		if out, err := c.run(ctx, c.bins.initdb, append(initArgs, "--no-locale")...); err != nil {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
	}

	// A free port can be taken by someone else before the server binds it;
	// try a few.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
			port, filepath.Join(root, "sock"))
		out, err := c.run(ctx, c.bins.pgctl, "-D", c.data(), "-l", filepath.Join(root, "server.log"),
			"-w", "-t", "60", "-o", opts, "start")
		if err == nil {
			c.port = port
			c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
			ok = true
			return c, nil
		}
		logTail := tail(filepath.Join(root, "server.log"), 2000)
		lastErr = fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, logTail)
		if !strings.Contains(logTail, "could not bind") && !strings.Contains(logTail, "already in use") {
			break
		}
	}
	return nil, lastErr
}

// stop shuts the cluster down without a checkpoint (its data is thrown away
// anyway) and removes its directory.
func (c *cluster) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.run(ctx, c.bins.pgctl, "-D", c.data(), "-m", "immediate", "-w", "stop")
	if err != nil {
		return fmt.Errorf("stop cluster in %s: %w\n%s", c.root, err, out)
	}
	if err := os.RemoveAll(c.root); err != nil {
		return fmt.Errorf("remove cluster directory: %w", err)
	}
	return nil
}

// run executes a PostgreSQL program, as c.runAs when set.
func (c *cluster) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	name := prog
	if c.runAs != "" {
		args = append([]string{"-u", c.runAs, "--", prog}, args...)
		name = c.runuser
	}
	cmd := exec.CommandContext(ctx, name, args...) //nolint:gosec // programs found by findBinaries, arguments built here
	if c.root != "" {
		cmd.Dir = c.root // postgres must be able to enter the working directory
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// pg_ctl start leaves the postmaster running; should it ever keep our
	// pipe open, don't wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// makeRoot creates the cluster directory directly under /tmp with mode 0755,
// so the postgres user can reach it even when this process runs as root with
// a private TMPDIR, and so the socket path stays short (sun_path is 108
// bytes).
func makeRoot() (string, error) {
	base := "/tmp"
	if st, err := os.Stat(base); err != nil || !st.IsDir() {
		base = os.TempDir()
	}
	root, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		return "", fmt.Errorf("create cluster directory: %w", err)
	}
	if err := os.Chmod(root, 0o755); err != nil { //nolint:gosec // postgres must traverse it; it holds nothing secret
		_ = os.RemoveAll(root)
		return "", fmt.Errorf("chmod cluster directory: %w", err)
	}
	return root, nil
}

// handOver gives the cluster directory to the unprivileged user and checks
// that user can traverse every parent directory.
func handOver(root, username string) error {
	u, err := user.Lookup(username)
	if err != nil {
		return fmt.Errorf("running as root needs a %q system user to run initdb: %w", username, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("check %s: %w", dir, err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			if sys, ok := st.Sys().(*syscall.Stat_t); !ok || int(sys.Uid) != uid {
				return fmt.Errorf("user %s cannot reach %s: %s is not traversable by others (mode %v)", username, root, dir, st.Mode().Perm())
			}
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	err = filepath.WalkDir(root, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("chown cluster directory to %s: %w", username, err)
	}
	return nil
}

func findRunuser() (string, error) {
	if p, err := exec.LookPath("runuser"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/runuser", "/sbin/runuser"} {
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("running as root needs runuser (util-linux) to start PostgreSQL as the postgres user")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// removeStaleClusters stops and deletes clusters left by test binaries that
// died before Main could stop them (a go test timeout, kill -9). A cluster
// whose owner process is still alive belongs to a test binary running in
// parallel and is left alone.
func removeStaleClusters(template *cluster) {
	pidFiles, _ := filepath.Glob(filepath.Join("/tmp", dirPrefix+"*", "owner.pid"))
	for _, pf := range pidFiles {
		b, err := os.ReadFile(pf) //nolint:gosec // our own owner.pid files under /tmp
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		old := *template
		old.root = filepath.Dir(pf)
		if _, err := os.Stat(filepath.Join(old.data(), "postmaster.pid")); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, _ = old.run(ctx, old.bins.pgctl, "-D", old.data(), "-m", "immediate", "-w", "stop")
			cancel()
		}
		_ = os.RemoveAll(old.root)
	}
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path) //nolint:gosec // the cluster's own log file
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
