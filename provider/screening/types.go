// Package screening is Breakwater's decision engine: it turns a sign-up or a
// post into allow / review / reject with reasons, using signals registered in
// provider/signals and in-memory windows shared across all customer servers.
package screening

import (
	"encoding/json"
	"time"
)

// Decision values on the wire.
const (
	Allow  = "allow"
	Review = "review"
	Reject = "reject"
)

// Gates: what is being screened.
const (
	GateSignup  = "signup"
	GateContent = "content"
)

// SignupInput is the body of POST /spam_detection/v0/signup_screening/checks.
// Field names are part of the public contract (spec/spam_detection/v0.1).
type SignupInput struct {
	Account    SignupAccount `json:"account"`
	IP         string        `json:"ip"`
	UserAgent  string        `json:"userAgent,omitempty"`
	Client     *SignupClient `json:"client,omitempty"`
	OccurredAt *time.Time    `json:"occurredAt,omitempty"`
}

// SignupAccount describes the account being created.
type SignupAccount struct {
	Username    string `json:"username"`
	DisplayName string `json:"displayName,omitempty"`
	Email       string `json:"email"`
	Locale      string `json:"locale,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Invited     bool   `json:"invited,omitempty"`
	// ReasonRequired says the server asks for a sign-up reason, so an
	// empty or very short one counts (reason_empty). Decoding JSON sets it
	// whenever the "reason" member is present, even as "", which is how a
	// server that asks for a reason says so on the wire.
	ReasonRequired bool `json:"reasonRequired,omitempty"`
}

// UnmarshalJSON decodes the account and notes whether "reason" was present.
func (a *SignupAccount) UnmarshalJSON(b []byte) error {
	type plain SignupAccount
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var probe struct {
		Reason *string `json:"reason"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	*a = SignupAccount(p)
	if probe.Reason != nil {
		a.ReasonRequired = true
	}
	return nil
}

// SignupClient describes how the sign-up form was submitted.
type SignupClient struct {
	Application string   `json:"application,omitempty"`
	FormSeconds *float64 `json:"formSeconds,omitempty"`
	Honeypot    bool     `json:"honeypot,omitempty"`
}

// ContentInput is the body of POST /spam_detection/v0/content_screening/checks.
type ContentInput struct {
	Post       Post       `json:"post"`
	Author     Author     `json:"author"`
	OccurredAt *time.Time `json:"occurredAt,omitempty"`
}

// Post is the status being screened. Text may be HTML, as Mastodon stores it.
type Post struct {
	ID         string    `json:"id,omitempty"`
	URI        string    `json:"uri,omitempty"`
	Text       string    `json:"text"`
	Language   string    `json:"language,omitempty"`
	Visibility string    `json:"visibility"`
	Mentions   []Mention `json:"mentions"`
	Links      []string  `json:"links,omitempty"`
	Media      []Media   `json:"media,omitempty"`
	InReplyTo  string    `json:"inReplyTo,omitempty"`
}

// Mention is one addressed account; FollowsAuthor tells whether that account
// already follows the author (nil when the server does not know).
type Mention struct {
	Acct          string `json:"acct"`
	FollowsAuthor *bool  `json:"followsAuthor,omitempty"`
}

// Media is one attachment, described by hashes only: Breakwater never
// downloads media.
type Media struct {
	SHA256   string `json:"sha256,omitempty"`
	PHash    string `json:"phash,omitempty"`
	Blurhash string `json:"blurhash,omitempty"`
	Size     int64  `json:"size,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
}

// Author is the account that wrote the post.
type Author struct {
	ID          string    `json:"id,omitempty"`
	Acct        string    `json:"acct"`
	CreatedAt   time.Time `json:"createdAt"`
	Local       bool      `json:"local"`
	Followers   *int      `json:"followers,omitempty"`
	Following   *int      `json:"following,omitempty"`
	Statuses    *int      `json:"statuses,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
}

// Reason is one explanation of a decision. Code is stable and documented in
// the spec; Message tells a moderator what was seen without revealing the
// exact threshold; Weight is the score points it contributed (negative for
// trust).
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Weight  int    `json:"weight"`
}

// Policy is one customer server's screening configuration. The zero value is
// not valid; use DefaultPolicy and validate with Engine.ValidatePolicy before
// storing.
type Policy struct {
	// ReviewAt and RejectAt are the score thresholds (0-100):
	// score < ReviewAt is allow, ReviewAt <= score < RejectAt is review.
	ReviewAt int `json:"reviewAt"`
	RejectAt int `json:"rejectAt"`
	// Signals overrides per signal code: on/off, weight multiplier, params.
	Signals map[string]SignalSetting `json:"signals,omitempty"`
	// Link and e-mail domain lists. Allow wins over deny for the same domain.
	AllowDomains      []string `json:"allowDomains,omitempty"`
	DenyDomains       []string `json:"denyDomains,omitempty"`
	AllowEmailDomains []string `json:"allowEmailDomains,omitempty"`
	DenyEmailDomains  []string `json:"denyEmailDomains,omitempty"`
	// Rules are keyword and RE2 rules over normalised post text and sign-up
	// reasons; they are compiled when the policy is validated.
	Rules []Rule `json:"rules,omitempty"`
	// WaveMode makes every signal stricter while an admin knows a wave is on.
	WaveMode bool `json:"waveMode,omitempty"`
}

// SignalSetting overrides one signal for one server.
type SignalSetting struct {
	Enabled *bool           `json:"enabled,omitempty"`
	Weight  *float64        `json:"weight,omitempty"` // multiplier, 0..5
	Params  json.RawMessage `json:"params,omitempty"`
}

// Rule is a keyword or regular-expression rule.
type Rule struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	Regex   bool   `json:"regex,omitempty"`
	Gate    string `json:"gate,omitempty"` // "signup", "content" or "" for both
	Weight  int    `json:"weight"`         // -100..100 score points
}

// Outcome is the engine's answer to one check, and what the caller persists
// to rebuild the engine's windows later (Features, At, Decision).
type Outcome struct {
	Gate       string    `json:"gate"`
	Decision   string    `json:"decision"`
	Score      int       `json:"score"`
	Reasons    []Reason  `json:"reasons"`
	CampaignID string    `json:"campaignId,omitempty"` // the campaign a kept "campaign" reason matched
	Features   Features  `json:"features"`
	At         time.Time `json:"at"` // the engine clock when the check was screened
}

// DefaultPolicy is the policy a newly registered server starts with.
func DefaultPolicy() Policy {
	return Policy{ReviewAt: 65, RejectAt: 85}
}
