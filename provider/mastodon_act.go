package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/mastodon"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

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
		if err := s.refineAccountAge(ctx, e, &in); err != nil {
			return "", err
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

// refineAccountAge corrects the author's age: REST::Account rounds
// created_at down to midnight, which makes an account opened minutes ago
// look hours old. When Breakwater received the account's sign-up, that
// moment is the better creation time.
func (s *Service) refineAccountAge(ctx context.Context, e *models.MastodonEvent, in *screening.ContentInput) error {
	signup, err := s.db.MastodonSignupEvent(ctx, e.ServerID, e.AccountID)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the author's sign-up: %w", err)
	}
	if signup.ReceivedAt.After(in.Author.CreatedAt) && signup.ReceivedAt.Sub(in.Author.CreatedAt) < 24*time.Hour {
		in.Author.CreatedAt = signup.ReceivedAt
	}
	return nil
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
