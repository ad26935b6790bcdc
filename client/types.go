package client

import "time"

// The request and answer types below are the spam_detection v0.1 wire
// format (spec/spam_detection/v0.1/schemas), repeated here so that this
// package imports nothing of Breakwater's server side. A test decodes every
// example of the specification into them, so they cannot drift apart.

// SignupCheck is one account about to be created on the calling server.
type SignupCheck struct {
	Account    SignupAccount `json:"account"`
	IP         string        `json:"ip"`
	UserAgent  string        `json:"userAgent,omitempty"`
	Client     *SignupClient `json:"client,omitempty"`
	OccurredAt *time.Time    `json:"occurredAt,omitempty"`
}

// SignupAccount is the account being created.
type SignupAccount struct {
	Username    string `json:"username"`
	DisplayName string `json:"displayName,omitempty"`
	Email       string `json:"email"`
	Locale      string `json:"locale,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Invited     bool   `json:"invited,omitempty"`
}

// SignupClient is how the sign-up form was submitted.
type SignupClient struct {
	Application string   `json:"application,omitempty"`
	FormSeconds *float64 `json:"formSeconds,omitempty"`
	Honeypot    bool     `json:"honeypot,omitempty"`
}

// ContentCheck is one post and its author.
type ContentCheck struct {
	Post       Post       `json:"post"`
	Author     Author     `json:"author"`
	OccurredAt *time.Time `json:"occurredAt,omitempty"`
}

// Post is the post being screened; Text may be HTML. Mentions must be
// present (empty when there are none).
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

// Mention is one addressed account.
type Mention struct {
	Acct          string `json:"acct"`
	FollowsAuthor *bool  `json:"followsAuthor,omitempty"`
}

// Media is an attachment described by hashes; Breakwater never downloads
// media.
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

// Decisions.
const (
	Allow  = "allow"
	Review = "review"
	Reject = "reject"
)

// Result is a decision. When Fallback is true Breakwater gave none (it was
// down, slow, or the answer did not verify) and Decision is what the
// client's FailMode prescribes; CheckID is then empty.
type Result struct {
	CheckID    string   `json:"checkId,omitempty"`
	Decision   string   `json:"decision"`
	Score      int      `json:"score"`
	Reasons    []Reason `json:"reasons"`
	CampaignID string   `json:"campaignId,omitempty"`
	Fallback   bool     `json:"fallback,omitempty"`
}

// Reason is one explanation of a decision, for moderators.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Weight  int    `json:"weight"`
}
