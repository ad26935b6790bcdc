package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/mastodon"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
	"github.com/breakwater-fasp/breakwater/provider/screening"
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

// mastodonSignup screens a new account and plans what to do on Mastodon.
func (s *Service) mastodonSignup(ctx context.Context, conn *models.MastodonConnection, e *models.MastodonEvent, ev *mastodon.Event) (string, error) {
	if e.CheckID == "" {
		acc, err := mastodon.DecodeAccount(ev.Object)
		if err != nil {
			return "", skip("%s", err.Error())
		}
		in, err := mastodon.SignupInput(acc)
		if err != nil {
			return "", skip("%s", err.Error())
		}
		res, err := s.ScreenSignupFor(ctx, e.ServerID, in)
		if err != nil {
			return "", screenErr(err)
		}
		if err := s.db.SaveMastodonEventCheck(ctx, e.ServerID, e.ID, res.CheckID, res.Decision); err != nil {
			return "", fmt.Errorf("record check of event: %w", err)
		}
		e.CheckID, e.Decision = res.CheckID, res.Decision
	}
	kinds := planSignup(conn, e.Decision, e.AwaitingApproval)
	if err := s.recordMastodonActions(ctx, conn, e, kinds, ""); err != nil {
		return "", err
	}
	return outcome(e.Decision, kinds, conn.DryRun), nil
}

// planSignup decides what a sign-up's decision means on Mastodon. A
// pending account (approval mode) is approved or rejected outright, or left
// pending with a moderator entry and watched for the moderator's decision.
// An account already approved (open registrations) cannot be rejected: a
// review or reject decision gets the moderator entry instead.
func planSignup(conn *models.MastodonConnection, decision string, awaiting bool) []string {
	var kinds []string
	entry := func() {
		switch conn.SignupReview {
		case MastodonReport:
			kinds = append(kinds, models.ActionReport)
		case MastodonNote:
			kinds = append(kinds, models.ActionNote)
		}
	}
	switch {
	case awaiting && decision == screening.Allow:
		kinds = append(kinds, models.ActionApprove)
	case awaiting && decision == screening.Reject:
		kinds = append(kinds, models.ActionReject)
	case decision == screening.Review || decision == screening.Reject:
		entry()
	}
	// Someone else decides a pending account when Breakwater does not (a
	// review, or anything in dry-run): watch for their decision.
	if awaiting && (conn.DryRun || decision == screening.Review) {
		kinds = append(kinds, models.ActionWatch)
	}
	return kinds
}

// mastodonStatus screens a post and plans what to do about it.
func (s *Service) mastodonStatus(ctx context.Context, conn *models.MastodonConnection, e *models.MastodonEvent, ev *mastodon.Event) (string, error) {
	if e.CheckID == "" {
		st, err := mastodon.DecodeStatus(ev.Object)
		if err != nil {
			return "", skip("%s", err.Error())
		}
		in, err := mastodon.ContentInput(st)
		if errors.Is(err, mastodon.ErrBoost) {
			return "a boost: nothing to screen", nil
		}
		if err != nil {
			return "", skip("%s", err.Error())
		}
		res, err := s.ScreenContentFor(ctx, e.ServerID, in)
		if err != nil {
			return "", screenErr(err)
		}
		if err := s.db.SaveMastodonEventCheck(ctx, e.ServerID, e.ID, res.CheckID, res.Decision); err != nil {
			return "", fmt.Errorf("record check of event: %w", err)
		}
		e.CheckID, e.Decision = res.CheckID, res.Decision
	}
	var kinds []string
	switch e.Decision {
	case screening.Reject:
		if conn.PostReject == MastodonReport {
			kinds = []string{models.ActionReport}
		} else {
			kinds = []string{conn.PostReject} // sensitive, silence, suspend: the action kinds share the names
		}
	case screening.Review:
		if conn.PostReview == MastodonReport {
			kinds = []string{models.ActionReport}
		}
	}
	if err := s.recordMastodonActions(ctx, conn, e, kinds, e.ObjectID); err != nil {
		return "", err
	}
	return outcome(e.Decision, kinds, conn.DryRun), nil
}

func outcome(decision string, kinds []string, dryRun bool) string {
	out := "decision " + decision
	if len(kinds) == 0 {
		return out + "; nothing to do on Mastodon"
	}
	if dryRun {
		return out + "; dry run, would: " + strings.Join(kinds, ", ")
	}
	return out + "; actions: " + strings.Join(kinds, ", ")
}

// recordMastodonActions stores the planned actions. In dry-run they are
// recorded as dry_run and never taken; watches run anyway, since they only
// read.
func (s *Service) recordMastodonActions(ctx context.Context, conn *models.MastodonConnection, e *models.MastodonEvent, kinds []string, statusID string) error {
	now := s.now()
	rows := make([]models.MastodonAction, 0, len(kinds))
	for _, k := range kinds {
		a := models.MastodonAction{ServerID: e.ServerID, EventID: e.ID, Kind: k, AccountID: e.AccountID, CheckID: e.CheckID,
			State: models.MastodonPending, NextAttemptAt: now, CreatedAt: now}
		if k == models.ActionReport && statusID != "" {
			a.StatusIDs = statusID
		}
		if k == models.ActionWatch {
			a.NextAttemptAt = now.Add(mastodonWatchEvery)
		} else if conn.DryRun {
			a.State, a.DoneAt = models.MastodonDryRun, &now
		}
		rows = append(rows, a)
	}
	if err := s.db.InsertMastodonActions(ctx, rows); err != nil {
		return fmt.Errorf("record actions: %w", err)
	}
	return nil
}

// runMastodonAction takes one action on Mastodon and records the result.
func (s *Service) runMastodonAction(ctx context.Context, a *models.MastodonAction) {
	log := s.opts.Logger.With("server_id", a.ServerID, "mastodon_action", a.ID, "kind", a.Kind)
	conn, client, err := s.mastodonClient(ctx, a.ServerID)
	if err != nil {
		if ctx.Err() == nil {
			log.ErrorContext(ctx, "mastodon action: no usable connection", "error", err)
			_ = s.db.RetryMastodonAction(ctx, a.ServerID, a.ID, models.MastodonActionResult{Attempts: a.Attempts, Error: "no usable connection"}, s.now().Add(time.Minute))
		}
		return
	}
	if conn.State != models.MastodonActive {
		// Broken since this action was claimed: wait, uncounted, for a new token.
		_ = s.db.RetryMastodonAction(ctx, a.ServerID, a.ID, models.MastodonActionResult{Attempts: a.Attempts, HTTPStatus: a.HTTPStatus, Error: a.LastError}, s.now())
		return
	}
	callCtx, cancel := context.WithTimeout(ctx, mastodonCallTimeout)
	resultID, err := s.callMastodon(callCtx, client, a)
	cancel()
	now := s.now()
	res := models.MastodonActionResult{Attempts: a.Attempts + 1, HTTPStatus: mastodon.StatusOf(err), ResultID: resultID, At: now}
	var ae *mastodon.APIError
	isAPI := errors.As(err, &ae)
	switch {
	case err == nil:
		res.State = models.MastodonDone
		err = s.db.FinishMastodonAction(ctx, a.ServerID, a.ID, res)
	case ctx.Err() != nil:
		return // shutdown: released with the lease, not counted
	case isAPI && ae.Status == http.StatusUnauthorized:
		s.markMastodonBroken(ctx, a.ServerID, "Mastodon answered 401 to a "+a.Kind+": the access token was revoked or expired; run 'breakwater mastodon connect' with a new token")
		res.Attempts, res.Error = a.Attempts, ae.Error()
		err = s.db.RetryMastodonAction(ctx, a.ServerID, a.ID, res, now) // waits, uncounted, for a new token
	case isAPI && (a.Kind == models.ActionApprove || a.Kind == models.ActionReject) &&
		(ae.Status == http.StatusForbidden || ae.Status == http.StatusNotFound):
		// The account was approved, rejected or deleted by a moderator
		// first (or the role may not do it): nothing left to do.
		res.State, res.Error = models.MastodonSkipped, ae.Error()
		log.InfoContext(ctx, "mastodon action not needed any more", "status", ae.Status)
		err = s.db.FinishMastodonAction(ctx, a.ServerID, a.ID, res)
	case (isAPI && ae.Temporary()) || (!isAPI && !errors.Is(err, netguard.ErrBlocked)):
		res.Error = safeCause(err)
		if res.Attempts >= mastodonMaxAttempts {
			res.State = models.MastodonFailed
			log.ErrorContext(ctx, "mastodon action failed, giving up", "attempts", res.Attempts, "error", err)
			err = s.db.FinishMastodonAction(ctx, a.ServerID, a.ID, res)
			break
		}
		wait := backoff(res.Attempts)
		if isAPI && ae.RetryAfter > wait {
			wait = min(ae.RetryAfter, mastodonBackoffMax)
		}
		log.WarnContext(ctx, "mastodon action will be retried", "attempts", res.Attempts, "in", wait, "error", err)
		err = s.db.RetryMastodonAction(ctx, a.ServerID, a.ID, res, now.Add(wait))
	default:
		res.State, res.Error = models.MastodonFailed, safeCause(err)
		log.ErrorContext(ctx, "mastodon action failed", "error", err)
		err = s.db.FinishMastodonAction(ctx, a.ServerID, a.ID, res)
	}
	if err != nil && ctx.Err() == nil {
		log.ErrorContext(ctx, "record mastodon action outcome", "error", err)
	}
}

// callMastodon makes the API call of one action; it returns the id of what
// Mastodon created (a report).
func (s *Service) callMastodon(ctx context.Context, c *mastodon.Client, a *models.MastodonAction) (string, error) {
	switch a.Kind {
	case models.ActionApprove:
		return "", c.Approve(ctx, a.AccountID)
	case models.ActionReject:
		return "", c.Reject(ctx, a.AccountID)
	case models.ActionReport:
		var statuses []string
		if a.StatusIDs != "" {
			statuses = strings.Split(a.StatusIDs, ",")
		}
		return c.FileReport(ctx, mastodon.ReportInput{AccountID: a.AccountID, StatusIDs: statuses, Comment: s.mastodonExplanation(ctx, a)})
	case models.ActionNote:
		return "", c.AddNote(ctx, a.AccountID, s.mastodonExplanation(ctx, a))
	case models.ActionSensitive, models.ActionSilence, models.ActionSuspend:
		return "", c.AccountAction(ctx, a.AccountID, a.Kind, s.mastodonExplanation(ctx, a))
	}
	return "", fmt.Errorf("unknown action kind %q", a.Kind)
}

// mastodonExplanation is what moderators read on Mastodon: the decision,
// the score and each reason, and the check id to look it up in Breakwater.
func (s *Service) mastodonExplanation(ctx context.Context, a *models.MastodonAction) string {
	var b strings.Builder
	b.WriteString("Breakwater")
	rec, err := s.GetCheck(ctx, a.ServerID, a.CheckID)
	if err != nil {
		fmt.Fprintf(&b, " (check %s)", a.CheckID)
		return b.String()
	}
	fmt.Fprintf(&b, ": %s, score %d (check %s).", rec.Decision, rec.Score, rec.CheckID)
	for _, r := range rec.Reasons {
		fmt.Fprintf(&b, " %s (%s, %+d).", strings.TrimSuffix(r.Message, "."), r.Code, r.Weight)
	}
	return b.String()
}

// mastodonClient opens a server's connection for an API call.
func (s *Service) mastodonClient(ctx context.Context, serverID string) (*models.MastodonConnection, *mastodon.Client, error) {
	conn, err := s.db.GetMastodonConnection(ctx, serverID)
	if err != nil {
		return nil, nil, dbErr("load mastodon connection of "+serverID, err)
	}
	token, err := s.box.Open(sealMastodonToken, conn.AccessToken)
	if err != nil {
		return nil, nil, fmt.Errorf("open access token of %s: %w", serverID, err)
	}
	c, err := mastodon.NewClient(conn.APIURL, string(token), s.http)
	if err != nil {
		return nil, nil, fmt.Errorf("mastodon client for %s: %w", serverID, err)
	}
	return conn, c, nil
}

// markMastodonBroken stops acting for a server whose token Mastodon refused,
// and alerts the operator once (status shows it to the admin).
func (s *Service) markMastodonBroken(ctx context.Context, serverID, reason string) {
	changed, err := s.db.MarkMastodonBroken(ctx, serverID, reason, s.now())
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "mark mastodon connection broken", "server_id", serverID, "error", err)
		return
	}
	if changed {
		s.opts.Logger.ErrorContext(ctx, "mastodon connection broken: actions are paused until the admin reconnects",
			"server_id", serverID, "reason", reason)
	}
}

// mastodonApproved turns a moderator's approval of a sign-up Breakwater
// left pending into "ham" feedback. An approval Breakwater made itself, or
// the automatic one of open registrations, says nothing about the check.
func (s *Service) mastodonApproved(ctx context.Context, e *models.MastodonEvent) (string, error) {
	signup, err := s.db.MastodonSignupEvent(ctx, e.ServerID, e.AccountID)
	if errors.Is(err, models.ErrNotFound) {
		return "no sign-up of this account was screened", nil
	}
	if err != nil {
		return "", fmt.Errorf("find sign-up event: %w", err)
	}
	if signup.State == models.MastodonPending {
		return "", errors.New("the sign-up event is not processed yet")
	}
	if !signup.AwaitingApproval || signup.CheckID == "" {
		return "approved without a held sign-up check: no feedback", nil
	}
	actions, err := s.db.MastodonActionsForEvent(ctx, e.ServerID, signup.ID)
	if err != nil {
		return "", fmt.Errorf("load sign-up actions: %w", err)
	}
	for _, a := range actions {
		if a.Kind == models.ActionApprove && a.State == models.MastodonDone {
			return "approved by Breakwater itself: no feedback", nil
		}
	}
	if err := s.mastodonFeedback(ctx, e.ServerID, signup.CheckID, "ham", "approved by a moderator on Mastodon"); err != nil {
		return "", err
	}
	for _, a := range actions {
		if a.Kind == models.ActionWatch && a.State == models.MastodonPending {
			if err := s.closeWatch(ctx, &a, "ham", "approved (account.approved)"); err != nil {
				return "", err
			}
		}
	}
	return "moderator approved a held sign-up: feedback ham", nil
}

// mastodonReport turns the resolution of a report into feedback. On a
// report Breakwater filed: resolved with the account sanctioned
// (suspended, silenced, marked sensitive or disabled) is "spam"; resolved
// without any sanction is "ham", since the moderator saw Breakwater's
// reasons and let the account be. On anyone else's report in the spam
// category resolved with a sanction, the reported posts Breakwater screened
// are "spam". Open reports and other resolutions are noted only.
func (s *Service) mastodonReport(ctx context.Context, e *models.MastodonEvent, ev *mastodon.Event) (string, error) {
	r, err := mastodon.DecodeReport(ev.Object)
	if err != nil {
		return "", skip("%s", err.Error())
	}
	if !r.ActionTaken {
		return "report open: nothing to learn yet", nil
	}
	sanctioned := r.TargetAccount != nil && r.TargetAccount.Sanctioned()
	verdict := "ham"
	if sanctioned {
		verdict = "spam"
	}
	a, err := s.db.MastodonReportAction(ctx, e.ServerID, r.ID)
	switch {
	case err == nil:
		changed, err := s.db.SetMastodonActionFeedback(ctx, e.ServerID, a.ID, verdict)
		if err != nil {
			return "", fmt.Errorf("record report outcome: %w", err)
		}
		if changed && a.CheckID != "" {
			note := "report resolved without sanction on Mastodon"
			if sanctioned {
				note = "report resolved with the account sanctioned on Mastodon"
			}
			if err := s.mastodonFeedback(ctx, e.ServerID, a.CheckID, verdict, note); err != nil {
				return "", err
			}
		}
		return "Breakwater's report resolved: feedback " + verdict, nil
	case !errors.Is(err, models.ErrNotFound):
		return "", fmt.Errorf("find report action: %w", err)
	}
	if r.Category != "spam" || !sanctioned {
		return "resolved report not filed by Breakwater: no feedback", nil
	}
	ids := make([]string, 0, len(r.Statuses))
	for _, st := range r.Statuses {
		if mastodon.ValidID(st.ID) {
			ids = append(ids, st.ID)
		}
	}
	events, err := s.db.MastodonStatusEvents(ctx, e.ServerID, ids)
	if err != nil {
		return "", fmt.Errorf("find reported posts: %w", err)
	}
	for _, se := range events {
		if err := s.mastodonFeedback(ctx, e.ServerID, se.CheckID, "spam", "reported as spam and sanctioned on Mastodon"); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("spam report resolved with a sanction: feedback spam on %d screened post(s)", len(events)), nil
}

// mastodonFeedback records a moderator's outcome through the same path as
// the FASP feedback endpoint; a check erased meanwhile is not an error.
func (s *Service) mastodonFeedback(ctx context.Context, serverID, checkID, verdict, note string) error {
	err := s.RecordFeedback(ctx, serverID, FeedbackInput{CheckID: checkID, Verdict: verdict, Note: note})
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		return fmt.Errorf("record feedback on check %s: %w", checkID, err)
	}
	return nil
}

func (s *Service) closeWatch(ctx context.Context, a *models.MastodonAction, verdict, why string) error {
	if verdict != "" {
		if _, err := s.db.SetMastodonActionFeedback(ctx, a.ServerID, a.ID, verdict); err != nil {
			return fmt.Errorf("record watch outcome: %w", err)
		}
	}
	return s.db.FinishMastodonAction(ctx, a.ServerID, a.ID, models.MastodonActionResult{
		State: models.MastodonDone, Attempts: a.Attempts, Error: why, At: s.now()})
}

// PollMastodonOutcomes looks at the sign-ups a server's moderators still
// have to decide. Mastodon sends account.approved on approval but nothing
// when a pending account is rejected (it is deleted), so the pending list is
// read (following its pagination) and every watched account missing from it
// is fetched: gone (404) means rejected, "spam"; approved means "ham". An
// account a moderator never decides stops being watched after two weeks.
// The worker runs this every ten minutes for servers with open watches.
func (s *Service) PollMastodonOutcomes(ctx context.Context, serverID string) error {
	if err := s.db.PostponeMastodonWatches(ctx, serverID, s.now().Add(mastodonWatchEvery)); err != nil {
		return fmt.Errorf("postpone watches: %w", err)
	}
	return s.pollMastodonOutcomes(ctx, serverID)
}

func (s *Service) pollMastodonOutcomes(ctx context.Context, serverID string) error {
	watches, err := s.db.OpenMastodonWatches(ctx, serverID)
	if err != nil || len(watches) == 0 {
		return err
	}
	now := s.now()
	_, client, err := s.mastodonClient(ctx, serverID)
	if err != nil {
		return err
	}
	pending, _, err := client.PendingAccounts(ctx, mastodonWatchPages)
	if err != nil {
		return s.mastodonPollErr(ctx, serverID, err)
	}
	still := make(map[string]bool, len(pending))
	for _, a := range pending {
		still[a.ID] = true
	}
	for i := range watches {
		w := &watches[i]
		verdict, why := "", ""
		if !still[w.AccountID] {
			acc, err := client.GetAccount(ctx, w.AccountID)
			switch {
			case mastodon.StatusOf(err) == http.StatusNotFound:
				verdict, why = "spam", "rejected by a moderator on Mastodon (the pending account is gone)"
			case err != nil:
				return s.mastodonPollErr(ctx, serverID, err)
			case acc.Approved:
				verdict, why = "ham", "approved by a moderator on Mastodon"
			}
		}
		if verdict == "" { // still pending
			if now.Sub(w.CreatedAt) > mastodonWatchFor {
				if err := s.closeWatch(ctx, w, "", "no moderator decision within two weeks"); err != nil {
					return err
				}
			}
			continue
		}
		if w.CheckID != "" {
			if err := s.mastodonFeedback(ctx, serverID, w.CheckID, verdict, why); err != nil {
				return err
			}
		}
		if err := s.closeWatch(ctx, w, verdict, why); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) mastodonPollErr(ctx context.Context, serverID string, err error) error {
	if mastodon.StatusOf(err) == http.StatusUnauthorized {
		s.markMastodonBroken(ctx, serverID, "Mastodon answered 401 while pending sign-ups were read: the access token was revoked or expired; run 'breakwater mastodon connect' with a new token")
		return nil
	}
	return fmt.Errorf("poll pending accounts of %s: %w", serverID, err)
}
