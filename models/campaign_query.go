package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// campaignLock is the advisory lock that serialises opening campaigns across
// replicas on PostgreSQL, so two replicas seeing the same wave open one
// campaign, not two.
const campaignLock = 727275

// OpenCampaign stores a new campaign with its first presence rows, unless
// an active campaign of the same kind already covers it: same names that
// campaign's id (chosen by the caller from the active campaigns of that
// kind), and nothing is written. Opens are serialised (an advisory lock on
// PostgreSQL; SQLite has one writer), so the check and the insert see the
// same table. On PostgreSQL notify is announced on CampaignsChannel at
// commit.
func (d *DB) OpenCampaign(ctx context.Context, c *Campaign, servers []CampaignServer, origins []CampaignOrigin,
	same func(active []Campaign) string, notify string) (string, error) {
	existing := ""
	err := d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if d.Dialect == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", campaignLock).Error; err != nil {
				return fmt.Errorf("lock campaigns: %w", err)
			}
		}
		var active []Campaign
		if err := tx.Where("kind = ? AND status = ?", c.Kind, c.Status).Find(&active).Error; err != nil {
			return fmt.Errorf("load active campaigns: %w", err)
		}
		if existing = same(active); existing != "" {
			return nil
		}
		if err := tx.Create(c).Error; err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		if len(servers) > 0 {
			if err := tx.Create(&servers).Error; err != nil {
				return fmt.Errorf("insert campaign servers: %w", err)
			}
		}
		if len(origins) > 0 {
			if err := tx.Create(&origins).Error; err != nil {
				return fmt.Errorf("insert campaign origins: %w", err)
			}
		}
		if notify != "" && d.Dialect == "postgres" {
			return tx.Exec("SELECT pg_notify(?, ?)", CampaignsChannel, notify).Error
		}
		return nil
	})
	return existing, err
}

// GetCampaign loads a campaign with its presence on servers and origins.
func (d *DB) GetCampaign(ctx context.Context, id string) (*Campaign, []CampaignServer, []CampaignOrigin, error) {
	var c Campaign
	if err := d.WithContext(ctx).Where("id = ?", id).Take(&c).Error; err != nil {
		return nil, nil, nil, notFound(err)
	}
	var servers []CampaignServer
	if err := d.WithContext(ctx).Where("campaign_id = ?", id).Order("server_id").Find(&servers).Error; err != nil {
		return nil, nil, nil, err
	}
	var origins []CampaignOrigin
	if err := d.WithContext(ctx).Where("campaign_id = ?", id).Order("domain").Find(&origins).Error; err != nil {
		return nil, nil, nil, err
	}
	return &c, servers, origins, nil
}

// CampaignFilter narrows a campaign listing.
type CampaignFilter struct {
	Status string // "" for every status
	Limit  int
}

// ListCampaigns returns campaigns, newest first.
func (d *DB) ListCampaigns(ctx context.Context, f CampaignFilter) ([]Campaign, error) {
	q := d.WithContext(ctx).Model(&Campaign{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var out []Campaign
	err := q.Order("opened_at DESC, id DESC").Limit(f.Limit).Find(&out).Error
	return out, err
}

// CampaignsChangedSince returns the ids of campaigns updated at or after
// since: a replica without notifications (SQLite, where the operator's
// command runs in another process) reloads them.
func (d *DB) CampaignsChangedSince(ctx context.Context, since time.Time) ([]string, error) {
	var ids []string
	err := d.WithContext(ctx).Model(&Campaign{}).Where("updated_at >= ?", since).Order("id").Pluck("id", &ids).Error
	return ids, err
}

// CampaignsForServer returns the campaigns seen on one customer server with
// that server's own presence row, newest first.
func (d *DB) CampaignsForServer(ctx context.Context, serverID string, limit int) ([]Campaign, []CampaignServer, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var rows []CampaignServer
	if err := d.WithContext(ctx).Where("server_id = ?", serverID).Order("last_seen DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.CampaignID
	}
	var camps []Campaign
	if err := d.WithContext(ctx).Where("id IN ?", ids).Order("opened_at DESC, id DESC").Find(&camps).Error; err != nil {
		return nil, nil, err
	}
	return camps, rows, nil
}

// SaveCampaignState stores a campaign's status fields (an operator's
// action, an expiry) and announces the change on PostgreSQL. Counts and
// evidence are not touched: hits keep arriving meanwhile.
func (d *DB) SaveCampaignState(ctx context.Context, c *Campaign, notify string) error {
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Campaign{}).Where("id = ?", c.ID).Updates(map[string]any{
			"status": c.Status, "extended_until": c.ExtendedUntil, "confirmed_at": c.ConfirmedAt, "confirmed_by": c.ConfirmedBy,
			"dismissed_at": c.DismissedAt, "dismissed_by": c.DismissedBy, "updated_at": c.UpdatedAt,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if notify != "" && d.Dialect == "postgres" {
			return tx.Exec("SELECT pg_notify(?, ?)", CampaignsChannel, notify).Error
		}
		return nil
	})
}

// ExpireCampaigns marks active campaigns expired (idempotent; every replica
// may run it) and returns the ids it changed.
func (d *DB) ExpireCampaigns(ctx context.Context, ids []string, quietBefore, now time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var changed []string
	err := d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&Campaign{}).Where("id IN ? AND status = ? AND last_hit_at < ? AND (extended_until IS NULL OR extended_until < ?)",
			ids, "active", quietBefore, now)
		if err := q.Pluck("id", &changed).Error; err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		return tx.Model(&Campaign{}).Where("id IN ?", changed).Updates(map[string]any{"status": "expired", "updated_at": now}).Error
	})
	return changed, err
}

// CampaignHits is what one replica's checks added to one campaign since
// its last flush. Hits are deltas; the rest are the replica's current view
// (a superset of what the store had when the replica loaded the campaign).
type CampaignHits struct {
	CampaignID string
	Hits       int64
	LastHitAt  time.Time
	Evidence   string // "" leaves the stored evidence alone
	Servers    []CampaignServer
	Origins    []CampaignOrigin
}

func laterOf(table, col string) clause.Expr {
	return gorm.Expr(fmt.Sprintf("CASE WHEN %s.%s IS NULL OR %s.%s < excluded.%s THEN excluded.%s ELSE %s.%s END",
		table, col, table, col, col, col, table, col))
}

func earlierOf(table, col string) clause.Expr {
	return gorm.Expr(fmt.Sprintf("CASE WHEN %s.%s IS NULL OR %s.%s > excluded.%s THEN excluded.%s ELSE %s.%s END",
		table, col, table, col, col, col, table, col))
}

func largerOf(table, col string) clause.Expr {
	return gorm.Expr(fmt.Sprintf("CASE WHEN %s.%s < excluded.%s THEN excluded.%s ELSE %s.%s END", table, col, col, col, table, col))
}

// RecordCampaignHits adds a batch of hits, each campaign in its own
// transaction so one bad row does not hold up the others.
func (d *DB) RecordCampaignHits(ctx context.Context, batch []CampaignHits, at time.Time) error {
	var errs []error
	for _, h := range batch {
		err := d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			up := map[string]any{
				"hits":        gorm.Expr("hits + ?", h.Hits),
				"last_hit_at": gorm.Expr("CASE WHEN last_hit_at < ? THEN ? ELSE last_hit_at END", h.LastHitAt, h.LastHitAt),
				"updated_at":  at,
			}
			if h.Evidence != "" {
				up["evidence"] = h.Evidence
			}
			if err := tx.Model(&Campaign{}).Where("id = ?", h.CampaignID).Updates(up).Error; err != nil {
				return fmt.Errorf("count hits: %w", err)
			}
			if len(h.Servers) > 0 {
				if err := tx.Clauses(clause.OnConflict{
					Columns: []clause.Column{{Name: "campaign_id"}, {Name: "server_id"}},
					DoUpdates: clause.Assignments(map[string]any{
						"hits":       gorm.Expr("campaign_servers.hits + excluded.hits"),
						"first_seen": earlierOf("campaign_servers", "first_seen"),
						"last_seen":  laterOf("campaign_servers", "last_seen"),
						"accounts":   largerOf("campaign_servers", "accounts"),
						"samples":    gorm.Expr("excluded.samples"),
					}),
				}).Create(&h.Servers).Error; err != nil {
					return fmt.Errorf("count servers: %w", err)
				}
			}
			if len(h.Origins) > 0 {
				if err := tx.Clauses(clause.OnConflict{
					Columns: []clause.Column{{Name: "campaign_id"}, {Name: "domain"}},
					DoUpdates: clause.Assignments(map[string]any{
						"hits":       gorm.Expr("campaign_origins.hits + excluded.hits"),
						"first_seen": earlierOf("campaign_origins", "first_seen"),
						"last_seen":  laterOf("campaign_origins", "last_seen"),
						"accounts":   largerOf("campaign_origins", "accounts"),
						"samples":    gorm.Expr("excluded.samples"),
						"source":     gorm.Expr("campaign_origins.source OR excluded.source"),
						"source_at":  gorm.Expr("COALESCE(campaign_origins.source_at, excluded.source_at)"),
						"server_id":  gorm.Expr("CASE WHEN campaign_origins.server_id = '' THEN excluded.server_id ELSE campaign_origins.server_id END"),
					}),
				}).Create(&h.Origins).Error; err != nil {
					return fmt.Errorf("count origins: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("campaign %s: %w", h.CampaignID, err))
		}
	}
	return errors.Join(errs...)
}

// AddCampaignFeedback moves a server's verdict counts on a campaign by the
// given deltas (a verdict replacing another is -1 on one and +1 on the
// other), creating the server's row if needed.
func (d *DB) AddCampaignFeedback(ctx context.Context, campaignID, serverID string, spam, ham int, at time.Time) error {
	row := CampaignServer{CampaignID: campaignID, ServerID: serverID, FirstSeen: at, LastSeen: at, Spam: max(spam, 0), Ham: max(ham, 0), Samples: "[]"}
	return d.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "campaign_id"}, {Name: "server_id"}},
		DoUpdates: clause.Assignments(map[string]any{
			"spam": gorm.Expr("CASE WHEN campaign_servers.spam + ? < 0 THEN 0 ELSE campaign_servers.spam + ? END", spam, spam),
			"ham":  gorm.Expr("CASE WHEN campaign_servers.ham + ? < 0 THEN 0 ELSE campaign_servers.ham + ? END", ham, ham),
		}),
	}).Create(&row).Error
}

// SaveOriginReputations stores origins' reputations (replacing them).
func (d *DB) SaveOriginReputations(ctx context.Context, rows []OriginReputation) error {
	if len(rows) == 0 {
		return nil
	}
	return d.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "domain"}},
		DoUpdates: clause.AssignmentColumns([]string{"server_id", "score", "score_at", "first_seen", "last_seen", "hits", "ghost_since", "updated_at"}),
	}).Create(&rows).Error
}

// OriginReputations loads every origin seen since since.
func (d *DB) OriginReputations(ctx context.Context, since time.Time) ([]OriginReputation, error) {
	var out []OriginReputation
	err := d.WithContext(ctx).Where("last_seen >= ? OR ghost_since IS NOT NULL", since).Order("domain").Find(&out).Error
	return out, err
}

// LastFeedback returns, per server, when its moderators last sent a
// verdict on any check (for ghost-ship detection).
func (d *DB) LastFeedback(ctx context.Context) (map[string]time.Time, error) {
	var rows []struct {
		ServerID string
		Last     time.Time
	}
	err := d.WithContext(ctx).Model(&Check{}).Select("server_id, MAX(verdict_at) AS last").
		Where("verdict_at IS NOT NULL").Group("server_id").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.ServerID] = r.Last
	}
	return out, nil
}

// SetAlertTarget stores where a server's alerts go.
func (d *DB) SetAlertTarget(ctx context.Context, t *AlertTarget) error {
	return d.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "server_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"webhook_url", "email", "updated_at"}),
	}).Create(t).Error
}

// GetAlertTarget loads where a server's alerts go; a server that never set
// one gets the zero target, not ErrNotFound.
func (d *DB) GetAlertTarget(ctx context.Context, serverID string) (*AlertTarget, error) {
	var t AlertTarget
	err := d.WithContext(ctx).Where("server_id = ?", serverID).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &AlertTarget{ServerID: serverID}, nil
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Outcomes of InsertAlert.
const (
	AlertCreated     = "created"
	AlertDuplicate   = "duplicate"
	AlertRateLimited = "rate_limited"
)

// InsertAlert records an alert and queues its deliveries, unless the same
// alert (server and dedupe key) was recorded before, or the server already
// got perHour alerts in the hour before the alert's time.
func (d *DB) InsertAlert(ctx context.Context, a *Alert, deliveries []AlertDelivery, perHour int) (string, error) {
	outcome := AlertCreated
	err := d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Alert{}).Where("server_id = ? AND dedupe_key = ?", a.ServerID, a.DedupeKey).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			outcome = AlertDuplicate
			return nil
		}
		if perHour > 0 {
			if err := tx.Model(&Alert{}).Where("server_id = ? AND created_at > ?", a.ServerID, a.CreatedAt.Add(-time.Hour)).Count(&n).Error; err != nil {
				return err
			}
			if n >= int64(perHour) {
				outcome = AlertRateLimited
				return nil
			}
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(a)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			outcome = AlertDuplicate
			return nil
		}
		for i := range deliveries {
			deliveries[i].AlertID = a.ID
		}
		if len(deliveries) > 0 {
			return tx.Create(&deliveries).Error
		}
		return nil
	})
	return outcome, err
}

// GetAlert loads one alert.
func (d *DB) GetAlert(ctx context.Context, id string) (*Alert, error) {
	var a Alert
	if err := d.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		return nil, notFound(err)
	}
	return &a, nil
}

// ListAlerts returns one server's alerts, newest first, with their
// deliveries.
func (d *DB) ListAlerts(ctx context.Context, serverID string, limit int) ([]Alert, []AlertDelivery, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var alerts []Alert
	if err := d.WithContext(ctx).Where("server_id = ?", serverID).Order("created_at DESC, id DESC").Limit(limit).Find(&alerts).Error; err != nil {
		return nil, nil, err
	}
	if len(alerts) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	var deliveries []AlertDelivery
	err := d.WithContext(ctx).Where("server_id = ? AND alert_id IN ?", serverID, ids).Order("id").Find(&deliveries).Error
	return alerts, deliveries, err
}

// ClaimAlertDeliveries leases due pending deliveries of every server (the
// queue spans servers), like the Mastodon queue.
func (d *DB) ClaimAlertDeliveries(ctx context.Context, c Claim) ([]AlertDelivery, error) {
	var out []AlertDelivery
	err := d.claim(ctx, &AlertDelivery{}, c, func(q *gorm.DB) *gorm.DB {
		return q.Where("status = ?", DeliveryPending)
	}, &out)
	return out, err
}

// FinishAlertDelivery records the outcome of one attempt and releases the
// lease: delivered, failed for good, or pending again at next.
func (d *DB) FinishAlertDelivery(ctx context.Context, del *AlertDelivery) error {
	return d.WithContext(ctx).Model(&AlertDelivery{}).Where("id = ?", del.ID).Updates(map[string]any{
		"status": del.Status, "attempts": del.Attempts, "next_attempt_at": del.NextAttemptAt, "last_error": del.LastError,
		"last_status": del.LastStatus, "delivered_at": del.DeliveredAt, "locked_by": "", "locked_until": nil,
	}).Error
}

// ReleaseAlertLeases gives back the deliveries a worker still holds.
func (d *DB) ReleaseAlertLeases(ctx context.Context, worker string) error {
	return d.WithContext(ctx).Model(&AlertDelivery{}).Where("locked_by = ?", worker).
		Updates(map[string]any{"locked_by": "", "locked_until": nil}).Error
}

// PruneAlerts deletes alerts, and their deliveries, recorded before before:
// they hold admins' addresses and are only kept for the alerts page.
func (d *DB) PruneAlerts(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		old := tx.Model(&Alert{}).Select("id").Where("created_at < ?", before)
		if err := tx.Where("alert_id IN (?)", old).Delete(&AlertDelivery{}).Error; err != nil {
			return err
		}
		res := tx.Where("created_at < ?", before).Delete(&Alert{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}
