package provider

import (
	"context"
	"sync"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
)

// usageCounter counts checks in memory and writes them to the usage table
// in batches (every second, and at shutdown). Usage feeds quotas and
// statistics, never decisions; a crash loses at most the last second of
// counts, while the checks themselves are already durable.
type usageCounter struct {
	mu      sync.Mutex
	pending map[models.UsageKey]int64
}

func newUsageCounter() *usageCounter {
	return &usageCounter{pending: map[models.UsageKey]int64{}}
}

func (u *usageCounter) add(serverID, capability string, at time.Time) {
	k := models.UsageKey{ServerID: serverID, Day: at.UTC().Format("2006-01-02"), Capability: capability}
	u.mu.Lock()
	u.pending[k]++
	u.mu.Unlock()
}

// pendingFor is what this replica counted for a server but has not yet
// written, so quota checks are exact on this replica.
func (u *usageCounter) pendingFor(serverID, fromDay string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	var n int64
	for k, c := range u.pending {
		if k.ServerID == serverID && k.Day >= fromDay {
			n += c
		}
	}
	return n
}

// FlushUsage writes the pending usage counts. On failure they are kept for
// the next attempt.
func (s *Service) FlushUsage(ctx context.Context) error {
	s.usage.mu.Lock()
	batch := s.usage.pending
	s.usage.pending = map[models.UsageKey]int64{}
	s.usage.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := s.db.AddUsage(ctx, batch); err != nil {
		s.usage.mu.Lock()
		for k, n := range batch {
			s.usage.pending[k] += n
		}
		s.usage.mu.Unlock()
		return err
	}
	return nil
}

// monthUsage is the server's checks this month: written counts plus this
// replica's pending ones.
func (s *Service) monthUsage(ctx context.Context, serverID string, now time.Time) (int64, error) {
	n, err := s.db.MonthUsage(ctx, serverID, now)
	if err != nil {
		return 0, err
	}
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	return n + s.usage.pendingFor(serverID, start), nil
}
