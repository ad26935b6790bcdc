package provider

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"regexp"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
)

var emailRe = regexp.MustCompile(`[^\s<>"'()]+@[^\s<>"'()]+`)

// Mail is one e-mail, already written in its reader's language.
type Mail struct {
	Subject string
	Body    string
}

// MailComposer writes an e-mail in the given language around a link. The
// HTTP layer owns the message catalogues, so it supplies the words and the
// provider decides whom to send them to.
type MailComposer func(locale, link string) Mail

// MailEnabled tells whether e-mail (password resets, notices) can be sent.
func (s *Service) MailEnabled() bool { return s.opts.SMTPURL != "" }

// sendInBackground sends without holding up the request, so that response
// time does not reveal whether an address has an account. Failures are
// logged with the account id, never the address.
func (s *Service) sendInBackground(accountID, to string, m Mail) {
	started := s.goBackground(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.sendMail(ctx, to, m); err != nil {
			// SMTP replies often quote the recipient; never log an address.
			s.opts.Logger.Error("send e-mail", "account_id", accountID, "error", emailRe.ReplaceAllString(err.Error(), "[address]"))
		}
	})
	if !started {
		s.opts.Logger.Error("send e-mail: too much background work in flight", "account_id", accountID)
	}
}

// sendMail delivers one message over SMTP: smtps:// uses implicit TLS,
// smtp:// upgrades with STARTTLS when the server offers it. Credentials in
// the URL are sent only over TLS or to a loopback server.
func (s *Service) sendMail(ctx context.Context, to string, m Mail) error {
	u, err := parseSMTPURL(s.opts.SMTPURL)
	if err != nil {
		return err
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = map[string]string{"smtp": "587", "smtps": "465"}[u.Scheme]
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("connect to SMTP server: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if u.Scheme == "smtps" {
		conn = tls.Client(conn, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.opts.PublicURL.Hostname()); err != nil {
		return fmt.Errorf("SMTP hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && u.Scheme == "smtp" {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("SMTP STARTTLS: %w", err)
		}
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		if err := c.Auth(smtp.PlainAuth("", u.User.Username(), pw, host)); err != nil {
			return fmt.Errorf("SMTP authentication: %w", err)
		}
	}
	from, err := mail.ParseAddress(s.opts.SMTPFrom)
	if err != nil {
		return fmt.Errorf("from address: %w", err)
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("SMTP RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	msg, err := s.formatMail(from, to, m)
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("SMTP write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP end message: %w", err)
	}
	return c.Quit()
}

// formatMail renders a UTF-8 plain-text message with an encoded subject, so
// Japanese text survives any relay.
func (s *Service) formatMail(from *mail.Address, to string, m Mail) ([]byte, error) {
	var buf bytes.Buffer
	from.Name = s.opts.Name
	hdr := [][2]string{
		{"From", from.String()},
		{"To", to},
		{"Subject", mime.BEncoding.Encode("utf-8", m.Subject)},
		{"Date", s.now().Format(time.RFC1123Z)},
		{"Message-ID", "<" + models.NewID(s.now()) + "@" + s.opts.PublicURL.Hostname() + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
		{"Auto-Submitted", "auto-generated"},
	}
	for _, h := range hdr {
		if strings.ContainsAny(h[1], "\r\n") {
			return nil, fmt.Errorf("mail header %s contains a line break", h[0])
		}
		buf.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	buf.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&buf)
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, fmt.Errorf("encode mail body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("encode mail body: %w", err)
	}
	return buf.Bytes(), nil
}
