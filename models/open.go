// Package models holds Breakwater's storage: gorm models, the queries the
// domain needs (each about one customer server takes its server id), and the
// versioned migrations. PostgreSQL is the production database; an embedded
// pure-Go SQLite file is the default so that a first run needs nothing.
package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3/gormlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Options says which database to open.
type Options struct {
	// URL is a postgres:// URL; empty selects the embedded SQLite file.
	URL string
	// SQLitePath is the SQLite file used when URL is empty.
	SQLitePath string
	// MaxOpenConns bounds the PostgreSQL pool (default 32).
	MaxOpenConns int
	// Logger receives slow-query warnings; nil discards them.
	Logger *slog.Logger
}

// DB is an open database with its dialect.
type DB struct {
	*gorm.DB
	// Dialect is "postgres" or "sqlite".
	Dialect string
	// async is a small second pool on PostgreSQL whose commits do not wait
	// for the WAL flush (synchronous_commit=off), for records whose loss in
	// a crash costs little (replay-protection entries); nil on SQLite.
	async *gorm.DB
}

// Open connects to the database Options names. It does not migrate.
func Open(ctx context.Context, opts Options) (*DB, error) {
	cfg := &gorm.Config{
		SkipDefaultTransaction: true,
		Logger:                 newLogger(opts.Logger),
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var (
		db      *gorm.DB
		err     error
		dialect string
	)
	switch {
	case strings.HasPrefix(opts.URL, "postgres://"), strings.HasPrefix(opts.URL, "postgresql://"):
		dialect = "postgres"
		db, err = gorm.Open(postgres.New(postgres.Config{DSN: opts.URL}), cfg)
	case opts.URL == "":
		dialect = "sqlite"
		if opts.SQLitePath == "" {
			return nil, errors.New("open database: no database URL and no SQLite path")
		}
		if dir := filepath.Dir(opts.SQLitePath); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create data directory %s: %w", dir, err)
			}
		}
		// The file: prefix is required, or the driver silently ignores the pragmas.
		dsn := "file:" + opts.SQLitePath +
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
		db, err = gorm.Open(gormlite.Open(dsn), cfg)
	default:
		return nil, fmt.Errorf("open database: unsupported URL scheme in %q (want postgres:// or empty for SQLite)", redactURL(opts.URL))
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if dialect == "postgres" {
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 32
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		// SQLite has one writer; a small pool avoids busy waits while WAL
		// still lets readers run beside the writer.
		sqlDB.SetMaxOpenConns(4)
		sqlDB.SetMaxIdleConns(4)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	out := &DB{DB: db, Dialect: dialect}
	if dialect == "postgres" {
		sep := "?"
		if strings.Contains(opts.URL, "?") {
			sep = "&"
		}
		async, err := gorm.Open(postgres.New(postgres.Config{DSN: opts.URL + sep + "synchronous_commit=off"}), cfg)
		if err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("open asynchronous-commit pool: %w", err)
		}
		if adb, err := async.DB(); err == nil {
			adb.SetMaxOpenConns(8)
			adb.SetMaxIdleConns(8)
		}
		out.async = async
	}
	return out, nil
}

// Close releases the connection pools.
func (d *DB) Close() error {
	if d.async != nil {
		if a, err := d.async.DB(); err == nil {
			_ = a.Close()
		}
	}
	sqlDB, err := d.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping reports whether the database answers, for readiness checks.
func (d *DB) Ping(ctx context.Context) error {
	sqlDB, err := d.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// redactURL hides a password in a database URL before it reaches a message.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	userinfo := u[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return u[:scheme+3] + userinfo[:i] + ":***" + u[at:]
	}
	return u
}

type slogLogger struct {
	l    *slog.Logger
	slow time.Duration
}

func newLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	return &slogLogger{l: l, slow: 500 * time.Millisecond}
}

func (s *slogLogger) LogMode(logger.LogLevel) logger.Interface { return s }
func (s *slogLogger) Info(ctx context.Context, msg string, args ...any) {
	s.l.DebugContext(ctx, fmt.Sprintf(msg, args...))
}
func (s *slogLogger) Warn(ctx context.Context, msg string, args ...any) {
	s.l.WarnContext(ctx, fmt.Sprintf(msg, args...))
}
func (s *slogLogger) Error(ctx context.Context, msg string, args ...any) {
	s.l.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}

// Trace logs slow queries only, without their arguments (they may hold
// hashes of personal data; never log values).
func (s *slogLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if d := time.Since(begin); d > s.slow {
		s.l.WarnContext(ctx, "slow query", "duration", d)
	}
}
