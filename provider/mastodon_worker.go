package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/mastodon"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
)

// The worker's pace. Events are polled from the database (not handed over
// in memory) so that any replica may process what another received, and
// what was queued before a restart is picked up after it.
const (
	mastodonPollEvery   = time.Second
	mastodonLease       = 2 * time.Minute
	mastodonCallTimeout = time.Minute // well inside the lease
	mastodonBatch       = 20
	mastodonMaxAttempts = 10
	mastodonBackoffBase = 2 * time.Second
	mastodonBackoffMax  = time.Hour
	// Sign-ups left to a moderator are looked at this often, for this long.
	mastodonWatchEvery = 10 * time.Minute
	mastodonWatchFor   = 14 * 24 * time.Hour
	mastodonWatchPages = 20
)

// StartMastodonWorker runs the webhook queue until Close: it screens stored
// events, takes the resulting actions on Mastodon, and turns moderators'
// outcomes into feedback. Start calls it.
func (s *Service) StartMastodonWorker() {
	w := &mastodonWorker{s: s, id: "w" + models.NewID(s.now())[14:]}
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		w.run()
	}()
}

type mastodonWorker struct {
	s  *Service
	id string
}

func (w *mastodonWorker) run() {
	ctx, cancel := context.WithCancel(w.s.bgCtx)
	defer cancel()
	go func() {
		select {
		case <-w.s.stopJobs:
			cancel() // in-flight calls to Mastodon stop at shutdown; their rows are released below
		case <-ctx.Done():
		}
	}()
	defer func() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer rcancel()
		if err := w.s.db.ReleaseMastodonLeases(rctx, w.id); err != nil {
			w.s.opts.Logger.Warn("release mastodon queue leases", "error", err)
		}
	}()
	tick := time.NewTicker(mastodonPollEvery)
	defer tick.Stop()
	var pruned time.Time
	for {
		w.s.runMastodonQueue(ctx, w.id)
		if now := w.s.now(); now.Sub(pruned) > time.Hour {
			pruned = now
			w.s.pruneMastodon(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pruneMastodon applies the check retention period to the webhook queue
// and the action history.
func (s *Service) pruneMastodon(ctx context.Context) {
	n, err := s.db.PruneMastodon(ctx, s.now().Add(-s.opts.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		s.opts.Logger.WarnContext(ctx, "prune mastodon queue", "error", err)
	case n > 0:
		s.opts.Logger.InfoContext(ctx, "retention: mastodon events and actions deleted", "rows", n)
	}
}

// runMastodonQueue does one round: due events, then due actions, then due
// outcome polls.
func (s *Service) runMastodonQueue(ctx context.Context, worker string) {
	log := s.opts.Logger
	for ctx.Err() == nil {
		events, err := s.db.ClaimMastodonEvents(ctx, s.claim(worker, mastodonBatch))
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "claim mastodon events", "error", err)
			}
			return
		}
		for i := range events {
			s.processMastodonEvent(ctx, &events[i])
		}
		if len(events) < mastodonBatch {
			break
		}
	}
	// Actions are claimed one at a time: each may wait on Mastodon for up
	// to mastodonCallTimeout, and a lease must outlast the work it covers,
	// or another replica would take the same action.
	for ctx.Err() == nil {
		actions, err := s.db.ClaimMastodonActions(ctx, s.claim(worker, 1))
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "claim mastodon actions", "error", err)
			}
			return
		}
		if len(actions) == 0 {
			break
		}
		s.runMastodonAction(ctx, &actions[0])
	}
	servers, err := s.db.MastodonServersToPoll(ctx, s.now())
	if err != nil {
		if ctx.Err() == nil {
			log.WarnContext(ctx, "list mastodon watches", "error", err)
		}
		return
	}
	for _, id := range servers {
		now := s.now()
		mine, err := s.db.ClaimMastodonWatches(ctx, id, now, now.Add(mastodonWatchEvery))
		if err == nil && mine {
			err = s.pollMastodonOutcomes(ctx, id)
		}
		if err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "poll mastodon outcomes", "server_id", id, "error", err)
		}
	}
}

func (s *Service) claim(worker string, limit int) models.Claim {
	return models.Claim{Worker: worker, Now: s.now(), Lease: mastodonLease, Limit: limit}
}

// backoff is the delay before attempt n+1: 2 s doubling, at most an hour.
func backoff(attempts int) time.Duration {
	d := mastodonBackoffBase
	for i := 1; i < attempts && d < mastodonBackoffMax; i++ {
		d *= 2
	}
	return min(d, mastodonBackoffMax)
}

// errSkip marks an event or action that can never succeed (bad payload,
// account gone): it is recorded as skipped, with a reason, and not retried.
type errSkip struct{ reason string }

func (e *errSkip) Error() string { return e.reason }

func skip(format string, args ...any) error { return &errSkip{reason: fmt.Sprintf(format, args...)} }

// processMastodonEvent handles one claimed event and records how it ended.
func (s *Service) processMastodonEvent(ctx context.Context, e *models.MastodonEvent) {
	log := s.opts.Logger.With("server_id", e.ServerID, "mastodon_event", e.ID, "event", e.EventType)
	outcome, err := s.handleMastodonEvent(ctx, e)
	now := s.now()
	var sk *errSkip
	switch {
	case err == nil:
		err = s.db.CompleteMastodonEvent(ctx, e.ServerID, e.ID, models.MastodonDone, outcome, now)
	case errors.As(err, &sk):
		log.InfoContext(ctx, "mastodon event skipped", "reason", sk.reason)
		err = s.db.CompleteMastodonEvent(ctx, e.ServerID, e.ID, models.MastodonSkipped, sk.reason, now)
	case ctx.Err() != nil:
		return // shutting down: the lease is released and the event retried elsewhere
	case e.Attempts+1 >= mastodonMaxAttempts:
		log.ErrorContext(ctx, "mastodon event failed, giving up", "attempts", e.Attempts+1, "error", err)
		err = s.db.CompleteMastodonEvent(ctx, e.ServerID, e.ID, models.MastodonFailed, "gave up: "+safeCause(err), now)
	default:
		log.WarnContext(ctx, "mastodon event will be retried", "attempts", e.Attempts+1, "error", err)
		err = s.db.RetryMastodonEvent(ctx, e.ServerID, e.ID, e.Attempts+1, now.Add(backoff(e.Attempts+1)), "retrying: "+safeCause(err))
	}
	if err != nil && ctx.Err() == nil {
		log.ErrorContext(ctx, "record mastodon event outcome", "error", err)
	}
}

// safeCause describes an error for storage without personal data: typed
// domain errors by kind, anything else generically (the log has the rest).
func safeCause(err error) string {
	var ve *fault.ValidationError
	var up *fault.Upstream
	var ae *mastodon.APIError
	switch {
	case errors.As(err, &ve):
		return "invalid field " + ve.Field
	case errors.As(err, &ae):
		return ae.Error()
	case errors.As(err, &up):
		return up.Message
	case errors.Is(err, fault.ErrUnavailable):
		return "storage temporarily unavailable"
	case errors.Is(err, netguard.ErrBlocked):
		return "the Mastodon address is blocked (private network)"
	}
	return "temporary error"
}

func (s *Service) handleMastodonEvent(ctx context.Context, e *models.MastodonEvent) (string, error) {
	conn, err := s.db.GetMastodonConnection(ctx, e.ServerID)
	if errors.Is(err, models.ErrNotFound) {
		return "", skip("the server is no longer connected")
	}
	if err != nil {
		return "", fmt.Errorf("load connection: %w", err)
	}
	var ev *mastodon.Event
	if e.Payload != "" {
		body, err := s.box.Open(sealMastodonEvent, e.Payload)
		if err != nil {
			return "", skip("the stored payload cannot be opened with the current secret key")
		}
		if ev, err = mastodon.ParseEvent(body); err != nil {
			return "", skip("payload: %s", err.Error())
		}
	}
	if ev == nil {
		return "", skip("no payload")
	}
	switch e.EventType {
	case mastodon.EventAccountCreated:
		return s.mastodonSignup(ctx, conn, e, ev)
	case mastodon.EventStatusCreated, mastodon.EventStatusUpdated:
		return s.mastodonStatus(ctx, conn, e, ev)
	case mastodon.EventAccountApproved:
		return s.mastodonApproved(ctx, e)
	case mastodon.EventReportCreated, mastodon.EventReportUpdated:
		return s.mastodonReport(ctx, e, ev)
	}
	return "", skip("event type %s is not handled", e.EventType)
}

// screenErr sorts screening failures: a payload the engine refuses, a
// server gone or out of quota will not get better by retrying.
func screenErr(err error) error {
	var ve *fault.ValidationError
	var rl *fault.RateLimited
	switch {
	case errors.As(err, &ve):
		return skip("the screening engine refused the mapped input (%s)", ve.Field)
	case errors.Is(err, fault.ErrNotFound):
		return skip("the server is no longer registered")
	case errors.As(err, &rl):
		return skip("the server's monthly quota of checks is used up")
	}
	return err
}
