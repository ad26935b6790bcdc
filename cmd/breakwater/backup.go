package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
)

// pgBackupHelp is what the backup commands say on PostgreSQL, where the
// database's own tools make a better backup than Breakwater could: online,
// consistent, compressed and restorable into any newer PostgreSQL.
const pgBackupHelp = `on PostgreSQL, back up with pg_dump and restore with pg_restore (docs/operations.md, "Backups"):
  pg_dump --format=custom --no-owner --file=breakwater.dump "$BREAKWATER_DATABASE_URL"
  createdb breakwater_restored   # a new, empty database
  pg_restore --no-owner --exit-on-error --dbname=breakwater_restored breakwater.dump
then point BREAKWATER_DATABASE_URL at it and keep the same BREAKWATER_SECRET_KEY`

// cmdBackup writes a consistent copy of the SQLite database while serve
// keeps running: VACUUM INTO reads one snapshot (WAL lets the writer go on)
// and writes a compact, self-contained file.
func cmdBackup(ctx context.Context, args []string, io stdio) error {
	var out string
	var force bool
	cfg, pos, err := parseFlags("backup", args, io, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "file to write the backup to (required)")
		fs.BoolVar(&force, "force", false, "replace the file if it exists")
	})
	if err != nil {
		return err
	}
	if out == "" || len(pos) != 0 {
		return usageErr("usage: breakwater backup --out FILE [--force]")
	}
	if cfg.DatabaseURL != "" {
		return fmt.Errorf("breakwater backup copies the embedded SQLite database; %s", pgBackupHelp)
	}
	src := cfg.sqlitePath()
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("no database to back up at %s: %w", src, err)
	}
	if _, err := os.Stat(out); err == nil && !force {
		return fmt.Errorf("%s exists; choose another file or add --force", out)
	}
	// VACUUM INTO refuses an existing file, and a half-written backup must
	// never take the place of a good one: write beside it, then rename.
	tmp := out + ".partial"
	_ = os.Remove(tmp)
	db, err := models.Open(ctx, models.Options{SQLitePath: src})
	if err != nil {
		return err
	}
	started := time.Now()
	err = db.WithContext(ctx).Exec("VACUUM INTO ?", tmp).Error
	_ = db.Close()
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("copy the database: %w", err)
	}
	sum, err := inspectSQLite(ctx, tmp)
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("the copy does not check out: %w", err)
	}
	// It holds sealed keys, hashes and check details: owner only.
	if err := os.Chmod(tmp, 0o600); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("move the backup into place: %w", err)
	}
	fmt.Fprintf(io.out, "backed up %s to %s in %s: %s\n", src, out, time.Since(started).Round(time.Millisecond), sum)
	fmt.Fprintln(io.out, "The secret key is not in the backup: keep it (BREAKWATER_SECRET_KEY or the data directory's secret.key) apart from it; without it the servers' private keys in the backup cannot be opened.")
	return nil
}

// cmdRestore puts an SQLite backup in place of the data directory's
// database, after checking the file, its schema version and that the
// configured secret key opens the keys inside. serve must be stopped.
func cmdRestore(ctx context.Context, args []string, io stdio) error {
	var from string
	var force bool
	cfg, pos, err := parseFlags("restore", args, io, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "backup file written by 'breakwater backup' (required)")
		fs.BoolVar(&force, "force", false, "replace an existing database (it is kept beside, renamed)")
	})
	if err != nil {
		return err
	}
	if from == "" || len(pos) != 0 {
		return usageErr("usage: breakwater restore --from FILE [--force]")
	}
	if cfg.DatabaseURL != "" {
		return fmt.Errorf("breakwater restore restores the embedded SQLite database; %s", pgBackupHelp)
	}
	if serviceAnswers(ctx, cfg.Listen) {
		return fmt.Errorf("a service answers on %s: stop 'breakwater serve' before restoring", cfg.Listen)
	}
	dst := cfg.sqlitePath()
	if _, err := os.Stat(dst); err == nil && !force {
		return fmt.Errorf("%s exists; add --force to replace it (it is kept as %s.before-restore-<time>)", dst, dst)
	}
	if cfg.SecretKey == "" {
		file := cfg.SecretKeyFile
		if file == "" {
			file = filepath.Join(cfg.DataDir, "secret.key")
		}
		if _, err := os.Stat(file); err != nil {
			return fmt.Errorf("no secret key: put the secret.key saved with the backup at %s, or set BREAKWATER_SECRET_KEY, before restoring", file)
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	// Work on a copy in the data directory, so the backup file is never
	// changed and the final rename is atomic.
	tmp := dst + ".restoring"
	_ = os.Remove(tmp)
	if err := copyFile(from, tmp); err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }()
	sum, err := inspectSQLite(ctx, tmp)
	if err != nil {
		return fmt.Errorf("%s is not a usable backup: %w", from, err)
	}
	if sum.version > models.LatestVersion() {
		return fmt.Errorf("the backup has schema version %d, newer than this binary's %d: restore it with the version that made it", sum.version, models.LatestVersion())
	}
	if n, err := checkSecret(ctx, cfg, io, tmp); err != nil {
		return fmt.Errorf("%w; restore with the secret key that was in use when the backup was made", err)
	} else if n == 0 {
		fmt.Fprintln(io.err, "note: the backup holds no server keys, so the secret key could not be checked")
	}
	if _, err := os.Stat(dst); err == nil {
		aside := dst + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(dst, aside); err != nil {
			return fmt.Errorf("move the current database aside: %w", err)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(dst + suffix); err == nil {
				if err := os.Rename(dst+suffix, aside+suffix); err != nil {
					return fmt.Errorf("move the current database aside: %w", err)
				}
			}
		}
		fmt.Fprintf(io.out, "the database that was there is kept as %s\n", aside)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("move the restored database into place: %w", err)
	}
	fmt.Fprintf(io.out, "restored %s to %s: %s\n", from, dst, sum)
	if sum.version < models.LatestVersion() {
		fmt.Fprintf(io.out, "its schema (version %d) is upgraded to %d when serve (or migrate) next starts\n", sum.version, models.LatestVersion())
	}
	return nil
}

// sqliteSummary is what a backup holds, for the operator to recognise it.
type sqliteSummary struct {
	version                  int
	servers, checks, bytesOn int64
}

func (s sqliteSummary) String() string {
	return fmt.Sprintf("schema version %d, %d servers, %d checks, %.1f MiB", s.version, s.servers, s.checks, float64(s.bytesOn)/(1<<20))
}

// inspectSQLite checks a database file's integrity and reads what it holds.
func inspectSQLite(ctx context.Context, path string) (sqliteSummary, error) {
	var sum sqliteSummary
	st, err := os.Stat(path)
	if err != nil {
		return sum, err
	}
	sum.bytesOn = st.Size()
	db, err := models.Open(ctx, models.Options{SQLitePath: path})
	if err != nil {
		return sum, err
	}
	defer db.Close()
	var problems []string
	if err := db.WithContext(ctx).Raw("PRAGMA integrity_check").Scan(&problems).Error; err != nil {
		return sum, fmt.Errorf("integrity check: %w", err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		return sum, fmt.Errorf("integrity check: %s", strings.Join(problems, "; "))
	}
	if sum.version, err = db.SchemaVersion(ctx); err != nil {
		return sum, fmt.Errorf("read schema version: %w", err)
	}
	if sum.version == 0 {
		return sum, errors.New("it holds no Breakwater schema")
	}
	if err := db.WithContext(ctx).Model(&models.Server{}).Count(&sum.servers).Error; err != nil {
		return sum, fmt.Errorf("count servers: %w", err)
	}
	if err := db.WithContext(ctx).Model(&models.Check{}).Count(&sum.checks).Error; err != nil {
		return sum, fmt.Errorf("count checks: %w", err)
	}
	return sum, nil
}

// checkSecret opens the keys in the database at path with the configured
// secret key.
func checkSecret(ctx context.Context, cfg *config, io stdio, path string) (int, error) {
	log := cfg.logger(io.err)
	box, err := loadSecret(cfg, log)
	if err != nil {
		return 0, err
	}
	db, err := models.Open(ctx, models.Options{SQLitePath: path})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	svc, err := provider.New(provider.Options{PublicURL: cfg.publicURL, Logger: log}, db, box, netguard.New(netguard.Options{}), nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = svc.Close(ctx) }()
	return svc.CheckSecretKey(ctx)
}

func copyFile(from, to string) error {
	in, err := os.Open(from) //nolint:gosec // the operator names the backup to restore
	if err != nil {
		return fmt.Errorf("open backup: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", to, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("copy backup: %w", err)
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// serviceAnswers reports whether something answers /healthz on the listen
// address: a running serve, which must not have its database replaced.
func serviceAnswers(ctx context.Context, listen string) bool {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
