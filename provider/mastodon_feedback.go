package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/mastodon"
)

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
	pending, _, err := client.PendingAccounts(ctx, 100, mastodonWatchPages)
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
