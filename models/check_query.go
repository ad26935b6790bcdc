package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// InsertCheck stores a decided check: a check is durable before its answer
// is sent. It is one statement on purpose: usage is counted separately
// (AddUsage) and other replicas are told in batches (Notify), because a
// per-server counter row or a NOTIFY inside this transaction would
// serialise commits.
func (d *DB) InsertCheck(ctx context.Context, c *Check) error {
	if err := d.WithContext(ctx).Create(c).Error; err != nil {
		return fmt.Errorf("insert check: %w", err)
	}
	return nil
}

// GetChecksByID loads checks by id, for replicas that were told of them.
func (d *DB) GetChecksByID(ctx context.Context, ids []string) ([]Check, error) {
	var out []Check
	err := d.WithContext(ctx).Where("id IN ?", ids).Order("created_at, id").Find(&out).Error
	return out, err
}

// UsageKey names one usage counter.
type UsageKey struct {
	ServerID, Day, Capability string
}

// AddUsage adds counts to the usage counters in one transaction, in a fixed
// key order so that replicas flushing at once cannot deadlock.
func (d *DB) AddUsage(ctx context.Context, counts map[UsageKey]int64) error {
	if len(counts) == 0 {
		return nil
	}
	keys := make([]UsageKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b UsageKey) int {
		return cmp.Or(cmp.Compare(a.ServerID, b.ServerID), cmp.Compare(a.Day, b.Day), cmp.Compare(a.Capability, b.Capability))
	})
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, k := range keys {
			u := Usage{ServerID: k.ServerID, Day: k.Day, Capability: k.Capability, Count: counts[k]}
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "server_id"}, {Name: "day"}, {Name: "capability"}},
				DoUpdates: clause.Assignments(map[string]any{"count": gorm.Expr("usages.count + ?", counts[k])}),
			}).Create(&u).Error
			if err != nil {
				return fmt.Errorf("add usage: %w", err)
			}
		}
		return nil
	})
}

// GetCheck loads one check of one server.
func (d *DB) GetCheck(ctx context.Context, serverID, checkID string) (*Check, error) {
	var c Check
	if err := d.WithContext(ctx).Where("id = ? AND server_id = ?", checkID, serverID).Take(&c).Error; err != nil {
		return nil, notFound(err)
	}
	return &c, nil
}

// SetVerdict records a moderator's verdict on a check and returns the verdict
// it replaced ("" if none), so learning can undo it.
func (d *DB) SetVerdict(ctx context.Context, serverID, checkID, verdict, note string, at time.Time) (*Check, string, error) {
	var c Check
	err := d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("id = ? AND server_id = ?", checkID, serverID)
		if d.Dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&c).Error; err != nil {
			return notFound(err)
		}
		return tx.Model(&Check{}).Where("id = ? AND server_id = ?", checkID, serverID).
			Updates(map[string]any{"verdict": verdict, "note": note, "verdict_at": at}).Error
	})
	if err != nil {
		return nil, "", err
	}
	prev := c.Verdict
	c.Verdict, c.Note, c.VerdictAt = verdict, note, &at
	return &c, prev, nil
}

// EraseCheck deletes the personal details of one check (its features,
// reasons and subject key), keeping the decision for statistics.
func (d *DB) EraseCheck(ctx context.Context, serverID, checkID string) error {
	res := d.WithContext(ctx).Model(&Check{}).Where("id = ? AND server_id = ?", checkID, serverID).
		Updates(map[string]any{"features": "", "reasons": "[]", "subject_key": "", "note": "", "erased": true})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// EraseSubject erases every check about one account, across servers when
// serverID is empty. subjectKeys are the account's keyed subject hashes, one
// per configured secret key, so that checks stored before a key rotation are
// found too. It returns how many checks were erased.
func (d *DB) EraseSubject(ctx context.Context, serverID string, subjectKeys []string) (int64, error) {
	keys := make([]string, 0, len(subjectKeys))
	for _, k := range subjectKeys {
		if k != "" { // erased checks have an empty subject key: never match them
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	q := d.WithContext(ctx).Model(&Check{}).Where("subject_key IN ?", keys)
	if serverID != "" {
		q = q.Where("server_id = ?", serverID)
	}
	res := q.Updates(map[string]any{"features": "", "reasons": "[]", "subject_key": "", "note": "", "erased": true})
	return res.RowsAffected, res.Error
}

// ExpireCheckDetails erases details of checks older than before (retention).
func (d *DB) ExpireCheckDetails(ctx context.Context, before time.Time) (int64, error) {
	res := d.WithContext(ctx).Model(&Check{}).Where("created_at < ? AND erased = ?", before, false).
		Updates(map[string]any{"features": "", "reasons": "[]", "subject_key": "", "note": "", "erased": true})
	return res.RowsAffected, res.Error
}

// EachRecentCheck calls fn, in creation order, for every check with features
// created at or after since; the engine rebuilds its windows from them.
func (d *DB) EachRecentCheck(ctx context.Context, since time.Time, fn func(*Check) error) error {
	var batch []Check
	// Ids are time-ordered, and FindInBatches pages by primary key, so the
	// order is by id alone: any other order would make paging skip rows.
	return d.WithContext(ctx).Where("created_at >= ? AND erased = ?", since, false).
		Order("id").FindInBatches(&batch, 2000, func(tx *gorm.DB, _ int) error {
		for i := range batch {
			if err := fn(&batch[i]); err != nil {
				return err
			}
		}
		return nil
	}).Error
}

// CheckFilter narrows a check listing.
type CheckFilter struct {
	Decision string
	Gate     string
	Before   string // check id cursor: only older checks
	Limit    int
}

// ListChecks returns one server's checks, newest first.
func (d *DB) ListChecks(ctx context.Context, serverID string, f CheckFilter) ([]Check, error) {
	q := d.WithContext(ctx).Where("server_id = ?", serverID)
	if f.Decision != "" {
		q = q.Where("decision = ?", f.Decision)
	}
	if f.Gate != "" {
		q = q.Where("gate = ?", f.Gate)
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var out []Check
	err := q.Order("id DESC").Limit(f.Limit).Find(&out).Error
	return out, err
}

// MonthUsage sums a server's checks since the start of the month of at.
func (d *DB) MonthUsage(ctx context.Context, serverID string, at time.Time) (int64, error) {
	start := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	var n *int64
	err := d.WithContext(ctx).Model(&Usage{}).Where("server_id = ? AND day >= ?", serverID, start).
		Select("SUM(count)").Scan(&n).Error
	if err != nil || n == nil {
		return 0, err
	}
	return *n, nil
}

// LoadLearning returns the stored learned state, or "" if none.
func (d *DB) LoadLearning(ctx context.Context, id string) (string, error) {
	var s LearningState
	err := d.WithContext(ctx).Where("id = ?", id).Take(&s).Error
	if err != nil {
		if notFound(err) == ErrNotFound {
			return "", nil
		}
		return "", err
	}
	return s.Data, nil
}

// SaveLearning upserts the learned state.
func (d *DB) SaveLearning(ctx context.Context, id, data string, at time.Time) error {
	return d.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "updated_at"}),
	}).Create(&LearningState{ID: id, Data: data, UpdatedAt: at}).Error
}
