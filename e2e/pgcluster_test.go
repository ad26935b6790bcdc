package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pgCluster is a PostgreSQL cluster this test starts and stops itself, for
// the fault tests that take the database away (a database shared through
// testdb must never be stopped under other tests). It is initialised the
// way testdb does it: initdb as the postgres user when running as root,
// data and socket in one temporary directory, loopback only.
type pgCluster struct {
	bin     string // directory of initdb, pg_ctl, pg_dump...
	root    string
	port    int
	runuser string // set when running as root
	URL     string // postgres://postgres@127.0.0.1:<port>/postgres
}

const pgDirPrefix = "breakwater-e2e-pg-"

// pgBinDir finds the PostgreSQL programs: PATH, then the newest
// /usr/lib/postgresql/<version>/bin.
func pgBinDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real // a link in /usr/local/bin; its siblings (pg_dump...) are beside the target
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin")
}

// needPostgres skips the test when PostgreSQL is not installed, or fails
// it when BREAKWATER_TEST_POSTGRES=require (CI).
func needPostgres(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("BREAKWATER_TEST_POSTGRES") == "require" {
		t.Fatalf("PostgreSQL is required but: %v", err)
	}
	t.Skipf("PostgreSQL not available: %v", err)
}

// newCluster initialises and starts a private cluster; it is stopped and
// removed when the test ends.
func newCluster(t testing.TB) *pgCluster {
	t.Helper()
	bin, err := pgBinDir()
	if err != nil {
		needPostgres(t, err)
	}
	c := &pgCluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.runuser, err = exec.LookPath("runuser"); err != nil {
			needPostgres(t, fmt.Errorf("running as root needs runuser to start PostgreSQL as postgres: %w", err))
		}
	}
	c.removeStale()
	if c.root, err = os.MkdirTemp("/tmp", pgDirPrefix); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.ctl("-m", "immediate", "-w", "stop")
		_ = os.RemoveAll(c.root)
	})
	if err := os.Chmod(c.root, 0o755); err != nil { //nolint:gosec // postgres must enter it; nothing secret inside
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.root, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil { //nolint:gosec // a pid
		t.Fatal(err)
	}
	for _, d := range []string{"data", "sock"} {
		if err := os.Mkdir(filepath.Join(c.root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if c.runuser != "" {
		u, err := user.Lookup("postgres")
		if err != nil {
			needPostgres(t, fmt.Errorf("running as root needs a postgres user: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		_ = filepath.Walk(c.root, func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				err = os.Lchown(p, uid, gid)
			}
			return err
		})
	}
	if out, err := c.run("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-locale"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	if out, err := c.start(); err != nil {
		t.Fatalf("start PostgreSQL: %v\n%s", err, out)
	}
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.root, "data") }

// start starts the cluster (again) on its port and waits until it accepts
// connections.
func (c *pgCluster) start() ([]byte, error) {
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=200", c.port, filepath.Join(c.root, "sock"))
	return c.ctl("-l", filepath.Join(c.root, "server.log"), "-w", "-t", "60", "-o", opts, "start")
}

// stop stops the cluster; "fast" is what an operator or a failover does:
// clients are disconnected, transactions rolled back.
func (c *pgCluster) stop(mode string) ([]byte, error) {
	return c.ctl("-m", mode, "-w", "-t", "60", "stop")
}

func (c *pgCluster) ctl(args ...string) ([]byte, error) {
	return c.run("pg_ctl", append([]string{"-D", c.data()}, args...)...)
}

// run executes a PostgreSQL program as the postgres user when root.
func (c *pgCluster) run(prog string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	name := filepath.Join(c.bin, prog)
	if c.runuser != "" {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = c.runuser
	}
	cmd := exec.CommandContext(ctx, name, args...) //nolint:gosec // PostgreSQL's own programs
	cmd.Dir = c.root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second // pg_ctl start leaves the postmaster running
	err := cmd.Run()
	return out.Bytes(), err
}

// removeStale stops and deletes clusters left by killed test binaries.
func (c *pgCluster) removeStale() {
	dirs, _ := filepath.Glob(filepath.Join("/tmp", pgDirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid")) //nolint:gosec // our marker file
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || alive(pid) {
			continue
		}
		old := *c
		old.root = d
		_, _ = old.ctl("-m", "immediate", "-w", "stop")
		_ = os.RemoveAll(d)
	}
}
