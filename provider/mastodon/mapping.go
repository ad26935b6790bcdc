package mastodon

import (
	"errors"
	"html"
	"net/netip"
	"net/url"
	"path"
	"strings"

	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// ErrBoost is returned by ContentInput for a boost: it has no text of its
// own, and the boosted post was screened where it was written.
var ErrBoost = errors.New("mastodon: a boost carries no content of its own")

// Limits of the spam_detection request schema that a Mastodon payload could
// exceed; the mapping trims rather than fails, because the server is not
// at fault.
const (
	maxMedia    = 20
	maxMentions = 500
)

// SignupInput turns an account.created payload into a sign-up check:
// username, e-mail, the sign-up IP (ip, else the first of ips), locale, the
// invite_request text as the reason, created_by_application_id as the
// client application (API sign-ups) and invited_by_account_id as invited.
func SignupInput(a *AdminAccount) (screening.SignupInput, error) {
	var in screening.SignupInput
	if a == nil {
		return in, payloadErr("account: missing")
	}
	if strings.TrimSpace(a.Username) == "" {
		return in, payloadErr("account: username is empty")
	}
	if strings.TrimSpace(a.Email) == "" {
		return in, payloadErr("account: email is empty")
	}
	ip, err := signupIP(a)
	if err != nil {
		return in, err
	}
	in.Account = screening.SignupAccount{
		Username: a.Username,
		Email:    strings.TrimSpace(a.Email),
		Locale:   deref(a.Locale),
		Reason:   strings.TrimSpace(deref(a.InviteRequest)),
		Invited:  deref(a.InvitedByAccountID) != "",
	}
	if a.Account != nil {
		in.Account.DisplayName = a.Account.DisplayName
	}
	in.IP = ip
	if app := deref(a.CreatedByApplicationID); app != "" {
		// Mastodon gives the OAuth application's id, not its name; the
		// prefix keeps it from being mistaken for a name.
		in.Client = &screening.SignupClient{Application: "mastodon-app:" + app}
	}
	if !a.CreatedAt.IsZero() {
		t := a.CreatedAt.UTC()
		in.OccurredAt = &t
	}
	return in, nil
}

// signupIP picks the address the sign-up came from, normalised (an
// IPv4-mapped IPv6 address becomes IPv4, a zone is dropped).
func signupIP(a *AdminAccount) (string, error) {
	raw := deref(a.IP)
	if raw == "" && len(a.IPs) > 0 {
		raw = a.IPs[0].IP
	}
	if raw == "" {
		return "", payloadErr("account: no sign-up IP in the payload (accounts created with tootctl have none)")
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(raw))
	if err != nil {
		return "", payloadErr("account: ip is not an IP address")
	}
	return addr.Unmap().WithZone("").String(), nil
}

// ContentInput turns a status.created or status.updated payload into a
// content check: the HTML content (with the content warning prepended as
// its own paragraph, as the spec asks), mentions by acct, media by blurhash
// and type, the link preview's URL, visibility, and the author's age and
// counts. Mastodon's webhooks fire for local statuses only, so an acct
// without a domain is local.
func ContentInput(s *Status) (screening.ContentInput, error) {
	var in screening.ContentInput
	if s == nil {
		return in, payloadErr("status: missing")
	}
	if s.Reblog != nil {
		return in, ErrBoost
	}
	switch s.Visibility {
	case "public", "unlisted", "private", "direct":
	default:
		return in, payloadErr("status: visibility %q is not one of public, unlisted, private, direct", s.Visibility)
	}
	if strings.TrimSpace(s.Account.Acct) == "" {
		return in, payloadErr("status: account.acct is empty")
	}
	if s.Account.CreatedAt.IsZero() {
		return in, payloadErr("status: account.created_at is missing")
	}
	text := s.Content
	if cw := strings.TrimSpace(s.SpoilerText); cw != "" {
		text = "<p>" + html.EscapeString(cw) + "</p>" + text
	}
	in.Post = screening.Post{
		ID:         s.ID,
		URI:        s.URI,
		Text:       text,
		Language:   deref(s.Language),
		Visibility: s.Visibility,
		Mentions:   make([]screening.Mention, 0, len(s.Mentions)),
		InReplyTo:  deref(s.InReplyToID),
	}
	for _, m := range s.Mentions {
		if len(in.Post.Mentions) == maxMentions {
			break
		}
		if m.Acct != "" {
			in.Post.Mentions = append(in.Post.Mentions, screening.Mention{Acct: m.Acct})
		}
	}
	if s.Card != nil && isHTTPURL(s.Card.URL) {
		in.Post.Links = []string{s.Card.URL}
	}
	for _, m := range s.MediaAttachments {
		if len(in.Post.Media) == maxMedia {
			break
		}
		in.Post.Media = append(in.Post.Media, screening.Media{
			Blurhash: deref(m.Blurhash),
			MimeType: mediaType(m),
		})
	}
	followers, following, statuses := s.Account.FollowersCount, s.Account.FollowingCount, s.Account.StatusesCount
	in.Author = screening.Author{
		ID:          s.Account.ID,
		Acct:        s.Account.Acct,
		CreatedAt:   s.Account.CreatedAt.UTC(),
		Local:       !strings.Contains(s.Account.Acct, "@"),
		Followers:   &followers,
		Following:   &following,
		Statuses:    &statuses,
		DisplayName: s.Account.DisplayName,
	}
	at := s.CreatedAt
	if s.EditedAt != nil {
		at = *s.EditedAt
	}
	if !at.IsZero() {
		at = at.UTC()
		in.OccurredAt = &at
	}
	return in, nil
}

// mediaTypes are the file types Mastodon stores media as. A fixed table
// (not mime.TypeByExtension) so the answer does not depend on the host's
// /etc/mime.types.
var mediaTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".heic": "image/heic",
	".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime",
	".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
	".wav": "audio/wav", ".m4a": "audio/mp4", ".flac": "audio/flac",
}

// mediaType derives a media type from the file name Mastodon serves, which
// keeps the stored extension; it is empty when nothing reliable is known.
func mediaType(m MediaAttachment) string {
	raw := deref(m.URL)
	if raw == "" {
		raw = deref(m.RemoteURL)
	}
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return ""
	}
	return mediaTypes[strings.ToLower(path.Ext(u.Path))]
}

func isHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
