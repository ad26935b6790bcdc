// Package testdb gives storage tests real databases: an SQLite file and a
// PostgreSQL database, each fresh and empty for every test, because a mock
// cannot tell us that a query only works on one of them. It is imported only
// by _test.go files.
//
// PostgreSQL is found in this order:
//  1. BREAKWATER_TEST_DATABASE_URL, an admin URL such as
//     postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable; each test
//     gets a database created there (this is what CI uses).
//  2. initdb and pg_ctl on PATH or in the newest /usr/lib/postgresql/*/bin:
//     one throwaway cluster per test binary, started on first use, on
//     127.0.0.1 with a free port, and stopped by Main.
//  3. Otherwise PostgreSQL tests are skipped, unless
//     BREAKWATER_TEST_POSTGRES=require, which makes them fail.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables that steer where PostgreSQL comes from.
const (
	// EnvDatabaseURL is an admin URL of a running server to create per-test
	// databases on.
	EnvDatabaseURL = "BREAKWATER_TEST_DATABASE_URL"
	// EnvPostgres set to "require" turns "PostgreSQL not available" from a
	// skip into a failure, so CI cannot pass by silently testing less.
	EnvPostgres = "BREAKWATER_TEST_POSTGRES"
)

// Target is one database a test runs against.
type Target struct {
	Name string // "sqlite" or "postgres"
	URL  string // PostgreSQL URL of the fresh database; "" for SQLite
	Path string // SQLite database file (not yet created); "" for PostgreSQL
}

// shared is the one piece of process-wide state: a test binary has exactly
// one cluster, started lazily by whichever test needs it first and stopped by
// Main after all tests. The testing.M entry point leaves no other place to
// keep it.
var shared struct {
	mainUsed atomic.Bool
	once     sync.Once
	mu       sync.Mutex
	cluster  *cluster // nil until started; guarded by mu
	admin    string   // admin URL once available
	err      error    // why PostgreSQL is unavailable
}

// Main wraps testing.M: it runs the tests, then stops the PostgreSQL cluster
// they started, if any. Every package using testdb needs
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
func Main(m *testing.M) {
	shared.mainUsed.Store(true)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		// Ctrl-C would otherwise leave a postmaster behind.
		if err := shutdown(); err != nil {
			fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
		}
		fmt.Fprintf(os.Stderr, "testdb: interrupted by %v\n", s)
		os.Exit(1)
	}()
	code := m.Run()
	signal.Stop(sigs)
	close(sigs)
	if err := shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
	}
	os.Exit(code)
}

// Each runs fn as a subtest once per database, each with a fresh empty
// database. The "postgres" subtest is skipped (or fails, in CI) when
// PostgreSQL is not available.
func Each(t *testing.T, fn func(t *testing.T, tg Target)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a target for a database file in the test's temporary
// directory; the file does not exist yet.
func SQLite(t testing.TB) Target {
	t.Helper()
	return Target{Name: "sqlite", Path: filepath.Join(t.TempDir(), "breakwater.db")}
}

// Postgres creates a fresh database bw_<random> for this test and drops it
// (WITH (FORCE), so open connections don't block it) when the test ends.
func Postgres(t testing.TB) Target {
	t.Helper()
	admin, err := adminURL()
	if err != nil {
		unavailable(t, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	name := "bw_" + hex.EncodeToString(rnd[:])

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := execAdmin(ctx, admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := execAdmin(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	u, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return Target{Name: "postgres", URL: u}
}

// errMainMissing is reported when a cluster would be started but nothing
// would stop it.
var errMainMissing = errors.New("testdb.Main is not called: add `func TestMain(m *testing.M) { testdb.Main(m) }` to this package's tests so the PostgreSQL cluster is stopped")

// adminURL returns the URL of a server on which databases may be created,
// starting the per-binary cluster on first use.
func adminURL() (string, error) {
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		return u, nil
	}
	if !shared.mainUsed.Load() {
		return "", errMainMissing
	}
	shared.once.Do(func() {
		bins, err := findBinaries()
		if err != nil {
			shared.err = err
			return
		}
		c, err := startCluster(bins)
		shared.mu.Lock()
		defer shared.mu.Unlock()
		if err != nil {
			shared.err = fmt.Errorf("start a throwaway cluster with %s: %w", bins.dir(), err)
			return
		}
		shared.cluster = c
		shared.admin = c.url
	})
	if shared.err != nil {
		return "", shared.err
	}
	return shared.admin, nil
}

// unavailable skips the test, or fails it when PostgreSQL is required.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errMainMissing) {
		t.Fatalf("testdb: %v", err)
	}
	if os.Getenv(EnvPostgres) == "require" {
		t.Fatalf("testdb: PostgreSQL is required (%s=require) but not available: %v; install PostgreSQL or set %s", EnvPostgres, err, EnvDatabaseURL)
	}
	t.Skipf("PostgreSQL not available: %v (set %s, or install PostgreSQL)", err, EnvDatabaseURL)
}

func shutdown() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	c := shared.cluster
	shared.cluster = nil
	if c == nil {
		return nil
	}
	return c.stop()
}

// execAdmin runs one statement on its own connection; CREATE/DROP DATABASE
// cannot run inside a transaction, and tests are too few to need a pool.
func execAdmin(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redact(admin), err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// withDatabase points an admin URL (or key=value DSN) at database name.
func withDatabase(admin, name string) (string, error) {
	if !strings.Contains(admin, "://") {
		return admin + " dbname=" + name, nil // in a DSN the last keyword wins
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvDatabaseURL, err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("%s must be a postgres:// URL, got scheme %q", EnvDatabaseURL, u.Scheme)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// redact hides a password in a URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil {
			return "the database"
		}
		return raw
	}
	return u.Redacted()
}
