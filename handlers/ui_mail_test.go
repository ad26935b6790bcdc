package handlers_test

import (
	"bufio"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
)

// smtpServer is a tiny SMTP server for tests: it accepts AUTH PLAIN with
// one user, takes messages and hands them over on a channel.
type smtpServer struct {
	t        testing.TB
	ln       net.Listener
	user, pw string
	Mails    chan receivedMail
	wg       sync.WaitGroup
}

type receivedMail struct {
	From, To string
	AuthUser string
	Msg      *mail.Message
	Body     string
}

func newSMTPServer(t testing.TB) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{t: t, ln: ln, user: "mailer", pw: "s3cret", Mails: make(chan receivedMail, 8)}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// URL is the BREAKWATER_SMTP_URL for this server.
func (s *smtpServer) URL() string {
	return "smtp://" + s.user + ":" + s.pw + "@" + s.ln.Addr().String()
}

func (s *smtpServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
		}()
	}
}

func (s *smtpServer) session(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = io.WriteString(c, line+"\r\n") }
	say("220 test.smtp ESMTP")
	var m receivedMail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO", "HELO":
			say("250-test.smtp")
			say("250 AUTH PLAIN")
		case "AUTH":
			parts := strings.Fields(line)
			raw, _ := base64.StdEncoding.DecodeString(parts[len(parts)-1])
			f := strings.Split(string(raw), "\x00")
			if len(f) == 3 && f[1] == s.user && f[2] == s.pw {
				m.AuthUser = f[1]
				say("235 ok")
			} else {
				say("535 bad credentials")
			}
		case "MAIL":
			if m.AuthUser == "" {
				say("530 authentication required")
				continue
			}
			m.From = strings.Trim(strings.TrimPrefix(line[5:], "FROM:"), "<> ")
			say("250 ok")
		case "RCPT":
			m.To = strings.Trim(strings.TrimPrefix(line[5:], "TO:"), "<> ")
			say("250 ok")
		case "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			msg, err := mail.ReadMessage(strings.NewReader(b.String()))
			if err != nil {
				s.t.Errorf("smtp: unparsable message: %v", err)
				say("554 bad message")
				continue
			}
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			m.Msg, m.Body = msg, string(body)
			s.Mails <- m
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *smtpServer) wait(t testing.TB) receivedMail {
	t.Helper()
	select {
	case m := <-s.Mails:
		return m
	case <-time.After(15 * time.Second):
		t.Fatal("no e-mail arrived")
		return receivedMail{}
	}
}

var linkRe = regexp.MustCompile(`http://\S+/password/reset\?token=\S+`)

// TestWebPasswordReset sends a reset link by e-mail (in the language the
// request was made in), lets it set a new password once, and signs the
// account out everywhere.
func TestWebPasswordReset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		smtp := newSMTPServer(t)
		app := newUIApp(t, tg, uiOptions{smtpURL: smtp.URL()})
		m := handlertest.NewMastodon(t)
		old, _ := registerServer(t, app, m, "admin@example.org")

		b := newBrowser(t, app.URL)
		b.lang = "ja,en;q=0.5"
		b.get("/password/forgot").want(200).contains("パスワードを忘れた場合")
		b.post("/password/forgot", url.Values{"email": {"Admin@example.org"}}).wantRedirect("/password/forgot?done=reset_sent")
		got := smtp.wait(t)
		if got.To != "admin@example.org" || got.AuthUser != "mailer" || got.From != "noreply@breakwater.test" {
			t.Errorf("envelope %+v", got)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(got.Msg.Header.Get("Subject"))
		if err != nil || !strings.Contains(subject, "新しいパスワード") {
			t.Errorf("subject %q (%v), want Japanese", subject, err)
		}
		if !strings.Contains(got.Body, "1時間有効") {
			t.Errorf("body not in Japanese: %q", got.Body)
		}
		link := linkRe.FindString(got.Body)
		if link == "" {
			t.Fatalf("no link in %q", got.Body)
		}
		if strings.Contains(app.Logs.String(), "admin@example.org") || strings.Contains(app.Logs.String(), link[strings.Index(link, "token=")+6:]) {
			t.Error("the address or the reset token was logged")
		}

		// An unknown address gets the same answer and no e-mail.
		b.post("/password/forgot", url.Values{"email": {"nobody@example.org"}}).wantRedirect("/password/forgot?done=reset_sent")

		path := strings.TrimPrefix(link, app.URL)
		b.get(path).want(200).contains(`name="token"`)
		b.post("/password/reset", url.Values{"token": {path[strings.Index(path, "token=")+6:]}, "password": {"short"}}).
			want(http.StatusUnprocessableEntity).contains("10 文字以上")
		b.post("/password/reset", url.Values{"token": {path[strings.Index(path, "token=")+6:]}, "password": {"a brand new passphrase"}}).
			wantRedirect("/login?done=password_changed")
		b.get(path).want(http.StatusGone)
		old.get("/admin").wantRedirect("/login") // signed out everywhere
		signIn(t, app, "admin@example.org", "correct horse battery").want(http.StatusUnauthorized)
		signIn(t, app, "admin@example.org", "a brand new passphrase").wantRedirect("/admin")
		select {
		case extra := <-smtp.Mails:
			t.Errorf("an e-mail went to %s", extra.To)
		case <-time.After(200 * time.Millisecond):
		}
	})
}

// TestWebApproval makes the FASP registration call only when the operator
// approves, then tells the admin by e-mail in their language.
func TestWebApproval(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		smtp := newSMTPServer(t)
		app := newUIApp(t, tg, uiOptions{mode: provider.RegistrationApproval, smtpURL: smtp.URL()})
		if err := app.Svc.CreateOperator(t.Context(), "ops@example.org", "operator passphrase"); err != nil {
			t.Fatal(err)
		}
		m := handlertest.NewMastodon(t)
		admin := newBrowser(t, app.URL)
		admin.lang = "ja"
		admin.get("/register").want(200).contains("申請制")
		admin.post("/register", url.Values{"serverUrl": {m.Server.URL}, "email": {"admin@example.org"}, "password": {"correct horse battery"},
			"acceptTerms": {"yes"}}).wantRedirect("/register/requested")
		if n := len(m.Providers()); n != 0 {
			t.Fatalf("the server got %d registration requests before approval", n)
		}
		signIn(t, app, "admin@example.org", "correct horse battery").want(http.StatusUnauthorized)

		op := signIn(t, app, "ops@example.org", "operator passphrase").wantRedirect("/operator")
		op.follow().want(200).contains("admin@example.org", m.Server.URL)
		id := regexp.MustCompile(`/operator/registrations/([0-9a-z]+)/approve`).FindStringSubmatch(op.Body)[1]
		op.post("/operator/registrations/"+id+"/approve", nil).wantRedirect("/operator?done=approved")
		if n := len(m.Providers()); n != 1 {
			t.Fatalf("%d registration requests after approval", n)
		}
		got := smtp.wait(t)
		if subject, _ := new(mime.WordDecoder).DecodeHeader(got.Msg.Header.Get("Subject")); !strings.Contains(subject, "登録が完了") {
			t.Errorf("approval e-mail subject %q", subject)
		}
		op.follow().want(200).lacks("/operator/registrations/" + id)

		b := signIn(t, app, "admin@example.org", "correct horse battery").wantRedirect("/admin")
		b.lang = "ja"
		b.get("/admin/setup").want(200).contains(provider.Fingerprint(m.Providers()[0].ProviderPublicKey), "鍵のフィンガープリント")
	})
}

// TestWebRegistrationForm shows each problem next to its field, keeps what
// was typed (but never the password), and enforces the invite code.
func TestWebRegistrationForm(t *testing.T) {
	app := newUIApp(t, testdb.SQLite(t), uiOptions{mode: provider.RegistrationInvite, invite: "let-me-in-please"})
	m := handlertest.NewMastodon(t)
	b := newBrowser(t, app.URL).get("/register").want(200).contains(`name="inviteCode"`)
	b.post("/register", url.Values{"serverUrl": {m.Server.URL}, "email": {"not-an-address"}, "password": {"short"},
		"inviteCode": {"wrong"}}).want(http.StatusUnprocessableEntity).
		contains(`id="e-email"`, `id="e-password"`, `id="e-acceptTerms"`, `id="e-inviteCode"`, `aria-invalid="true"`,
			`value="`+m.Server.URL+`"`, `value="not-an-address"`).lacks(`value="short"`)
	if len(m.Providers()) != 0 {
		t.Fatal("an invalid form reached the server")
	}
	b.post("/register", url.Values{"serverUrl": {m.Server.URL}, "email": {"a@example.org"}, "password": {"correct horse battery"},
		"acceptTerms": {"yes"}, "inviteCode": {"let-me-in-please"}}).wantRedirect("/admin/setup")

	// A server that does not speak FASP: the upstream's answer is shown.
	plain := newBrowser(t, app.URL).get("/register")
	plain.post("/register", url.Values{"serverUrl": {app.URL}, "email": {"b@example.org"}, "password": {"correct horse battery"},
		"acceptTerms": {"yes"}, "inviteCode": {"let-me-in-please"}}).want(http.StatusBadGateway).contains(`role="alert"`)
	// The same address cannot register twice.
	again := newBrowser(t, app.URL).get("/register")
	again.post("/register", url.Values{"serverUrl": {m.Server.URL}, "email": {"A@example.org"}, "password": {"correct horse battery"},
		"acceptTerms": {"yes"}, "inviteCode": {"let-me-in-please"}}).want(http.StatusUnprocessableEntity).contains("already registered")

	closed := newUIApp(t, testdb.SQLite(t), uiOptions{mode: provider.RegistrationClosed})
	c := newBrowser(t, closed.URL).get("/register").want(200).lacks(`action="/register"`)
	c.post("/register", url.Values{"serverUrl": {m.Server.URL}}).want(http.StatusForbidden)
}

// TestWebMailFailure logs a failed delivery without the address and still
// answers the visitor the same way.
func TestWebMailFailure(t *testing.T) {
	smtp := newSMTPServer(t)
	bad := strings.Replace(smtp.URL(), ":s3cret@", ":wrong@", 1)
	app := newUIApp(t, testdb.SQLite(t), uiOptions{smtpURL: bad})
	m := handlertest.NewMastodon(t)
	registerServer(t, app, m, "admin@example.org")
	b := newBrowser(t, app.URL).get("/password/forgot")
	b.post("/password/forgot", url.Values{"email": {"admin@example.org"}}).wantRedirect("/password/forgot?done=reset_sent")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(app.Logs.String(), "send e-mail") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	logs := app.Logs.String()
	if !strings.Contains(logs, "send e-mail") {
		t.Fatal("the failed delivery was not logged")
	}
	if strings.Contains(logs, "admin@example.org") || strings.Contains(logs, "wrong") {
		t.Errorf("the log names the address or the SMTP password: %s", logs)
	}
}
