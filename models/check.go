package models

import "time"

// Check is one screening request and its decision. Features hold only
// privacy-safe derived data (keyed hashes, fingerprints); Erased checks keep
// their decision for statistics but lose features and reasons.
type Check struct {
	ID         string `gorm:"primaryKey;size:32"`
	ServerID   string `gorm:"size:32;not null;index:idx_checks_server_created,priority:1"`
	Gate       string `gorm:"size:16;not null"`
	Decision   string `gorm:"size:16;not null"`
	Score      int
	Reasons    string    `gorm:"type:text"`
	CampaignID string    `gorm:"size:32"` // not indexed: nothing looks checks up by campaign (see migration 5)
	Features   string    `gorm:"type:text"`
	SubjectKey string    `gorm:"size:64;index"`
	CreatedAt  time.Time `gorm:"not null;index:idx_checks_server_created,priority:2;index"`
	Verdict    string    `gorm:"size:8"`
	Note       string    `gorm:"size:1024"`
	VerdictAt  *time.Time
	Erased     bool
}

// LearningState is the engine's learned state (weights, classifier) as JSON.
type LearningState struct {
	ID        string `gorm:"primaryKey;size:32"`
	Data      string `gorm:"type:text"`
	UpdatedAt time.Time
}

// Usage counts checks per server, capability and UTC day.
type Usage struct {
	ServerID   string `gorm:"primaryKey;size:32"`
	Day        string `gorm:"primaryKey;size:10"`
	Capability string `gorm:"primaryKey;size:64"`
	Count      int64
}
