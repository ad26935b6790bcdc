package models

import "time"

// Mastodon connection states.
const (
	// MastodonActive connections receive webhooks and act.
	MastodonActive = "active"
	// MastodonBroken connections got a 401 from Mastodon: events are still
	// received and screened, but actions wait until the admin reconnects.
	MastodonBroken = "broken"
)

// MastodonConnection links a registered server to its Mastodon Admin API and
// admin webhook, for servers that screen through webhooks rather than FASP
// calls. The token and the webhook secret are sealed with the secret key.
type MastodonConnection struct {
	ServerID string `gorm:"primaryKey;size:32"`
	APIURL   string `gorm:"size:2048;not null"`
	// AccessToken is the Mastodon access token, sealed (purpose mastodon-token).
	AccessToken string `gorm:"type:text;not null"`
	// WebhookSecret is the webhook's HMAC secret, sealed (purpose mastodon-webhook-secret).
	WebhookSecret string `gorm:"type:text;not null"`
	// Scopes are the token application's scopes as Mastodon listed them
	// (space-separated), empty when Mastodon does not list them.
	Scopes string `gorm:"size:1024"`
	// DryRun records what would be done without calling Mastodon.
	DryRun bool `gorm:"not null;default:false"`
	// SignupReview is what a held sign-up gets: report, note or none.
	SignupReview string `gorm:"size:16;not null;default:report"`
	// PostReject is what a rejected post gets: report, sensitive, silence or suspend.
	PostReject string `gorm:"size:16;not null;default:report"`
	// PostReview is what a post held for review gets: report or none.
	PostReview   string `gorm:"size:16;not null;default:report"`
	State        string `gorm:"size:16;not null;default:active"`
	BrokenReason string `gorm:"size:512"`
	BrokenAt     *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Mastodon event and action states.
const (
	MastodonPending = "pending"
	MastodonDone    = "done"
	MastodonSkipped = "skipped"
	MastodonFailed  = "failed"
	// MastodonDryRun marks an action recorded but not taken.
	MastodonDryRun = "dry_run"
)

// MastodonEvent is one webhook delivery accepted with a 2xx, kept until it is
// processed so that none is lost across restarts. The unique key (server,
// event type, object key) makes Mastodon's retries of the same delivery
// collapse into one row. The payload holds e-mail and IP addresses, so it is
// sealed, and erased once processed.
type MastodonEvent struct {
	ID        uint64 `gorm:"primaryKey;autoIncrement"`
	ServerID  string `gorm:"size:32;not null;uniqueIndex:idx_mastodon_events_key,priority:1;index:idx_mastodon_events_account,priority:1"`
	EventType string `gorm:"size:32;not null;uniqueIndex:idx_mastodon_events_key,priority:2"`
	ObjectKey string `gorm:"size:128;not null;uniqueIndex:idx_mastodon_events_key,priority:3"`
	// ObjectID is the Mastodon id of the account, status or report.
	ObjectID string `gorm:"size:32;not null;index"`
	// AccountID is the Mastodon account the event is about.
	AccountID string `gorm:"size:32;index:idx_mastodon_events_account,priority:2"`
	// Payload is the raw webhook body, sealed (purpose mastodon-event).
	Payload string `gorm:"type:text"`
	State   string `gorm:"size:16;not null;index:idx_mastodon_events_due,priority:1"`
	// AwaitingApproval is true for a sign-up that was pending when it arrived.
	AwaitingApproval bool      `gorm:"not null;default:false"`
	Attempts         int       `gorm:"not null;default:0"`
	NextAttemptAt    time.Time `gorm:"not null;index:idx_mastodon_events_due,priority:2"`
	LockedBy         string    `gorm:"size:32"`
	LockedUntil      *time.Time
	CheckID          string `gorm:"size:32;index"`
	Decision         string `gorm:"size:16"`
	// Outcome says, without personal data, what processing did or why not.
	Outcome     string    `gorm:"size:512"`
	ReceivedAt  time.Time `gorm:"not null"`
	ProcessedAt *time.Time
}

// Mastodon action kinds.
const (
	ActionApprove   = "approve"
	ActionReject    = "reject"
	ActionReport    = "report"
	ActionNote      = "note"
	ActionSensitive = "sensitive"
	ActionSilence   = "silence"
	ActionSuspend   = "suspend"
	// ActionWatch follows a sign-up Breakwater left to a moderator until
	// they approve or reject it, for feedback.
	ActionWatch = "watch"
)

// MastodonAction is one call Breakwater makes (or, in dry-run, would make)
// to Mastodon because of an event. There is at most one per (event, kind),
// so a restart or a second replica never does the same thing twice.
type MastodonAction struct {
	ID       uint64 `gorm:"primaryKey;autoIncrement"`
	ServerID string `gorm:"size:32;not null;uniqueIndex:idx_mastodon_actions_key,priority:1;index:idx_mastodon_actions_result,priority:1"`
	EventID  uint64 `gorm:"not null;uniqueIndex:idx_mastodon_actions_key,priority:2"`
	Kind     string `gorm:"size:16;not null;uniqueIndex:idx_mastodon_actions_key,priority:3"`
	// AccountID is the Mastodon account acted on.
	AccountID string `gorm:"size:32;not null;index"`
	// StatusIDs are the reported statuses, comma-separated.
	StatusIDs     string    `gorm:"size:2048"`
	CheckID       string    `gorm:"size:32;index"`
	State         string    `gorm:"size:16;not null;index:idx_mastodon_actions_due,priority:1"`
	Attempts      int       `gorm:"not null;default:0"`
	NextAttemptAt time.Time `gorm:"not null;index:idx_mastodon_actions_due,priority:2"`
	LockedBy      string    `gorm:"size:32"`
	LockedUntil   *time.Time
	HTTPStatus    int
	LastError     string `gorm:"size:1024"`
	// ResultID is what Mastodon created: the report id for a report.
	ResultID string `gorm:"size:32;index:idx_mastodon_actions_result,priority:2"`
	// Feedback is the verdict a moderator's outcome gave the check ("spam"
	// or "ham"), so it is recorded once.
	Feedback  string `gorm:"size:8"`
	CreatedAt time.Time
	DoneAt    *time.Time
}
