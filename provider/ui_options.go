package provider

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Registration modes for the web form.
const (
	RegistrationOpen     = "open"
	RegistrationApproval = "approval"
	RegistrationInvite   = "invite"
	RegistrationClosed   = "closed"
)

// webDefaults fills and checks the web interface's options.
func (o *Options) webDefaults() error {
	switch o.RegistrationMode {
	case "":
		o.RegistrationMode = RegistrationApproval
	case RegistrationOpen, RegistrationApproval, RegistrationClosed:
	case RegistrationInvite:
		if len(o.InviteCode) < 8 {
			return errors.New("provider: registration mode invite needs an invite code of at least 8 characters")
		}
	default:
		return fmt.Errorf("provider: registration mode %q must be open, approval, invite or closed", o.RegistrationMode)
	}
	if o.SMTPURL != "" {
		if _, err := parseSMTPURL(o.SMTPURL); err != nil {
			return fmt.Errorf("provider: SMTP URL: %w", err)
		}
		if _, err := mail.ParseAddress(o.SMTPFrom); err != nil {
			return fmt.Errorf("provider: SMTP from address %q: %w", o.SMTPFrom, err)
		}
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 2 * time.Hour
	}
	if o.SignInURL == "" && o.PublicURL != nil {
		u := *o.PublicURL
		u.Path, u.RawQuery, u.Fragment = "/login", "", ""
		o.SignInURL = u.String()
	}
	return nil
}

// RegistrationMode is how the web form registers servers.
func (s *Service) RegistrationMode() string { return s.opts.RegistrationMode }

// PrivacyNote is the operator's addition to the privacy page, as paragraphs.
func (s *Service) PrivacyNote() []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s.opts.PrivacyNote, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// RetentionDays is how long check details are kept, in whole days (at
// least 1), for the privacy page.
func (s *Service) RetentionDays() int {
	if d := int(s.opts.Retention / (24 * time.Hour)); d > 0 {
		return d
	}
	return 1
}

// SecureCookies tells whether cookies must be marked Secure (the public URL
// is https).
func (s *Service) SecureCookies() bool { return s.opts.PublicURL.Scheme == "https" }

// webState is the web interface's per-replica memory. Its zero value is
// ready to use.
type webState struct {
	once   sync.Once
	client *rateLimiter // sign-in attempts per client address (hashed)
	// lastPrune is when expired sessions were last deleted (unix seconds).
	lastPrune atomic.Int64
}

// pruneDue reports, at most once an hour per replica, that expired web
// state should be deleted.
func (w *webState) pruneDue(now time.Time) bool {
	last := w.lastPrune.Load()
	return now.Unix()-last >= 3600 && w.lastPrune.CompareAndSwap(last, now.Unix())
}

func (w *webState) clientLimiter() *rateLimiter {
	w.once.Do(func() {
		// 20 attempts, then one every 30 seconds, per client address.
		w.client = newRateLimiter(1.0/30, 20)
	})
	return w.client
}

func parseSMTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, fmt.Errorf("scheme %q must be smtp or smtps", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("no host")
	}
	return u, nil
}
