package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SaveMastodonConnection creates or replaces a server's Mastodon connection.
// Saving always makes it active again: a new token is how an admin repairs a
// broken one.
func (d *DB) SaveMastodonConnection(ctx context.Context, c *MastodonConnection) error {
	c.State, c.BrokenReason, c.BrokenAt = MastodonActive, "", nil
	return d.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "server_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"api_url", "access_token", "webhook_secret", "scopes", "dry_run",
			"signup_review", "post_reject", "post_review", "state", "broken_reason", "broken_at", "updated_at"}),
	}).Create(c).Error
}

// GetMastodonConnection loads a server's connection.
func (d *DB) GetMastodonConnection(ctx context.Context, serverID string) (*MastodonConnection, error) {
	var c MastodonConnection
	if err := d.WithContext(ctx).Where("server_id = ?", serverID).Take(&c).Error; err != nil {
		return nil, notFound(err)
	}
	return &c, nil
}

// SetMastodonWebhookSecret replaces the sealed webhook secret.
func (d *DB) SetMastodonWebhookSecret(ctx context.Context, serverID, sealed string, at time.Time) error {
	res := d.WithContext(ctx).Model(&MastodonConnection{}).Where("server_id = ?", serverID).
		Updates(map[string]any{"webhook_secret": sealed, "updated_at": at})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// MarkMastodonBroken records that Mastodon refused the token. It reports
// whether the connection was active until now, so the alert is raised once.
func (d *DB) MarkMastodonBroken(ctx context.Context, serverID, reason string, at time.Time) (bool, error) {
	res := d.WithContext(ctx).Model(&MastodonConnection{}).
		Where("server_id = ? AND state = ?", serverID, MastodonActive).
		Updates(map[string]any{"state": MastodonBroken, "broken_reason": reason, "broken_at": at, "updated_at": at})
	return res.RowsAffected == 1, res.Error
}

// DeleteMastodonConnection removes a server's connection with its queued
// events and recorded actions, which hold personal data it no longer needs.
func (d *DB) DeleteMastodonConnection(ctx context.Context, serverID string) error {
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, m := range []any{&MastodonAction{}, &MastodonEvent{}} {
			if err := tx.Where("server_id = ?", serverID).Delete(m).Error; err != nil {
				return fmt.Errorf("delete %T: %w", m, err)
			}
		}
		res := tx.Where("server_id = ?", serverID).Delete(&MastodonConnection{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// InsertMastodonEvent stores an accepted delivery. It reports false, without
// error, when the same event (server, type, object key) is already stored:
// Mastodon delivers at least once.
func (d *DB) InsertMastodonEvent(ctx context.Context, e *MastodonEvent) (bool, error) {
	res := d.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "server_id"}, {Name: "event_type"}, {Name: "object_key"}},
		DoNothing: true,
	}).Create(e)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// Claim is what a worker takes from a queue: who it is, when, for how long.
// A crashed worker's rows become claimable again when the lease runs out.
type Claim struct {
	Worker string
	Now    time.Time
	Lease  time.Duration
	Limit  int
}

// ClaimMastodonEvents leases due pending events of every server, oldest
// first. It is the queue, so unlike other queries it spans servers. On
// PostgreSQL, SELECT … FOR UPDATE SKIP LOCKED lets replicas share the queue
// without taking the same row; SQLite has one writer at a time.
func (d *DB) ClaimMastodonEvents(ctx context.Context, c Claim) ([]MastodonEvent, error) {
	var out []MastodonEvent
	err := d.claim(ctx, &MastodonEvent{}, c, func(q *gorm.DB) *gorm.DB {
		return q.Where("state = ?", MastodonPending)
	}, &out)
	return out, err
}

// ClaimMastodonActions leases due pending actions of servers whose
// connection is active; a broken connection's actions wait for a new token.
// Watches are not claimed here: the outcome poller follows them.
func (d *DB) ClaimMastodonActions(ctx context.Context, c Claim) ([]MastodonAction, error) {
	var out []MastodonAction
	err := d.claim(ctx, &MastodonAction{}, c, func(q *gorm.DB) *gorm.DB {
		active := d.WithContext(ctx).Model(&MastodonConnection{}).Select("server_id").Where("state = ?", MastodonActive)
		return q.Where("state = ? AND kind <> ? AND server_id IN (?)", MastodonPending, ActionWatch, active)
	}, &out)
	return out, err
}

func (d *DB) claim(ctx context.Context, model any, c Claim, scope func(*gorm.DB) *gorm.DB, dest any) error {
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := scope(tx.Model(model)).
			Where("next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)", c.Now, c.Now).
			Order("id").Limit(c.Limit)
		if d.Dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var ids []uint64
		if err := q.Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("select due rows: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if err := tx.Model(model).Where("id IN ?", ids).
			Updates(map[string]any{"locked_by": c.Worker, "locked_until": c.Now.Add(c.Lease)}).Error; err != nil {
			return fmt.Errorf("lease rows: %w", err)
		}
		return tx.Where("id IN ?", ids).Order("id").Find(dest).Error
	})
}

// ReleaseMastodonLeases gives back every row a worker still holds (at
// shutdown), so another worker need not wait for the lease to expire.
func (d *DB) ReleaseMastodonLeases(ctx context.Context, worker string) error {
	for _, m := range []any{&MastodonEvent{}, &MastodonAction{}} {
		if err := d.WithContext(ctx).Model(m).Where("locked_by = ?", worker).
			Updates(map[string]any{"locked_by": "", "locked_until": nil}).Error; err != nil {
			return fmt.Errorf("release %T leases: %w", m, err)
		}
	}
	return nil
}

// SaveMastodonEventCheck records the check an event was screened into, before
// acting on it, so that a retry never screens the same event twice.
func (d *DB) SaveMastodonEventCheck(ctx context.Context, serverID string, id uint64, checkID, decision string) error {
	return d.WithContext(ctx).Model(&MastodonEvent{}).Where("id = ? AND server_id = ?", id, serverID).
		Updates(map[string]any{"check_id": checkID, "decision": decision}).Error
}

// CompleteMastodonEvent ends an event's processing (done, skipped or
// failed), erases its payload and releases it.
func (d *DB) CompleteMastodonEvent(ctx context.Context, serverID string, id uint64, state, outcome string, at time.Time) error {
	return d.WithContext(ctx).Model(&MastodonEvent{}).Where("id = ? AND server_id = ?", id, serverID).
		Updates(map[string]any{"state": state, "outcome": outcome, "processed_at": at, "payload": "",
			"locked_by": "", "locked_until": nil}).Error
}

// RetryMastodonEvent puts an event back in the queue for later.
func (d *DB) RetryMastodonEvent(ctx context.Context, serverID string, id uint64, attempts int, next time.Time, outcome string) error {
	return d.WithContext(ctx).Model(&MastodonEvent{}).Where("id = ? AND server_id = ?", id, serverID).
		Updates(map[string]any{"attempts": attempts, "next_attempt_at": next, "outcome": outcome,
			"locked_by": "", "locked_until": nil}).Error
}

// MastodonSignupEvent finds the account.created event of one account.
func (d *DB) MastodonSignupEvent(ctx context.Context, serverID, accountID string) (*MastodonEvent, error) {
	var e MastodonEvent
	err := d.WithContext(ctx).Where("server_id = ? AND account_id = ? AND event_type = ?", serverID, accountID, "account.created").
		Order("id").Take(&e).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &e, nil
}

// MastodonStatusEvents finds the screened status events of some statuses.
func (d *DB) MastodonStatusEvents(ctx context.Context, serverID string, statusIDs []string) ([]MastodonEvent, error) {
	var out []MastodonEvent
	if len(statusIDs) == 0 {
		return out, nil
	}
	err := d.WithContext(ctx).Where("server_id = ? AND object_id IN ? AND event_type IN ? AND check_id <> ''",
		serverID, statusIDs, []string{"status.created", "status.updated"}).Order("id").Find(&out).Error
	return out, err
}

// InsertMastodonActions records planned actions; an action already recorded
// for the same event and kind is left as it is.
func (d *DB) InsertMastodonActions(ctx context.Context, actions []MastodonAction) error {
	if len(actions) == 0 {
		return nil
	}
	return d.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "server_id"}, {Name: "event_id"}, {Name: "kind"}},
		DoNothing: true,
	}).Create(&actions).Error
}

// MastodonActionResult is how an action ended.
type MastodonActionResult struct {
	State      string
	Attempts   int
	HTTPStatus int
	Error      string
	ResultID   string
	At         time.Time
}

// FinishMastodonAction records an action's end (done, skipped, failed).
func (d *DB) FinishMastodonAction(ctx context.Context, serverID string, id uint64, r MastodonActionResult) error {
	return d.WithContext(ctx).Model(&MastodonAction{}).Where("id = ? AND server_id = ?", id, serverID).
		Updates(map[string]any{"state": r.State, "attempts": r.Attempts, "http_status": r.HTTPStatus,
			"last_error": r.Error, "result_id": r.ResultID, "done_at": r.At, "locked_by": "", "locked_until": nil}).Error
}

// RetryMastodonAction schedules another attempt of an action.
func (d *DB) RetryMastodonAction(ctx context.Context, serverID string, id uint64, r MastodonActionResult, next time.Time) error {
	return d.WithContext(ctx).Model(&MastodonAction{}).Where("id = ? AND server_id = ?", id, serverID).
		Updates(map[string]any{"attempts": r.Attempts, "http_status": r.HTTPStatus, "last_error": r.Error,
			"next_attempt_at": next, "locked_by": "", "locked_until": nil}).Error
}

// MastodonActionsForEvent lists the actions one event caused.
func (d *DB) MastodonActionsForEvent(ctx context.Context, serverID string, eventID uint64) ([]MastodonAction, error) {
	var out []MastodonAction
	err := d.WithContext(ctx).Where("server_id = ? AND event_id = ?", serverID, eventID).Order("id").Find(&out).Error
	return out, err
}

// MastodonReportAction finds the report action that filed a Mastodon report.
func (d *DB) MastodonReportAction(ctx context.Context, serverID, reportID string) (*MastodonAction, error) {
	var a MastodonAction
	err := d.WithContext(ctx).Where("server_id = ? AND kind = ? AND result_id = ?", serverID, ActionReport, reportID).
		Take(&a).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &a, nil
}

// SetMastodonActionFeedback records the verdict an action's outcome gave, once:
// it reports false when a verdict was already recorded.
func (d *DB) SetMastodonActionFeedback(ctx context.Context, serverID string, id uint64, verdict string) (bool, error) {
	res := d.WithContext(ctx).Model(&MastodonAction{}).Where("id = ? AND server_id = ? AND feedback = ''", id, serverID).
		Update("feedback", verdict)
	return res.RowsAffected == 1, res.Error
}

// OpenMastodonWatches lists a server's sign-ups still waiting for a
// moderator's decision.
func (d *DB) OpenMastodonWatches(ctx context.Context, serverID string) ([]MastodonAction, error) {
	var out []MastodonAction
	err := d.WithContext(ctx).Where("server_id = ? AND kind = ? AND state = ?", serverID, ActionWatch, MastodonPending).
		Order("id").Find(&out).Error
	return out, err
}

// MastodonServersToPoll lists servers with an active connection and open
// watches whose next check is due (the poller's work list, across servers).
func (d *DB) MastodonServersToPoll(ctx context.Context, now time.Time) ([]string, error) {
	var out []string
	active := d.WithContext(ctx).Model(&MastodonConnection{}).Select("server_id").Where("state = ?", MastodonActive)
	err := d.WithContext(ctx).Model(&MastodonAction{}).Distinct("server_id").
		Where("kind = ? AND state = ? AND next_attempt_at <= ? AND server_id IN (?)", ActionWatch, MastodonPending, now, active).
		Pluck("server_id", &out).Error
	return out, err
}

// PostponeMastodonWatches sets when a server's open watches are next checked.
func (d *DB) PostponeMastodonWatches(ctx context.Context, serverID string, next time.Time) error {
	return d.WithContext(ctx).Model(&MastodonAction{}).
		Where("server_id = ? AND kind = ? AND state = ?", serverID, ActionWatch, MastodonPending).
		Update("next_attempt_at", next).Error
}

// ClaimMastodonWatches moves a server's due watches to their next check,
// and reports whether any were due: of several replicas, only the one whose
// update found them polls Mastodon.
func (d *DB) ClaimMastodonWatches(ctx context.Context, serverID string, now, next time.Time) (bool, error) {
	res := d.WithContext(ctx).Model(&MastodonAction{}).
		Where("server_id = ? AND kind = ? AND state = ? AND next_attempt_at <= ?", serverID, ActionWatch, MastodonPending, now).
		Update("next_attempt_at", next)
	return res.RowsAffected > 0, res.Error
}

// MastodonStats summarises a server's queue for the status command.
type MastodonStats struct {
	Events      map[string]int64
	Actions     map[string]int64
	LastEventAt *time.Time
}

// MastodonQueueStats counts a server's events and actions by state.
func (d *DB) MastodonQueueStats(ctx context.Context, serverID string) (*MastodonStats, error) {
	st := &MastodonStats{Events: map[string]int64{}, Actions: map[string]int64{}}
	type row struct {
		State string
		N     int64
	}
	for _, q := range []struct {
		model any
		into  map[string]int64
	}{{&MastodonEvent{}, st.Events}, {&MastodonAction{}, st.Actions}} {
		var rows []row
		if err := d.WithContext(ctx).Model(q.model).Select("state, COUNT(*) AS n").Where("server_id = ?", serverID).
			Group("state").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("count %T: %w", q.model, err)
		}
		for _, r := range rows {
			q.into[r.State] = r.N
		}
	}
	var last MastodonEvent
	err := d.WithContext(ctx).Select("id, received_at").Where("server_id = ?", serverID).Order("id DESC").Limit(1).Find(&last).Error
	if err != nil {
		return nil, fmt.Errorf("last event: %w", err)
	}
	if last.ID != 0 {
		st.LastEventAt = &last.ReceivedAt
	}
	return st, nil
}

// PruneMastodon deletes what retention allows, on every server: events
// processed before before (Mastodon stops retrying a delivery within days,
// so their keys are no longer needed to spot duplicates) and actions that
// ended before it. Pending events and actions, and open watches, stay.
func (d *DB) PruneMastodon(ctx context.Context, before time.Time) (int64, error) {
	db := d.WithContext(ctx)
	a := db.Where("state <> ? AND done_at < ?", MastodonPending, before).Delete(&MastodonAction{})
	if a.Error != nil {
		return 0, fmt.Errorf("prune mastodon actions: %w", a.Error)
	}
	e := db.Where("state <> ? AND processed_at < ?", MastodonPending, before).Delete(&MastodonEvent{})
	if e.Error != nil {
		return a.RowsAffected, fmt.Errorf("prune mastodon events: %w", e.Error)
	}
	return a.RowsAffected + e.RowsAffected, nil
}

// RecentMastodonActions lists a server's latest actions, newest first.
func (d *DB) RecentMastodonActions(ctx context.Context, serverID string, limit int) ([]MastodonAction, error) {
	var out []MastodonAction
	err := d.WithContext(ctx).Where("server_id = ?", serverID).Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}
