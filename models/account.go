package models

import "time"

// Account roles. An admin belongs to exactly one server and sees only its
// data; an operator runs the provider and belongs to none.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
)

// Account is a person who signs in to the web interface. Email is stored
// lower-cased and is unique across the provider, so one address signs in to
// one server; PasswordHash is an argon2id PHC string.
type Account struct {
	ID           string `gorm:"primaryKey;size:32"`
	Email        string `gorm:"size:320;not null;uniqueIndex"`
	PasswordHash string `gorm:"size:256;not null"`
	Role         string `gorm:"size:16;not null"`
	// ServerID is the server an admin administers; empty for operators.
	ServerID string `gorm:"size:32;index"`
	// Locale is the language e-mails to this person are written in.
	Locale      string `gorm:"size:16"`
	LastLoginAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Session is one signed-in browser. Only the SHA-256 of the cookie's token is
// stored, so a leaked database does not hand out sessions.
type Session struct {
	TokenHash string `gorm:"primaryKey;size:64"`
	AccountID string `gorm:"size:32;not null;index"`
	// ServerID repeats the account's server so that every admin page is
	// scoped without a second lookup.
	ServerID   string `gorm:"size:32;index"`
	Role       string `gorm:"size:16;not null"`
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time `gorm:"index"`
}

// PasswordReset is a single-use token sent by e-mail; only its hash is kept.
type PasswordReset struct {
	TokenHash string `gorm:"primaryKey;size:64"`
	AccountID string `gorm:"size:32;not null;index"`
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// LoginThrottle counts failed sign-ins per keyed hash of an e-mail address
// (existing or not, so lockout reveals nothing), shared by every replica.
type LoginThrottle struct {
	Subject     string `gorm:"primaryKey;size:64"`
	Failures    int
	LockedUntil *time.Time
	UpdatedAt   time.Time
}

// Pending registration states.
const (
	PendingWaiting  = "waiting"
	PendingRejected = "rejected"
)

// PendingRegistration is a sign-up waiting for the operator's approval: the
// FASP registration call is made only when the operator approves.
type PendingRegistration struct {
	ID           string `gorm:"primaryKey;size:32"`
	ServerURL    string `gorm:"size:2048;not null"`
	BaseURL      string `gorm:"size:2048"`
	Domain       string `gorm:"size:255"`
	Email        string `gorm:"size:320;not null"`
	PasswordHash string `gorm:"size:256;not null"`
	Locale       string `gorm:"size:16"`
	Status       string `gorm:"size:16;not null;index"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}
