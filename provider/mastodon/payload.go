// Package mastodon connects Breakwater to stock Mastodon through the two
// interfaces Mastodon admins already have: admin webhooks (events in) and the
// Admin API (actions out). Mastodon has no pre-save hook and calls no
// spam_detection capability, so this is how a server can use Breakwater
// today without patching anything.
//
// The package is pure where it can be: payload types follow Mastodon's
// serializers field for field (REST::Admin::Account, REST::Status,
// REST::Admin::Report, wrapped in REST::Admin::WebhookEventSerializer's
// envelope), mapping to screening inputs has no I/O, and the API client takes
// its HTTP transport from the caller, which must be the SSRF-safe netguard
// client.
package mastodon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Webhook event types Breakwater handles. Mastodon's Webhook::EVENTS also
// has account.updated, which carries nothing to screen, and report.updated
// exists on newer versions only; unknown events are acknowledged and ignored.
const (
	EventAccountCreated  = "account.created"
	EventAccountApproved = "account.approved"
	EventStatusCreated   = "status.created"
	EventStatusUpdated   = "status.updated"
	EventReportCreated   = "report.created"
	EventReportUpdated   = "report.updated"
)

// Handled reports whether Breakwater acts on an event type; others are
// acknowledged with 204 so Mastodon does not retry them.
func Handled(event string) bool {
	switch event {
	case EventAccountCreated, EventAccountApproved, EventStatusCreated, EventStatusUpdated,
		EventReportCreated, EventReportUpdated:
		return true
	}
	return false
}

// HandledEvents lists the events an admin should tick on Mastodon's webhook
// page, in Mastodon's own order.
func HandledEvents() []string {
	return []string{EventAccountApproved, EventAccountCreated, EventReportCreated, EventReportUpdated,
		EventStatusCreated, EventStatusUpdated}
}

// ErrIgnored is returned by ParseEvent for a well-formed event Breakwater
// does not handle; the caller acknowledges it without storing anything.
var ErrIgnored = errors.New("mastodon: event type not handled")

// PayloadError describes a webhook body that is not Mastodon's default JSON
// (for example a custom template). Its message is safe to return to the
// sender: it never quotes the body.
type PayloadError struct{ Message string }

func (e *PayloadError) Error() string { return e.Message }

func payloadErr(format string, args ...any) error {
	return &PayloadError{Message: fmt.Sprintf(format, args...)}
}

// Event is Mastodon's webhook envelope
// ({"event":…,"created_at":…,"object":{…}}) with the key that identifies
// the delivery for deduplication.
type Event struct {
	Type      string          `json:"event"`
	CreatedAt time.Time       `json:"created_at"`
	Object    json.RawMessage `json:"object"`

	// ObjectID is the id of the account, status or report.
	ObjectID string `json:"-"`
	// AccountID is the Mastodon account the event is about: the account
	// itself, a status's author, or a report's target.
	AccountID string `json:"-"`
	// Key identifies one logical event for exactly-once processing. It is
	// the object id, plus the edit time for status.updated and the update
	// time for report.updated, because one status can be edited (and one
	// report updated) many times and each is a new event, while Mastodon's
	// retries of one delivery carry the same times.
	Key string `json:"-"`
}

// ParseEvent reads a webhook body. It returns ErrIgnored for event types
// Breakwater does not handle and a *PayloadError when the body is not the
// JSON Mastodon sends by default.
func ParseEvent(body []byte) (*Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		return nil, payloadErr("the body is not Mastodon's webhook JSON (is a custom payload template set on the webhook? remove it): %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, payloadErr("the body has data after the JSON object")
	}
	if ev.Type == "" {
		return nil, payloadErr("the body has no \"event\" member (is a custom payload template set on the webhook? remove it)")
	}
	if !Handled(ev.Type) {
		return &ev, ErrIgnored
	}
	if len(bytes.TrimSpace(ev.Object)) == 0 || bytes.TrimSpace(ev.Object)[0] != '{' {
		return nil, payloadErr("%s: \"object\" must be a JSON object", ev.Type)
	}
	var head struct {
		ID        string     `json:"id"`
		EditedAt  *time.Time `json:"edited_at"`
		UpdatedAt *time.Time `json:"updated_at"`
		Account   *struct {
			ID string `json:"id"`
		} `json:"account"`
		TargetAccount *struct {
			ID string `json:"id"`
		} `json:"target_account"`
	}
	if err := json.Unmarshal(ev.Object, &head); err != nil {
		return nil, payloadErr("%s: object: %s", ev.Type, jsonProblem(err))
	}
	if !ValidID(head.ID) {
		return nil, payloadErr("%s: object.id must be Mastodon's numeric id as a string", ev.Type)
	}
	ev.ObjectID, ev.Key = head.ID, head.ID
	switch ev.Type {
	case EventAccountCreated, EventAccountApproved:
		ev.AccountID = head.ID
	case EventStatusCreated, EventStatusUpdated:
		if head.Account == nil || !ValidID(head.Account.ID) {
			return nil, payloadErr("%s: object.account.id is missing", ev.Type)
		}
		ev.AccountID = head.Account.ID
		if ev.Type == EventStatusUpdated && head.EditedAt != nil {
			ev.Key = head.ID + "@" + head.EditedAt.UTC().Format(time.RFC3339Nano)
		}
	case EventReportCreated, EventReportUpdated:
		if head.TargetAccount != nil && ValidID(head.TargetAccount.ID) {
			ev.AccountID = head.TargetAccount.ID
		}
		if ev.Type == EventReportUpdated && head.UpdatedAt != nil {
			ev.Key = head.ID + "@" + head.UpdatedAt.UTC().Format(time.RFC3339Nano)
		}
	}
	return &ev, nil
}

// ValidID accepts Mastodon's ids: decimal digits (Snowflake-like bigints),
// sent as strings. Ids read back from storage are checked with it before
// they are spliced into a URL path.
func ValidID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return te.Field + " has the wrong type"
		}
		return "a value has the wrong type"
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return "a timestamp is not RFC 3339"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the JSON is truncated or empty"
	}
	return "invalid JSON"
}

// AdminAccount is REST::Admin::Account
// (app/serializers/rest/admin/account_serializer.rb).
type AdminAccount struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Domain    *string   `json:"domain"`
	CreatedAt time.Time `json:"created_at"`
	Email     string    `json:"email"`
	// IP is the most recent of IPs (ips.first.ip), or null.
	IP         *string `json:"ip"`
	Role       *Role   `json:"role"`
	Confirmed  bool    `json:"confirmed"`
	Suspended  bool    `json:"suspended"`
	Silenced   bool    `json:"silenced"`
	Sensitized bool    `json:"sensitized"`
	Disabled   bool    `json:"disabled"`
	Approved   bool    `json:"approved"`
	Locale     *string `json:"locale"`
	// InviteRequest is the "why do you want to join?" text.
	InviteRequest *string `json:"invite_request"`
	// CreatedByApplicationID is present only for API sign-ups.
	CreatedByApplicationID *string `json:"created_by_application_id,omitempty"`
	// InvitedByAccountID is present only for sign-ups with an invite.
	InvitedByAccountID *string  `json:"invited_by_account_id,omitempty"`
	IPs                []IP     `json:"ips"`
	Account            *Account `json:"account"`
}

// Sanctioned reports whether a moderator has limited the account in any
// way the Admin API shows.
func (a *AdminAccount) Sanctioned() bool {
	return a.Suspended || a.Silenced || a.Sensitized || a.Disabled
}

// IP is REST::Admin::Ip: one address a user signed in from.
type IP struct {
	IP     string    `json:"ip"`
	UsedAt time.Time `json:"used_at"`
}

// Role is REST::RoleSerializer as embedded in admin accounts.
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Permissions string `json:"permissions"`
	Color       string `json:"color"`
	Highlighted bool   `json:"highlighted"`
}

// Account is REST::Account, the public profile.
type Account struct {
	ID             string    `json:"id"`
	Username       string    `json:"username"`
	Acct           string    `json:"acct"`
	DisplayName    string    `json:"display_name"`
	Locked         bool      `json:"locked"`
	Bot            bool      `json:"bot"`
	Discoverable   *bool     `json:"discoverable"`
	Group          bool      `json:"group"`
	CreatedAt      time.Time `json:"created_at"`
	Note           string    `json:"note"`
	URL            string    `json:"url"`
	URI            string    `json:"uri"`
	Avatar         string    `json:"avatar"`
	AvatarStatic   string    `json:"avatar_static"`
	Header         string    `json:"header"`
	HeaderStatic   string    `json:"header_static"`
	FollowersCount int       `json:"followers_count"`
	FollowingCount int       `json:"following_count"`
	StatusesCount  int       `json:"statuses_count"`
	LastStatusAt   *string   `json:"last_status_at"`
}

// Status is REST::Status as a webhook delivers it (rendered without a
// viewer, so no favourited/bookmarked members).
type Status struct {
	ID                 string            `json:"id"`
	CreatedAt          time.Time         `json:"created_at"`
	InReplyToID        *string           `json:"in_reply_to_id"`
	InReplyToAccountID *string           `json:"in_reply_to_account_id"`
	Sensitive          bool              `json:"sensitive"`
	SpoilerText        string            `json:"spoiler_text"`
	Visibility         string            `json:"visibility"`
	Language           *string           `json:"language"`
	URI                string            `json:"uri"`
	URL                *string           `json:"url"`
	RepliesCount       int               `json:"replies_count"`
	ReblogsCount       int               `json:"reblogs_count"`
	FavouritesCount    int               `json:"favourites_count"`
	EditedAt           *time.Time        `json:"edited_at"`
	Content            string            `json:"content"`
	Reblog             *Status           `json:"reblog"`
	Application        *Application      `json:"application,omitempty"`
	Account            Account           `json:"account"`
	MediaAttachments   []MediaAttachment `json:"media_attachments"`
	Mentions           []Mention         `json:"mentions"`
	Tags               []Tag             `json:"tags"`
	Card               *Card             `json:"card"`
}

// Application is the client a status was posted with.
type Application struct {
	Name    string  `json:"name"`
	Website *string `json:"website"`
}

// Mention is REST::Status::Mention.
type Mention struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	URL      string `json:"url"`
	Acct     string `json:"acct"`
}

// Tag is REST::Status::Tag.
type Tag struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Card is the link preview (REST::PreviewCard), when Mastodon made one.
type Card struct {
	URL  string `json:"url"`
	Type string `json:"type"`
}

// MediaAttachment is REST::MediaAttachment. Mastodon does not expose the
// file size in bytes; meta.original.size is the pixel size "WxH".
type MediaAttachment struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	URL         *string         `json:"url"`
	PreviewURL  *string         `json:"preview_url"`
	RemoteURL   *string         `json:"remote_url"`
	Meta        json.RawMessage `json:"meta"`
	Description *string         `json:"description"`
	Blurhash    *string         `json:"blurhash"`
}

// Report is REST::Admin::Report, as report.created and report.updated
// deliver it. ActionTaken is true once the report is resolved, whatever the
// moderator did; whether an account was sanctioned shows on TargetAccount.
type Report struct {
	ID            string        `json:"id"`
	ActionTaken   bool          `json:"action_taken"`
	ActionTakenAt *time.Time    `json:"action_taken_at"`
	Category      string        `json:"category"`
	Comment       string        `json:"comment"`
	Forwarded     bool          `json:"forwarded"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	Account       *AdminAccount `json:"account"`
	TargetAccount *AdminAccount `json:"target_account"`
	Statuses      []Status      `json:"statuses"`
}

// DecodeAccount reads the object of an account.* event.
func DecodeAccount(obj []byte) (*AdminAccount, error) {
	var a AdminAccount
	if err := json.Unmarshal(obj, &a); err != nil {
		return nil, payloadErr("account: %s", jsonProblem(err))
	}
	return &a, nil
}

// DecodeStatus reads the object of a status.* event.
func DecodeStatus(obj []byte) (*Status, error) {
	var s Status
	if err := json.Unmarshal(obj, &s); err != nil {
		return nil, payloadErr("status: %s", jsonProblem(err))
	}
	return &s, nil
}

// DecodeReport reads the object of a report.* event.
func DecodeReport(obj []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(obj, &r); err != nil {
		return nil, payloadErr("report: %s", jsonProblem(err))
	}
	return &r, nil
}
