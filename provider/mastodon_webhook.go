package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/mastodon"
)

// WebhookOutcome says what became of a webhook delivery.
type WebhookOutcome string

// Webhook outcomes; every one is answered with a 2xx so Mastodon stops
// retrying.
const (
	// WebhookQueued: stored, to be processed by the worker.
	WebhookQueued WebhookOutcome = "queued"
	// WebhookDuplicate: the same event was stored before (a retry).
	WebhookDuplicate WebhookOutcome = "duplicate"
	// WebhookIgnored: an event type Breakwater does not handle.
	WebhookIgnored WebhookOutcome = "ignored"
)

// ReceiveMastodonWebhook authenticates a delivery by its X-Hub-Signature
// (HMAC-SHA256 of the raw body with the webhook secret, compared in constant
// time) before reading it, then stores it durably, sealed, for the worker.
// Nothing slow happens here: Mastodon waits for the answer, and one insert
// is all that must be done before a 2xx for the event never to be lost.
func (s *Service) ReceiveMastodonWebhook(ctx context.Context, serverID, signature string, body []byte) (WebhookOutcome, error) {
	if !validID(serverID) {
		return "", fault.ErrNotFound
	}
	conn, err := s.db.GetMastodonConnection(ctx, serverID)
	if errors.Is(err, models.ErrNotFound) {
		return "", fault.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("load mastodon connection: %w: %w", fault.ErrUnavailable, err)
	}
	secret, err := s.box.Open(sealMastodonSecret, conn.WebhookSecret)
	if err != nil {
		return "", fmt.Errorf("open webhook secret of %s: %w", serverID, err)
	}
	if err := mastodon.VerifySignature(secret, signature, body); err != nil {
		var se *mastodon.SignatureError
		if errors.As(err, &se) {
			return "", &fault.Unauthorized{Cause: se.Cause, Message: se.Message}
		}
		return "", err
	}
	srv, err := s.db.GetServer(ctx, serverID)
	if err != nil {
		return "", dbErr("load server "+serverID, err)
	}
	if srv.Status == models.ServerSuspended {
		return "", fault.ErrSuspended
	}
	ev, err := mastodon.ParseEvent(body)
	if errors.Is(err, mastodon.ErrIgnored) {
		return WebhookIgnored, nil
	}
	var pe *mastodon.PayloadError
	if errors.As(err, &pe) {
		return "", &fault.ValidationError{Field: "body", Message: pe.Message}
	}
	if err != nil {
		return "", err
	}
	awaiting := false
	if ev.Type == mastodon.EventAccountCreated {
		acc, err := mastodon.DecodeAccount(ev.Object)
		if err != nil {
			return "", &fault.ValidationError{Field: "body", Message: err.Error()}
		}
		awaiting = !acc.Approved
	}
	sealed, err := s.box.Seal(sealMastodonEvent, body)
	if err != nil {
		return "", fmt.Errorf("seal webhook payload: %w", err)
	}
	now := s.now()
	row := &models.MastodonEvent{
		ServerID: serverID, EventType: ev.Type, ObjectKey: ev.Key, ObjectID: ev.ObjectID, AccountID: ev.AccountID,
		Payload: sealed, State: models.MastodonPending, AwaitingApproval: awaiting, NextAttemptAt: now, ReceivedAt: now,
	}
	inserted, err := s.db.InsertMastodonEvent(ctx, row)
	if err != nil {
		return "", fmt.Errorf("store webhook event: %w: %w", fault.ErrUnavailable, err)
	}
	if !inserted {
		return WebhookDuplicate, nil
	}
	return WebhookQueued, nil
}
