package screening

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// emailPattern is the spec's rule for account.email (schema
// signup-check-request.json): 1-64 characters before the only @, a domain of
// at least two dot-separated labels, the last at least two characters, no
// whitespace and none of < > ( ) [ ] \ , ; : ". Compiled once, never
// modified.
var emailPattern = regexp.MustCompile(`^[^\s\p{Z}@<>()\[\]\\,;:"]{1,64}@(?:[^\s\p{Z}@<>()\[\]\\,;:".]{1,63}\.)+[^\s\p{Z}@<>()\[\]\\,;:".]{2,63}$`)

// Visibility values on the wire.
var visibilities = map[string]bool{"public": true, "unlisted": true, "private": true, "direct": true}

func runes(s string) int { return utf8.RuneCountInString(s) }

func maxLen(field, s string, n int) *fault.ValidationError {
	if runes(s) > n {
		return fault.Invalid(field, "must be at most %d characters", n)
	}
	return nil
}

func firstErr(errs ...*fault.ValidationError) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ValidateSignup trims the sign-up's strings in place and checks required
// fields and limits, returning a *fault.ValidationError naming the first bad
// field by its JSON path ("account.email", "ip", …). It is the Go side of
// schemas/signup-check-request.json; type errors (a string where a boolean
// belongs) are the JSON decoder's to report.
func ValidateSignup(in *SignupInput) error {
	a := &in.Account
	a.Username = strings.TrimSpace(a.Username)
	a.DisplayName = strings.TrimSpace(a.DisplayName)
	a.Email = strings.TrimSpace(a.Email)
	a.Locale = strings.TrimSpace(a.Locale)
	in.IP = strings.TrimSpace(in.IP)
	in.UserAgent = strings.TrimSpace(in.UserAgent)

	switch n := runes(a.Username); {
	case n == 0:
		return fault.Invalid("account.username", "is required")
	case n > 64:
		return fault.Invalid("account.username", "must be at most 64 characters")
	}
	if !utf8.ValidString(a.Username) {
		return fault.Invalid("account.username", "must be valid UTF-8")
	}
	switch {
	case a.Email == "":
		return fault.Invalid("account.email", "is required")
	case runes(a.Email) > 320 || !utf8.ValidString(a.Email) || !emailPattern.MatchString(a.Email):
		return fault.Invalid("account.email", "must be an e-mail address of the form local@domain")
	}
	if err := firstErr(
		maxLen("account.displayName", a.DisplayName, 256),
		maxLen("account.locale", a.Locale, 35),
		maxLen("account.reason", a.Reason, 5000),
		maxLen("userAgent", in.UserAgent, 1024),
	); err != nil {
		return err
	}
	if in.IP == "" {
		return fault.Invalid("ip", "is required")
	}
	ip, err := netip.ParseAddr(in.IP)
	if err != nil || ip.Zone() != "" {
		return fault.Invalid("ip", "must be an IPv4 or IPv6 address without port, brackets, zone or prefix length")
	}
	if c := in.Client; c != nil {
		c.Application = strings.TrimSpace(c.Application)
		if err := maxLen("client.application", c.Application, 256); err != nil {
			return err
		}
		if fs := c.FormSeconds; fs != nil && (*fs < 0 || math.IsNaN(*fs) || math.IsInf(*fs, 0)) {
			return fault.Invalid("client.formSeconds", "must be a number of seconds, at least 0")
		}
	}
	return nil
}

// ValidateContent trims the post's strings in place, lower-cases media
// hashes, and checks required fields and limits, returning a
// *fault.ValidationError naming the first bad field ("post.media[1].phash",
// …). It is the Go side of schemas/content-check-request.json. Links that
// are not absolute http(s) URLs are not an error: screening ignores them.
func ValidateContent(in *ContentInput) error {
	p := &in.Post
	p.Visibility = strings.TrimSpace(p.Visibility)
	if runes(p.Text) > 100_000 {
		return fault.Invalid("post.text", "must be at most 100000 characters")
	}
	if err := firstErr(
		maxLen("post.id", p.ID, 256),
		maxLen("post.uri", p.URI, 2048),
		maxLen("post.language", p.Language, 35),
		maxLen("post.inReplyTo", p.InReplyTo, 2048),
	); err != nil {
		return err
	}
	if !visibilities[p.Visibility] {
		return fault.Invalid("post.visibility", "must be public, unlisted, private or direct")
	}
	if p.Mentions == nil {
		return fault.Invalid("post.mentions", "is required ([] when the post mentions nobody)")
	}
	if len(p.Mentions) > 500 {
		return fault.Invalid("post.mentions", "must have at most 500 entries")
	}
	for i := range p.Mentions {
		m := &p.Mentions[i]
		m.Acct = strings.TrimSpace(m.Acct)
		if n := runes(strings.TrimPrefix(m.Acct, "@")); n == 0 || runes(m.Acct) > 512 {
			return fault.Invalid(fmt.Sprintf("post.mentions[%d].acct", i), "is required, at most 512 characters")
		}
	}
	if len(p.Links) > 100 {
		return fault.Invalid("post.links", "must have at most 100 entries")
	}
	for i := range p.Links {
		p.Links[i] = strings.TrimSpace(p.Links[i])
		if err := maxLen(fmt.Sprintf("post.links[%d]", i), p.Links[i], 2048); err != nil {
			return err
		}
	}
	if len(p.Media) > 20 {
		return fault.Invalid("post.media", "must have at most 20 entries")
	}
	for i := range p.Media {
		m := &p.Media[i]
		field := fmt.Sprintf("post.media[%d]", i)
		m.SHA256 = strings.ToLower(strings.TrimSpace(m.SHA256))
		m.PHash = strings.ToLower(strings.TrimSpace(m.PHash))
		if m.SHA256 != "" && !isHex(m.SHA256, 64) {
			return fault.Invalid(field+".sha256", "must be 64 hexadecimal digits")
		}
		if m.PHash != "" && !isHex(m.PHash, 16) {
			return fault.Invalid(field+".phash", "must be 16 hexadecimal digits")
		}
		if m.Size < 0 {
			return fault.Invalid(field+".size", "must be at least 0")
		}
		if err := firstErr(maxLen(field+".blurhash", m.Blurhash, 200), maxLen(field+".mimeType", m.MimeType, 255)); err != nil {
			return err
		}
	}
	a := &in.Author
	a.Acct = strings.TrimSpace(a.Acct)
	if n := runes(strings.TrimPrefix(a.Acct, "@")); n == 0 || runes(a.Acct) > 512 {
		return fault.Invalid("author.acct", "is required, at most 512 characters")
	}
	if a.CreatedAt.IsZero() {
		return fault.Invalid("author.createdAt", "is required")
	}
	if err := firstErr(maxLen("author.id", a.ID, 256), maxLen("author.displayName", a.DisplayName, 256)); err != nil {
		return err
	}
	for _, c := range []struct {
		field string
		v     *int
	}{{"author.followers", a.Followers}, {"author.following", a.Following}, {"author.statuses", a.Statuses}} {
		if c.v != nil && *c.v < 0 {
			return fault.Invalid(c.field, "must be at least 0")
		}
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
