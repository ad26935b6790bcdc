package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// DecisionBucket is how many checks got each decision in one hour or day.
type DecisionBucket struct {
	Start  time.Time
	Allow  int64
	Review int64
	Reject int64
}

// Total is the bucket's number of checks.
func (b DecisionBucket) Total() int64 { return b.Allow + b.Review + b.Reject }

// ReasonCount is how often a reason code appeared, with a recent message.
type ReasonCount struct {
	Code    string
	Message string
	Count   int
}

// GateDay is one day's sign-up and post checks.
type GateDay struct {
	Day     time.Time
	Signups int64
	Posts   int64
}

// Overview is the admin's dashboard.
type Overview struct {
	// Hourly covers the last 24 hours, Daily the last 30 days, oldest first;
	// buckets without checks are present with zeros.
	Hourly     []DecisionBucket
	Daily      []DecisionBucket
	TopReasons []ReasonCount
	Gates      []GateDay
	// Last24h sums Hourly.
	Last24h DecisionBucket
	Quota   Quota
}

// reasonSample bounds how many recent checks the top reasons are counted
// from, so the dashboard stays cheap for busy servers.
const reasonSample = 5000

// Overview builds one server's dashboard.
func (s *Service) Overview(ctx context.Context, serverID string) (*Overview, error) {
	now := s.now()
	hourStart := now.Truncate(time.Hour).Add(-23 * time.Hour)
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -29)
	ov := &Overview{}
	var err error
	if ov.Hourly, err = s.histogram(ctx, serverID, hourStart, 24, time.Hour, models.BucketHour, "2006-01-02T15"); err != nil {
		return nil, err
	}
	if ov.Daily, err = s.histogram(ctx, serverID, dayStart, 30, 24*time.Hour, models.BucketDay, "2006-01-02"); err != nil {
		return nil, err
	}
	for _, b := range ov.Hourly {
		ov.Last24h.Allow += b.Allow
		ov.Last24h.Review += b.Review
		ov.Last24h.Reject += b.Reject
	}
	if ov.TopReasons, err = s.topReasons(ctx, serverID, dayStart, 10); err != nil {
		return nil, err
	}
	if ov.Gates, err = s.gateDays(ctx, serverID, dayStart, 30); err != nil {
		return nil, err
	}
	if ov.Quota, err = s.QuotaStatus(ctx, serverID); err != nil {
		return nil, err
	}
	return ov, nil
}

func (s *Service) histogram(ctx context.Context, serverID string, start time.Time, n int, step time.Duration, bucket, layout string) ([]DecisionBucket, error) {
	rows, err := s.db.ChecksHistogram(ctx, serverID, start, bucket)
	if err != nil {
		return nil, fmt.Errorf("count checks of %s by %s: %w", serverID, bucket, err)
	}
	out := make([]DecisionBucket, n)
	index := map[string]int{}
	for i := range out {
		out[i].Start = start.Add(time.Duration(i) * step)
		index[out[i].Start.Format(layout)] = i
	}
	for _, r := range rows {
		i, ok := index[r.Bucket]
		if !ok {
			continue
		}
		switch r.Decision {
		case screening.Allow:
			out[i].Allow += r.Count
		case screening.Review:
			out[i].Review += r.Count
		case screening.Reject:
			out[i].Reject += r.Count
		}
	}
	return out, nil
}

func (s *Service) topReasons(ctx context.Context, serverID string, since time.Time, n int) ([]ReasonCount, error) {
	raw, err := s.db.RecentReasons(ctx, serverID, since, reasonSample)
	if err != nil {
		return nil, fmt.Errorf("read reasons of %s: %w", serverID, err)
	}
	counts := map[string]*ReasonCount{}
	for _, r := range raw {
		var reasons []screening.Reason
		if r == "" || json.Unmarshal([]byte(r), &reasons) != nil {
			continue
		}
		for _, rs := range reasons {
			c := counts[rs.Code]
			if c == nil {
				c = &ReasonCount{Code: rs.Code, Message: rs.Message}
				counts[rs.Code] = c
			}
			c.Count++
		}
	}
	out := make([]ReasonCount, 0, len(counts))
	for _, c := range counts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Code < out[j].Code
	})
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

func (s *Service) gateDays(ctx context.Context, serverID string, start time.Time, n int) ([]GateDay, error) {
	s.flushUsageForView(ctx)
	rows, err := s.db.UsageRange(ctx, serverID, start.Format("2006-01-02"))
	if err != nil {
		return nil, fmt.Errorf("read usage of %s: %w", serverID, err)
	}
	out := make([]GateDay, n)
	index := map[string]int{}
	for i := range out {
		out[i].Day = start.AddDate(0, 0, i)
		index[out[i].Day.Format("2006-01-02")] = i
	}
	for _, r := range rows {
		i, ok := index[r.Day]
		if !ok {
			continue
		}
		switch r.Capability {
		case CapSignupScreening:
			out[i].Signups += r.Count
		case CapContentScreening:
			out[i].Posts += r.Count
		}
	}
	return out, nil
}
