package provider

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// Quota warning levels shown to admins and the operator.
const (
	QuotaUnlimited = "unlimited"
	QuotaOK        = "ok"
	QuotaWarning   = "warning" // 80 % or more used
	QuotaExceeded  = "exceeded"
)

// UsageRow is one server's checks for one capability on one UTC day.
type UsageRow struct {
	Day        string
	Capability string
	Count      int64
}

// Quota is a server's monthly quota and how much of it is used.
type Quota struct {
	Used  int64
	Limit int64 // 0: unlimited
	// Percent is Used/Limit rounded down, 0 when unlimited.
	Percent  int
	Level    string
	ResetsAt time.Time
}

func quotaOf(used, limit int64, now time.Time) Quota {
	q := Quota{Used: used, Limit: limit, Level: QuotaUnlimited,
		ResetsAt: time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)}
	if limit <= 0 {
		return q
	}
	q.Percent = int(used * 100 / limit)
	switch {
	case used >= limit:
		q.Level = QuotaExceeded
	case used*5 >= limit*4:
		q.Level = QuotaWarning
	default:
		q.Level = QuotaOK
	}
	return q
}

// Usage lists one server's usage for the last days days (today included),
// oldest first.
func (s *Service) Usage(ctx context.Context, serverID string, days int) ([]UsageRow, error) {
	if days < 1 || days > 400 {
		return nil, fault.Invalid("days", "must be between 1 and 400")
	}
	s.flushUsageForView(ctx)
	from := s.now().AddDate(0, 0, -(days - 1)).Format("2006-01-02")
	rows, err := s.db.UsageRange(ctx, serverID, from)
	if err != nil {
		return nil, fmt.Errorf("read usage of %s: %w", serverID, err)
	}
	out := make([]UsageRow, len(rows))
	for i, r := range rows {
		out[i] = UsageRow{Day: r.Day, Capability: r.Capability, Count: r.Count}
	}
	return out, nil
}

// QuotaStatus is how much of its monthly quota a server has used.
func (s *Service) QuotaStatus(ctx context.Context, serverID string) (Quota, error) {
	srv, err := s.db.GetServer(ctx, serverID)
	if err != nil {
		return Quota{}, dbErr("load server "+serverID, err)
	}
	now := s.now()
	used, err := s.monthUsage(ctx, serverID, now)
	if err != nil {
		return Quota{}, fmt.Errorf("read usage of %s: %w", serverID, err)
	}
	return quotaOf(used, srv.MonthlyQuota, now), nil
}

// SetQuota sets a server's monthly quota of checks (0: unlimited). Checks
// past it are refused with 429 and Retry-After until the next month.
func (s *Service) SetQuota(ctx context.Context, serverID string, quota int64) error {
	if quota < 0 || quota > 1_000_000_000_000 {
		return fault.Invalid("quota", "must be between 0 (unlimited) and 10^12")
	}
	if err := s.db.SetServerQuota(ctx, serverID, quota); err != nil {
		return dbErr("set quota of "+serverID, err)
	}
	s.policies.mu.Lock()
	delete(s.policies.m, serverID)
	s.policies.mu.Unlock()
	return nil
}

// ServerUsage is one server as the operator's usage page shows it.
type ServerUsage struct {
	ServerID string
	Domain   string
	Status   string
	Quota    Quota
}

// NetworkUsage is every server's usage this month, heaviest first.
func (s *Service) NetworkUsage(ctx context.Context) ([]ServerUsage, error) {
	s.flushUsageForView(ctx)
	now := s.now()
	servers, err := s.db.ListServers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	sums, err := s.db.UsageSince(ctx, time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02"))
	if err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	used := map[string]int64{}
	for _, u := range sums {
		used[u.ServerID] = u.Count
	}
	out := make([]ServerUsage, len(servers))
	for i, srv := range servers {
		out[i] = ServerUsage{ServerID: srv.ID, Domain: srv.Domain, Status: srv.Status, Quota: quotaOf(used[srv.ID], srv.MonthlyQuota, now)}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Quota.Used > out[j].Quota.Used })
	return out, nil
}

// flushUsageForView writes this replica's pending usage counts before a
// page reads the usage table, so what an admin sees includes the last
// second's checks. A failure only makes the view a second stale.
func (s *Service) flushUsageForView(ctx context.Context) {
	if err := s.FlushUsage(ctx); err != nil {
		s.opts.Logger.WarnContext(ctx, "write usage counts before a usage page", "error", err)
	}
}
