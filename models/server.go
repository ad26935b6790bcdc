package models

import "time"

// Server states.
const (
	ServerActive    = "active"
	ServerSuspended = "suspended"
)

// Server is a registered customer: one fediverse server. ID is the serverId
// Breakwater issued at registration; the server uses it as keyid.
type Server struct {
	ID           string `gorm:"primaryKey;size:32"`
	Domain       string `gorm:"size:255;index"`
	ServerURL    string `gorm:"size:2048"`
	BaseURL      string `gorm:"size:2048"`
	Software     string `gorm:"size:64"`
	Status       string `gorm:"size:16;index;not null;default:active"`
	ConfirmedAt  *time.Time
	ContactEmail string `gorm:"size:320"`
	// Policy is the server's screening policy as JSON (screening.Policy).
	Policy string `gorm:"type:text"`
	// MonthlyQuota caps checks per calendar month; 0 means unlimited.
	MonthlyQuota int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Key states.
const (
	KeyActive   = "active"
	KeyRetiring = "retiring"
)

// ServerKey is one key exchange with a server: Breakwater's key pair for it
// and the key the server gave back. Rotation adds a new row and keeps the old
// one, as "retiring", until RetireAt, so both are accepted meanwhile.
type ServerKey struct {
	ID       uint64 `gorm:"primaryKey;autoIncrement"`
	ServerID string `gorm:"size:32;index;not null"`
	// PrivateKey is Breakwater's Ed25519 seed, sealed with the secret key.
	PrivateKey string `gorm:"type:text;not null"`
	// PublicKey is Breakwater's raw public key, standard base64.
	PublicKey string `gorm:"size:64;not null"`
	// FaspID is the identifier the server gave Breakwater (keyid on calls to it).
	FaspID string `gorm:"size:255"`
	// RemotePublicKey is the server's raw Ed25519 public key, standard base64.
	RemotePublicKey string `gorm:"size:64"`
	CompletionURI   string `gorm:"size:2048"`
	State           string `gorm:"size:16;not null;default:active"`
	RetireAt        *time.Time
	CreatedAt       time.Time
}

// Activation records that a server enabled one capability.
type Activation struct {
	ServerID   string `gorm:"primaryKey;size:32"`
	Capability string `gorm:"primaryKey;size:64"`
	Version    string `gorm:"size:16"`
	EnabledAt  time.Time
}

// DebugCall is one call to the debug capability and the callback it caused.
type DebugCall struct {
	ID             uint64 `gorm:"primaryKey;autoIncrement"`
	ServerID       string `gorm:"size:32;index;not null"`
	ReceivedAt     time.Time
	SourceIP       string `gorm:"size:64"`
	Body           string `gorm:"type:text"`
	CallbackStatus int
	CallbackError  string `gorm:"size:1024"`
	CallbackAt     *time.Time
}

// SeenSignature remembers a verified request signature until it would be too
// old to verify anyway, so a replay is refused on every replica.
type SeenSignature struct {
	Key       string    `gorm:"primaryKey;size:64"`
	ExpiresAt time.Time `gorm:"index"`
}
