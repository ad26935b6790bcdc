package models

import "time"

// CampaignsChannel is the PostgreSQL notification channel on which a
// replica announces a campaign it opened or changed; the others reload it
// from the campaigns table, which is the source of truth.
const CampaignsChannel = "breakwater_campaigns"

// Campaign is one network-wide spam campaign. Evidence holds fingerprints
// only (SimHashes, keyed media hashes, perceptual hashes, link hosts, keyed
// sign-up patterns), never personal data.
type Campaign struct {
	ID            string    `gorm:"primaryKey;size:32"`
	Kind          string    `gorm:"size:16;not null"`
	Label         string    `gorm:"size:128"`
	Status        string    `gorm:"size:16;not null;index"`
	Evidence      string    `gorm:"type:text"`
	OpenedAt      time.Time `gorm:"not null;index"`
	LastHitAt     time.Time `gorm:"not null"`
	ExtendedUntil *time.Time
	ConfirmedAt   *time.Time
	ConfirmedBy   string `gorm:"size:320"`
	DismissedAt   *time.Time
	DismissedBy   string `gorm:"size:320"`
	Hits          int64
	UpdatedAt     time.Time
}

// CampaignServer is a campaign seen on one customer server, with the
// verdicts its moderators sent on the campaign's checks.
type CampaignServer struct {
	CampaignID string `gorm:"primaryKey;size:32"`
	ServerID   string `gorm:"primaryKey;size:32;index"`
	FirstSeen  time.Time
	LastSeen   time.Time
	Hits       int64
	Accounts   int
	Spam       int
	Ham        int
	// Samples are a few check ids (JSON array) so the admin can find the
	// accounts on their side.
	Samples string `gorm:"type:text"`
}

// CampaignOrigin is a campaign emitted from one origin server: a remote
// author's domain, or a customer server's own domain (ServerID set).
type CampaignOrigin struct {
	CampaignID string `gorm:"primaryKey;size:32"`
	Domain     string `gorm:"primaryKey;size:255"`
	ServerID   string `gorm:"size:32;index"`
	FirstSeen  time.Time
	LastSeen   time.Time
	Hits       int64
	Accounts   int
	Source     bool
	SourceAt   *time.Time
	Samples    string `gorm:"type:text"`
}

// OriginReputation is an origin server's standing: a decaying score of the
// campaign traffic it emitted, and whether a customer server is judged
// unmanaged (a ghost ship).
type OriginReputation struct {
	Domain     string `gorm:"primaryKey;size:255"`
	ServerID   string `gorm:"size:32;index"`
	Score      float64
	ScoreAt    time.Time
	FirstSeen  time.Time
	LastSeen   time.Time
	Hits       int64
	GhostSince *time.Time
	UpdatedAt  time.Time
}

// AlertTarget is where a customer server's admins want campaign alerts: a
// webhook URL (signed deliveries) and an e-mail address; empty fields fall
// back to the server's admin accounts and contact address for e-mail, and
// to no webhook.
type AlertTarget struct {
	ServerID   string `gorm:"primaryKey;size:32"`
	WebhookURL string `gorm:"size:2048"`
	Email      string `gorm:"size:320"`
	UpdatedAt  time.Time
}

// Alert is one notice to a customer server's admins. DedupeKey makes the
// same notice (a campaign reaching the server, the server becoming a
// source) be recorded once.
type Alert struct {
	ID         string `gorm:"primaryKey;size:32"`
	ServerID   string `gorm:"size:32;not null;uniqueIndex:idx_alerts_dedupe,priority:1;index:idx_alerts_server_created,priority:1"`
	DedupeKey  string `gorm:"size:128;not null;uniqueIndex:idx_alerts_dedupe,priority:2"`
	Kind       string `gorm:"size:32;not null"`
	CampaignID string `gorm:"size:32;index"`
	// Payload is the alert as the webhook sends it (JSON).
	Payload   string    `gorm:"type:text"`
	CreatedAt time.Time `gorm:"not null;index:idx_alerts_server_created,priority:2"`
}

// Alert delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// AlertDelivery is one alert on one channel (webhook or e-mail to one
// address): the durable queue the sender works from, with retries.
type AlertDelivery struct {
	ID            uint64 `gorm:"primaryKey;autoIncrement"`
	AlertID       string `gorm:"size:32;not null;index"`
	ServerID      string `gorm:"size:32;not null;index"`
	Channel       string `gorm:"size:16;not null"`
	Target        string `gorm:"size:2048"`
	Status        string `gorm:"size:16;not null;index:idx_alert_deliveries_due,priority:1"`
	Attempts      int
	NextAttemptAt time.Time `gorm:"index:idx_alert_deliveries_due,priority:2"`
	LockedBy      string    `gorm:"size:32"`
	LockedUntil   *time.Time
	LastError     string `gorm:"size:1024"`
	LastStatus    int
	DeliveredAt   *time.Time
	CreatedAt     time.Time
}
