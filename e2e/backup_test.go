package e2e

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// checksBefore makes n sign-up checks and returns their ids.
func checksBefore(ctx context.Context, t testing.TB, s *fedServer, base string, n int) []string {
	t.Helper()
	var ids []string
	for i := 0; i < n; i++ {
		ans, err := s.call(ctx, base, http.MethodPost, "/spam_detection/v0/content_screening/checks", ordinaryPost(900000+i))
		if err != nil || ans.Status != http.StatusOK {
			t.Fatalf("check: %v %s", err, ans)
		}
		ids = append(ids, ans.JSON()["checkId"].(string))
	}
	return ids
}

// wantChecks reads each check back through the API of the service at base.
func wantChecks(ctx context.Context, t testing.TB, s *fedServer, base string, ids []string) {
	t.Helper()
	for _, id := range ids {
		ans, err := s.call(ctx, base, http.MethodGet, "/spam_detection/v0/checks/"+id, nil)
		if err != nil || ans.Status != http.StatusOK {
			t.Fatalf("check %s after restore: %v %s", id, err, ans)
		}
	}
}

// TestBackupRestoreSQLite backs up a running service's SQLite database
// while it stores checks, restores the copy into a fresh data directory,
// and serves from it: the server, its keys and the checks answered before
// the backup are all there.
func TestBackupRestoreSQLite(t *testing.T) {
	t.Parallel()
	ctx := deadline(t, 60*time.Second)
	addr := freeAddr(t)
	e := baseEnv(t, "").at(addr)
	p := serve(t, "serve", e, addr)
	f := newFediverse(t, "127.0.0.12")
	s := register(t, e, f, p.URL, "content_screening")
	ids := checksBefore(ctx, t, s, p.URL, 20)

	// Back up while checks keep being written.
	l := startLoad(ctx, s, p.URL, 4)
	backup := filepath.Join(t.TempDir(), "breakwater.backup")
	out := cli(t, e, "backup", "--out", backup)
	t.Logf("%s", out)
	var during int
	for _, sm := range l.stop() {
		if sm.status == http.StatusOK {
			during++
		}
	}
	t.Logf("%d checks were stored while the backup ran", during)
	p.kill()

	fresh := e.with("BREAKWATER_DATA_DIR", t.TempDir())
	t.Logf("%s", cli(t, fresh, "restore", "--from", backup))
	p2 := serve(t, "serve (restored)", fresh, addr)
	wantChecks(ctx, t, s, p2.URL, ids)
	// The restored service works on: new checks, signed answers.
	checksBefore(ctx, t, s, p2.URL, 1)
}

// TestBackupRestorePostgres follows docs/operations.md's PostgreSQL
// procedure (pg_dump --format=custom, pg_restore --no-owner into a new
// database) and serves from the restored database.
func TestBackupRestorePostgres(t *testing.T) {
	t.Parallel()
	ctx := deadline(t, 60*time.Second)
	bin, err := pgBinDir()
	if err != nil {
		needPostgres(t, err)
	}
	src, dst := testdb.Postgres(t), testdb.Postgres(t)
	addr := freeAddr(t)
	e := baseEnv(t, src.URL).at(addr)
	p := serve(t, "serve", e, addr)
	f := newFediverse(t, "127.0.0.13")
	s := register(t, e, f, p.URL, "content_screening")
	ids := checksBefore(ctx, t, s, p.URL, 20)

	l := startLoad(ctx, s, p.URL, 2) // pg_dump reads one snapshot while serve writes
	dump := filepath.Join(t.TempDir(), "breakwater.dump")
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...) //nolint:gosec // PostgreSQL's own tools
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	run("pg_dump", "--format=custom", "--no-owner", "--file="+dump, src.URL)
	l.stop()
	p.kill()
	run("pg_restore", "--no-owner", "--exit-on-error", "--dbname="+dst.URL, dump)

	p2 := serve(t, "serve (restored)", e.with("BREAKWATER_DATABASE_URL", dst.URL), addr)
	wantChecks(ctx, t, s, p2.URL, ids)
	checksBefore(ctx, t, s, p2.URL, 1)
}
