package testdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

func TestMain(m *testing.M) { Main(m) }

type widget struct {
	ID   uint `gorm:"primaryKey"`
	Name string
}

func openPG(t *testing.T, tg Target) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(postgres.Open(tg.URL), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("open %s: %v", tg.URL, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}

func TestEach(t *testing.T) {
	seen := map[string]bool{}
	Each(t, func(t *testing.T, tg Target) {
		seen[tg.Name] = true
		ctx := t.Context()
		switch tg.Name {
		case "sqlite":
			if tg.URL != "" || tg.Path == "" {
				t.Fatalf("sqlite target %+v", tg)
			}
			if _, err := os.Stat(tg.Path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("sqlite file should not exist yet: %v", err)
			}
			if err := os.WriteFile(tg.Path, []byte("x"), 0o600); err != nil {
				t.Fatalf("sqlite path not writable: %v", err)
			}
		case "postgres":
			if tg.URL == "" || tg.Path != "" || !strings.Contains(tg.URL, "/bw_") {
				t.Fatalf("postgres target %+v", tg)
			}
			db := openPG(t, tg).WithContext(ctx)
			if err := db.AutoMigrate(&widget{}); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			in := widget{Name: "grüße ✓"}
			if err := db.Create(&in).Error; err != nil {
				t.Fatalf("create: %v", err)
			}
			var out widget
			if err := db.First(&out, in.ID).Error; err != nil {
				t.Fatalf("read back: %v", err)
			}
			if out != in {
				t.Fatalf("read %+v, wrote %+v", out, in)
			}
		default:
			t.Fatalf("unknown target %q", tg.Name)
		}
	})
	if !seen["sqlite"] {
		t.Error("sqlite subtest did not run")
	}
}

func TestPostgresDatabasesAreFreshAndDropped(t *testing.T) {
	a := Postgres(t)
	b := Postgres(t)
	if a.URL == b.URL {
		t.Fatal("two targets share a database")
	}
	dbA := openPG(t, a)
	if err := dbA.AutoMigrate(&widget{}); err != nil {
		t.Fatal(err)
	}
	if openPG(t, b).Migrator().HasTable(&widget{}) {
		t.Fatal("table from one test database is visible in another")
	}

	var inner Target
	t.Run("inner", func(t *testing.T) {
		inner = Postgres(t)
		db := openPG(t, inner) // still open at cleanup: DROP ... WITH (FORCE) must cope
		if err := db.Exec("SELECT 1").Error; err != nil {
			t.Fatal(err)
		}
	})
	admin, err := adminURL()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	name := inner.URL[strings.LastIndex(inner.URL, "/")+1:]
	name = strings.SplitN(name, "?", 2)[0]
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

func TestNewestVersionDir(t *testing.T) {
	tests := []struct {
		dirs []string
		want string
	}{
		{nil, ""},
		{[]string{"/usr/lib/postgresql/15/bin"}, "/usr/lib/postgresql/15/bin"},
		{[]string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/10/bin"}, "/usr/lib/postgresql/15/bin"},
		{[]string{"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/9.6/bin"}, "/usr/lib/postgresql/16/bin"},
		{[]string{"/usr/lib/postgresql/weird/bin", "/usr/lib/postgresql/12/bin"}, "/usr/lib/postgresql/12/bin"},
	}
	for _, tt := range tests {
		if got := newestVersionDir(tt.dirs); got != tt.want {
			t.Errorf("newestVersionDir(%v) = %q, want %q", tt.dirs, got, tt.want)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct{ admin, want, wantErr string }{
		{admin: "postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable", want: "postgres://postgres@127.0.0.1:55432/bw_x?sslmode=disable"},
		{admin: "postgresql://u:p@h/", want: "postgresql://u:p@h/bw_x"},
		{admin: "host=127.0.0.1 user=postgres dbname=postgres", want: "host=127.0.0.1 user=postgres dbname=postgres dbname=bw_x"},
		{admin: "mysql://root@h/db", wantErr: "must be a postgres:// URL"},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.admin, "bw_x")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("withDatabase(%q) error = %v, want %q", tt.admin, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tt.admin, got, err, tt.want)
		}
	}
}

func TestRemoveStaleClusters(t *testing.T) {
	// A directory whose owner process is gone is removed; one whose owner
	// is alive (this process) is kept.
	mk := func(pid string) string {
		dir, err := os.MkdirTemp("/tmp", dirPrefix)
		if err != nil {
			t.Skip(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(pid), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dead := mk("2147483646")
	alive := mk(strconv.Itoa(os.Getpid()))
	removeStaleClusters(&cluster{})
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale directory kept: %v", err)
	}
	if _, err := os.Stat(alive); err != nil {
		t.Errorf("live directory removed: %v", err)
	}
}
