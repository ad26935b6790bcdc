package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/provider/screening"
	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

// TestBackupRestore backs up a data directory, restores it into a fresh
// one and finds the server and its check there; it refuses what would lose
// or garble data: overwriting without --force, a missing or different
// secret key, a corrupt file, a running service, and PostgreSQL (where
// pg_dump is the tool).
func TestBackupRestore(t *testing.T) {
	cliEnv(t)
	t.Setenv("BREAKWATER_LISTEN", "127.0.0.1:1") // nothing answers there
	ctx := context.Background()
	quiet := stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}
	orig := os.Getenv("BREAKWATER_DATA_DIR")
	m := handlertest.NewMastodon(t)
	reg := registerForCLI(t, m.Server.URL)
	cfg, _, err := parseFlags("test", nil, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := openApp(ctx, cfg, quiet, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.svc.ScreenSignupFor(ctx, reg.ServerID, screening.SignupInput{
		Account: screening.SignupAccount{Username: "kept_in_backup", Email: "kept@posteo.de"}, IP: "198.51.100.4"})
	if err != nil {
		t.Fatal(err)
	}
	app.Close(ctx)

	backup := filepath.Join(t.TempDir(), "breakwater.backup")
	code, out, errOut := runCLI(t, "", "backup", "--out", backup)
	if code != 0 || !strings.Contains(out, "1 servers, 1 checks") || !strings.Contains(out, "secret key is not in the backup") {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v, want mode 0600", st, err)
	}
	if code, _, errOut := runCLI(t, "", "backup", "--out", backup); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("backup over an existing file: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "backup", "--out", backup, "--force"); code != 0 {
		t.Errorf("backup --force: %d %s", code, errOut)
	}
	if matches, _ := filepath.Glob(backup + "*"); len(matches) != 1 {
		t.Errorf("files left beside the backup: %v", matches)
	}

	// A fresh data directory: the secret key must come first.
	fresh := t.TempDir()
	t.Setenv("BREAKWATER_DATA_DIR", fresh)
	if code, _, errOut := runCLI(t, "", "restore", "--from", backup); code != 1 || !strings.Contains(errOut, "no secret key") {
		t.Fatalf("restore without a secret key: %d %s", code, errOut)
	}
	if err := os.WriteFile(filepath.Join(fresh, "secret.key"), []byte(sealbox.Generate()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "", "restore", "--from", backup); code != 1 || !strings.Contains(errOut, "cannot be opened with this secret key") {
		t.Fatalf("restore with another secret key: %d %s", code, errOut)
	}
	key, err := os.ReadFile(filepath.Join(orig, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fresh, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(fresh, "breakwater.db")); err == nil {
		t.Fatal("a refused restore left a database behind")
	}
	code, out, errOut = runCLI(t, "", "restore", "--from", backup)
	if code != 0 || !strings.Contains(out, "1 servers, 1 checks") {
		t.Fatalf("restore: %d %s %s", code, out, errOut)
	}
	cfg, _, err = parseFlags("test", nil, quiet, nil) // now on the fresh data directory
	if err != nil {
		t.Fatal(err)
	}
	app, err = openApp(ctx, cfg, quiet, false)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := app.svc.GetCheck(ctx, reg.ServerID, res.CheckID)
	if err != nil || rec.Decision == "" {
		t.Errorf("the check after restore: %+v %v", rec, err)
	}
	if n, err := app.svc.CheckSecretKey(ctx); err != nil || n != 1 {
		t.Errorf("keys after restore: %d %v", n, err)
	}
	app.Close(ctx)

	// Replacing a database needs --force, and keeps the old one.
	if code, _, errOut := runCLI(t, "", "restore", "--from", backup); code != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("restore over a database: %d %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "", "restore", "--from", backup, "--force"); code != 0 || !strings.Contains(out, "kept as") {
		t.Errorf("restore --force: %d %s %s", code, out, errOut)
	}
	if aside, _ := filepath.Glob(filepath.Join(fresh, "breakwater.db.before-restore-*")); len(aside) == 0 {
		t.Error("the replaced database was not kept")
	}

	// A corrupt file is refused and changes nothing.
	junk := filepath.Join(t.TempDir(), "junk.backup")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 500), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(fresh, "breakwater.db"))
	if code, _, errOut := runCLI(t, "", "restore", "--from", junk, "--force"); code != 1 || !strings.Contains(errOut, "not a usable backup") {
		t.Errorf("restore of a corrupt file: %d %s", code, errOut)
	}
	if after, _ := os.ReadFile(filepath.Join(fresh, "breakwater.db")); !bytes.Equal(before, after) {
		t.Error("a refused restore changed the database")
	}

	// Not while serve runs.
	running := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	defer running.Close()
	if code, _, errOut := runCLI(t, "", "restore", "--from", backup, "--force", "--listen", running.Listener.Addr().String()); code != 1 ||
		!strings.Contains(errOut, "stop 'breakwater serve'") {
		t.Errorf("restore beside a running service: %d %s", code, errOut)
	}

	// PostgreSQL: the commands point to pg_dump and pg_restore.
	pg := "postgres://breakwater@127.0.0.1:1/breakwater"
	if code, _, errOut := runCLI(t, "", "backup", "--out", backup+".pg", "--database-url", pg); code != 1 || !strings.Contains(errOut, "pg_dump --format=custom") {
		t.Errorf("backup on PostgreSQL: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "restore", "--from", backup, "--database-url", pg); code != 1 || !strings.Contains(errOut, "pg_restore") {
		t.Errorf("restore on PostgreSQL: %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "backup"); code != 2 {
		t.Errorf("backup without --out: exit %d, want 2", code)
	}
}
