package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

const learningStateID = "engine"

// Start rebuilds the engine's in-memory windows and learned state from the
// database, then runs the background jobs (retention, pruning, saving
// learned state) until Close.
func (s *Service) Start(ctx context.Context) error {
	started := time.Now()
	if data, err := s.db.LoadLearning(ctx, learningStateID); err != nil {
		return fmt.Errorf("load learned state: %w", err)
	} else if data != "" {
		if err := s.engine.ImportLearning([]byte(data)); err != nil {
			s.opts.Logger.ErrorContext(ctx, "learned state unreadable, starting without it", "error", err)
		}
	}
	n := 0
	since := s.now().Add(-14 * 24 * time.Hour)
	err := s.db.EachRecentCheck(ctx, since, func(c *models.Check) error {
		if c.Features == "" {
			return nil
		}
		var f screening.Features
		if err := json.Unmarshal([]byte(c.Features), &f); err != nil {
			return nil // an unreadable row must not stop the service; it only loses its window entry
		}
		s.seen.add(c.ID)
		s.engine.Observe(c.ServerID, f, c.CreatedAt, c.Decision)
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild screening windows: %w", err)
	}
	s.opts.Logger.InfoContext(ctx, "screening state rebuilt", "checks", n, "took", time.Since(started).Round(time.Millisecond))
	if err := s.startCampaigns(ctx); err != nil { // campaigns.go: load campaigns, start their jobs
		return err
	}
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		s.janitor()
	}()
	if s.opts.DatabaseURL != "" {
		lctx, cancel := context.WithCancel(context.Background())
		s.stopListen = cancel
		s.jobs.Add(2)
		go func() {
			defer s.jobs.Done()
			s.listen(lctx)
		}()
		go func() {
			defer s.jobs.Done()
			s.announcer(lctx)
		}()
	}
	s.StartMastodonWorker()
	return nil
}

// janitor runs the periodic jobs: retention of check details, forgetting
// replay-protection entries, pruning engine windows, saving learned state.
func (s *Service) janitor() {
	ctx := s.bgCtx
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	minutely := time.NewTicker(time.Minute)
	defer minutely.Stop()
	secondly := time.NewTicker(time.Second)
	defer secondly.Stop()
	// In-memory windows are pruned often, so memory follows the windows'
	// spans rather than growing for an hour between prunes.
	pruning := time.NewTicker(5 * time.Minute)
	defer pruning.Stop()
	final := func() {
		s.saveLearning(context.WithoutCancel(ctx))
		if err := s.FlushUsage(context.WithoutCancel(ctx)); err != nil {
			s.opts.Logger.Error("write usage counts at shutdown", "error", err)
		}
	}
	s.runRetention(ctx)
	for {
		select {
		case <-s.stopJobs:
			final()
			return
		case <-pruning.C:
			if s.engine != nil {
				s.engine.Prune()
			}
		case <-secondly.C:
			if err := s.FlushUsage(ctx); err != nil {
				s.opts.Logger.Warn("write usage counts", "error", err)
			}
		case <-s.learnDirty:
			s.saveLearning(ctx)
			// at most one save every few seconds
			select {
			case <-time.After(5 * time.Second):
			case <-s.stopJobs:
				final()
				return
			}
		case <-minutely.C:
			if _, err := s.db.PruneSignatures(ctx, s.now()); err != nil {
				s.opts.Logger.Warn("prune seen signatures", "error", err)
			}
		case <-hourly.C:
			s.runRetention(ctx)
		}
	}
}

// RunRetention erases check details older than the retention period and
// prunes in-memory windows; it returns how many checks were erased.
func (s *Service) RunRetention(ctx context.Context) (int64, error) {
	n, err := s.db.ExpireCheckDetails(ctx, s.now().Add(-s.opts.Retention))
	if err != nil {
		return n, fmt.Errorf("expire check details: %w", err)
	}
	if _, err := s.db.PruneDebugCalls(ctx, s.now().Add(-s.opts.Retention)); err != nil {
		return n, fmt.Errorf("prune debug call logs: %w", err)
	}
	if s.engine != nil {
		s.engine.Prune()
	}
	return n, nil
}

func (s *Service) runRetention(ctx context.Context) {
	n, err := s.RunRetention(ctx)
	if err != nil {
		s.opts.Logger.Error("retention job", "error", err)
		return
	}
	if n > 0 {
		s.opts.Logger.Info("retention: check details erased", "checks", n)
	}
}

func (s *Service) saveLearningSoon() {
	select {
	case s.learnDirty <- struct{}{}:
	default:
	}
}

func (s *Service) saveLearning(ctx context.Context) {
	if s.engine == nil {
		return
	}
	data, err := s.engine.ExportLearning()
	if err != nil {
		s.opts.Logger.Error("export learned state", "error", err)
		return
	}
	if err := s.db.SaveLearning(ctx, learningStateID, string(data), s.now()); err != nil {
		s.opts.Logger.Error("save learned state", "error", err)
	}
}
