package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Histogram buckets.
const (
	BucketHour = "hour"
	BucketDay  = "day"
)

// DecisionCount is the number of one server's checks with one decision in
// one time bucket. Bucket is the UTC start of the bucket formatted as
// 2006-01-02T15 (hours) or 2006-01-02 (days).
type DecisionCount struct {
	Bucket   string
	Decision string
	Count    int64
}

// bucketExpr is the SQL that formats created_at as a bucket label, per dialect.
func (d *DB) bucketExpr(bucket string) (string, error) {
	switch {
	case d.Dialect == "postgres" && bucket == BucketHour:
		return `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24')`, nil
	case d.Dialect == "postgres" && bucket == BucketDay:
		return `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, nil
	case bucket == BucketHour:
		return `strftime('%Y-%m-%dT%H', created_at)`, nil
	case bucket == BucketDay:
		return `strftime('%Y-%m-%d', created_at)`, nil
	}
	return "", fmt.Errorf("unknown bucket %q", bucket)
}

// ChecksHistogram counts one server's checks since since by bucket and
// decision, oldest bucket first.
func (d *DB) ChecksHistogram(ctx context.Context, serverID string, since time.Time, bucket string) ([]DecisionCount, error) {
	expr, err := d.bucketExpr(bucket)
	if err != nil {
		return nil, err
	}
	var out []DecisionCount
	err = d.WithContext(ctx).Model(&Check{}).
		Select(expr+" AS bucket, decision, COUNT(*) AS count").
		Where("server_id = ? AND created_at >= ?", serverID, since.UTC()).
		Group("bucket, decision").Order("bucket").Scan(&out).Error
	return out, err
}

// RecentReasons returns the reasons JSON of one server's newest checks since
// since (at most limit of them) for counting the most frequent reasons.
func (d *DB) RecentReasons(ctx context.Context, serverID string, since time.Time, limit int) ([]string, error) {
	var out []string
	err := d.WithContext(ctx).Model(&Check{}).Where("server_id = ? AND created_at >= ? AND erased = ?", serverID, since.UTC(), false).
		Order("id DESC").Limit(limit).Pluck("reasons", &out).Error
	return out, err
}

// UsageRange returns one server's usage rows from the day from (inclusive,
// 2006-01-02), oldest first.
func (d *DB) UsageRange(ctx context.Context, serverID, from string) ([]Usage, error) {
	var out []Usage
	err := d.WithContext(ctx).Where("server_id = ? AND day >= ?", serverID, from).Order("day, capability").Find(&out).Error
	return out, err
}

// ServerUsage is one server's total for a period.
type ServerUsage struct {
	ServerID string
	Count    int64
}

// UsageSince sums every server's usage from the day from (inclusive); the
// operator's view across servers.
func (d *DB) UsageSince(ctx context.Context, from string) ([]ServerUsage, error) {
	var out []ServerUsage
	err := d.WithContext(ctx).Model(&Usage{}).Select("server_id, SUM(count) AS count").
		Where("day >= ?", from).Group("server_id").Scan(&out).Error
	return out, err
}

// SetServerQuota sets a server's monthly check quota (0: unlimited).
func (d *DB) SetServerQuota(ctx context.Context, serverID string, quota int64) error {
	res := d.WithContext(ctx).Model(&Server{}).Where("id = ?", serverID).
		Updates(map[string]any{"monthly_quota": quota, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// CheckSearch narrows the admin's check log.
type CheckSearch struct {
	Decision string
	Gate     string
	// Verdict is "spam", "ham", "none" (no verdict yet) or "" (any).
	Verdict string
	// Query matches a check id prefix or a reason code.
	Query string
	// Before is a check id cursor: only older checks.
	Before string
	Limit  int
}

// SearchChecks returns one server's checks matching s, newest first. It asks
// for one more row than the limit so the caller knows whether a next page
// exists.
func (d *DB) SearchChecks(ctx context.Context, serverID string, s CheckSearch) ([]Check, error) {
	q := d.WithContext(ctx).Where("server_id = ?", serverID)
	if s.Decision != "" {
		q = q.Where("decision = ?", s.Decision)
	}
	if s.Gate != "" {
		q = q.Where("gate = ?", s.Gate)
	}
	switch s.Verdict {
	case "spam", "ham":
		q = q.Where("verdict = ?", s.Verdict)
	case "none":
		q = q.Where("(verdict = '' OR verdict IS NULL)")
	}
	if s.Query != "" {
		like := escapeLike(strings.ToLower(s.Query))
		q = q.Where(`(id LIKE ? ESCAPE '\' OR reasons LIKE ? ESCAPE '\')`, like+"%", `%"code":"%`+like+`%`)
	}
	if s.Before != "" {
		q = q.Where("id < ?", s.Before)
	}
	if s.Limit <= 0 || s.Limit > 200 {
		s.Limit = 25
	}
	var out []Check
	err := q.Order("id DESC").Limit(s.Limit + 1).Find(&out).Error
	return out, err
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// NetworkCounts are operator health figures across all servers.
type NetworkCounts struct {
	Servers         int64
	ActiveServers   int64
	ChecksLastHour  int64
	ChecksLastDay   int64
	PendingSignups  int64
	ActiveSessions  int64
	DebugCallsToday int64
}

// CountNetwork gathers the operator's health figures.
func (d *DB) CountNetwork(ctx context.Context, now time.Time) (NetworkCounts, error) {
	var c NetworkCounts
	db := d.WithContext(ctx)
	steps := []struct {
		what string
		run  func() error
	}{
		{"servers", func() error { return db.Model(&Server{}).Count(&c.Servers).Error }},
		{"active servers", func() error {
			return db.Model(&Server{}).Where("status = ?", ServerActive).Count(&c.ActiveServers).Error
		}},
		{"checks last hour", func() error {
			return db.Model(&Check{}).Where("created_at >= ?", now.Add(-time.Hour)).Count(&c.ChecksLastHour).Error
		}},
		{"checks last day", func() error {
			return db.Model(&Check{}).Where("created_at >= ?", now.Add(-24*time.Hour)).Count(&c.ChecksLastDay).Error
		}},
		{"pending registrations", func() error {
			return db.Model(&PendingRegistration{}).Where("status = ?", PendingWaiting).Count(&c.PendingSignups).Error
		}},
		{"sessions", func() error {
			return db.Model(&Session{}).Where("expires_at > ?", now).Count(&c.ActiveSessions).Error
		}},
		{"debug calls", func() error {
			return db.Model(&DebugCall{}).Where("received_at >= ?", now.Add(-24*time.Hour)).Count(&c.DebugCallsToday).Error
		}},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return c, fmt.Errorf("count %s: %w", s.what, err)
		}
	}
	return c, nil
}
