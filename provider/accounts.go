package provider

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// Roles of web accounts.
const (
	RoleAdmin    = models.RoleAdmin
	RoleOperator = models.RoleOperator
)

// ErrBadCredentials is a failed sign-in. It never says whether the e-mail
// or the password was wrong.
var ErrBadCredentials = errors.New("wrong e-mail address or password")

// Sign-in throttling: after maxLoginFailures consecutive failures for one
// e-mail address (existing or not) it is locked for loginLockout.
const (
	maxLoginFailures = 5
	loginLockout     = 15 * time.Minute
	resetTokenTTL    = time.Hour
	minPassword      = 10
	maxPassword      = 256
)

// argon2id parameters: OWASP's minimum recommendation (19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id into a PHC string.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verifyPassword checks a password against an argon2id PHC string or, for
// imported accounts, a bcrypt hash.
func verifyPassword(hash, password string) bool {
	if strings.HasPrefix(hash, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when an e-mail has no account, so that a
// failed sign-in takes as long whether or not the address is known.
var dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$Q2hhbmdlIG1lOiB0aGlzIGlzIG5vdCBhIHJlYWwga2V5"

// normalizeEmail checks and lower-cases an e-mail address.
func normalizeEmail(field, raw string) (string, *fault.ValidationError) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fault.Invalid(field, "is required")
	}
	a, err := mail.ParseAddress(raw)
	if err != nil || a.Address != raw || len(raw) > 320 || !strings.Contains(raw[strings.LastIndex(raw, "@")+1:], ".") {
		return "", fault.Invalid(field, "is not an e-mail address")
	}
	return strings.ToLower(raw), nil
}

func checkPassword(field, pw, email string) *fault.ValidationError {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < minPassword:
		return fault.Invalid(field, "must be at least %d characters", minPassword)
	case len(pw) > maxPassword:
		return fault.Invalid(field, "must be at most %d bytes", maxPassword)
	case strings.EqualFold(pw, email):
		return fault.Invalid(field, "must not be the e-mail address")
	}
	return nil
}

// FieldErrors is every problem found in one form, so that each can be shown
// next to its field. It unwraps to its members, so errors.As finds the
// first *fault.ValidationError.
type FieldErrors []*fault.ValidationError

// Error lists every problem, field by field.
func (e FieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, v := range e {
		msgs[i] = v.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap exposes the members to errors.Is and errors.As.
func (e FieldErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, v := range e {
		out[i] = v
	}
	return out
}

func (e FieldErrors) orNil() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Session is a signed-in browser. ID is the stored hash of its cookie
// token: stable for the session, useless as a credential.
type Session struct {
	ID        string
	AccountID string
	Email     string
	Role      string
	ServerID  string
	Locale    string
	ExpiresAt time.Time
	// Server is the admin's server as every admin page shows it; nil for
	// operators.
	Server *SessionServer
}

// SessionServer is the admin's server: its name, whether the operator
// suspended it, and its quota (for the 80 % and 100 % warnings).
type SessionServer struct {
	Domain string
	Status string
	Quota  Quota
}

// SignInInput is the sign-in form plus the client's address, which is only
// hashed and kept in memory for throttling.
type SignInInput struct {
	Email    string
	Password string
	Client   string
}

// SignIn checks a password and opens a session; it returns the cookie token.
// Failures are ErrBadCredentials, or *fault.RateLimited while the address or
// the client is locked out.
func (s *Service) SignIn(ctx context.Context, in SignInInput) (string, *Session, error) {
	now := s.now()
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if ok, wait := s.web.clientLimiter().allow(s.box.Hash("login-client", in.Client), now); !ok {
		return "", nil, &fault.RateLimited{Message: "too many sign-in attempts from this address", RetryAfter: wait}
	}
	// The primary key's hash only, unlike erasure (Hashes): a lockout
	// lasts loginLockout and a stale count is pruned after a day, so a
	// secret-key rotation at most lets one address's count start again
	// once, which is not worth a query per configured key on every sign-in.
	key := s.box.Hash("login-email", email)
	until, err := s.db.LoginLockedUntil(ctx, key, now)
	if err != nil {
		return "", nil, fmt.Errorf("read sign-in throttle: %w", err)
	}
	if !until.IsZero() {
		return "", nil, &fault.RateLimited{Message: "too many failed sign-ins for this account", RetryAfter: until.Sub(now)}
	}
	acc, err := s.db.AccountByEmail(ctx, email)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return "", nil, fmt.Errorf("look up account: %w", err)
	}
	hash := dummyHash
	if acc != nil {
		hash = acc.PasswordHash
	}
	if !verifyPassword(hash, in.Password) || acc == nil {
		locked, err := s.db.RecordLoginFailure(ctx, key, now, maxLoginFailures, loginLockout)
		if err != nil {
			return "", nil, fmt.Errorf("record failed sign-in: %w", err)
		}
		if !locked.IsZero() {
			s.opts.Logger.WarnContext(ctx, "sign-in locked after repeated failures", "lock_minutes", loginLockout.Minutes())
			return "", nil, &fault.RateLimited{Message: "too many failed sign-ins for this account", RetryAfter: locked.Sub(now)}
		}
		return "", nil, ErrBadCredentials
	}
	if err := s.db.ClearLoginFailures(ctx, key); err != nil {
		return "", nil, fmt.Errorf("clear sign-in throttle: %w", err)
	}
	if err := s.db.TouchLogin(ctx, acc.ID, now); err != nil {
		return "", nil, fmt.Errorf("record sign-in: %w", err)
	}
	return s.openSession(ctx, acc)
}

func (s *Service) openSession(ctx context.Context, acc *models.Account) (string, *Session, error) {
	token, hash, err := newToken()
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	row := &models.Session{TokenHash: hash, AccountID: acc.ID, ServerID: acc.ServerID, Role: acc.Role,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.opts.SessionTTL)}
	if err := s.db.CreateSession(ctx, row); err != nil {
		return "", nil, fmt.Errorf("store session: %w", err)
	}
	s.opts.Logger.InfoContext(ctx, "signed in", "account_id", acc.ID, "role", acc.Role, "server_id", acc.ServerID)
	if s.web.pruneDue(now) {
		if err := s.PruneWebState(ctx); err != nil {
			s.opts.Logger.WarnContext(ctx, "prune expired sessions", "error", err)
		}
	}
	return token, sessionOf(row, acc), nil
}

func sessionOf(row *models.Session, acc *models.Account) *Session {
	return &Session{ID: row.TokenHash, AccountID: acc.ID, Email: acc.Email, Role: acc.Role, ServerID: acc.ServerID,
		Locale: acc.Locale, ExpiresAt: row.ExpiresAt}
}

// SessionByToken returns the session a cookie token opens, or
// fault.ErrNotFound when it is unknown, expired or idle too long.
func (s *Service) SessionByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, fault.ErrNotFound
	}
	now := s.now()
	hash := hashToken(token)
	row, err := s.db.GetSession(ctx, hash, now)
	if err != nil {
		return nil, dbErr("load session", err)
	}
	if now.Sub(row.LastSeenAt) > s.opts.SessionIdle {
		if err := s.db.DeleteSession(ctx, hash); err != nil {
			return nil, fmt.Errorf("end idle session: %w", err)
		}
		return nil, fault.ErrNotFound
	}
	acc, err := s.db.AccountByID(ctx, row.AccountID)
	if err != nil {
		return nil, dbErr("load session account", err)
	}
	if acc.Role != row.Role || acc.ServerID != row.ServerID {
		return nil, fault.ErrNotFound
	}
	sess := sessionOf(row, acc)
	if acc.Role == RoleAdmin {
		srv, err := s.db.GetServer(ctx, acc.ServerID)
		if err != nil {
			// The server was deleted (by the CLI): its admins are signed out.
			return nil, dbErr("load session server", err)
		}
		used, err := s.monthUsage(ctx, srv.ID, now)
		if err != nil {
			return nil, fmt.Errorf("read usage of %s: %w", srv.ID, err)
		}
		sess.Server = &SessionServer{Domain: srv.Domain, Status: srv.Status, Quota: quotaOf(used, srv.MonthlyQuota, now)}
	}
	if now.Sub(row.LastSeenAt) > time.Minute {
		if err := s.db.TouchSession(ctx, hash, now); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return sess, nil
}

// SignOut ends the session a cookie token opens; an unknown token is fine.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if err := s.db.DeleteSession(ctx, hashToken(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// SetLocale records the language a signed-in person's e-mails use.
func (s *Service) SetLocale(ctx context.Context, accountID, locale string) error {
	if err := s.db.SetAccountLocale(ctx, accountID, locale); err != nil {
		return fmt.Errorf("store locale: %w", err)
	}
	return nil
}

// FormToken derives the anti-forgery token for a form from a per-browser
// value (and the session, when signed in): only this deployment, which
// holds the secret, can compute it, and a page on another site can neither
// read the cookie nor the token.
func (s *Service) FormToken(binding string) string {
	return s.box.Hash("form-token", binding)
}

// CreateOperator creates an operator account (the operator CLI).
func (s *Service) CreateOperator(ctx context.Context, email, password string) error {
	addr, verr := normalizeEmail("email", email)
	if verr != nil {
		return verr
	}
	if verr := checkPassword("password", password, addr); verr != nil {
		return verr
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	now := s.now()
	acc := &models.Account{ID: models.NewID(now), Email: addr, PasswordHash: hash, Role: RoleOperator, CreatedAt: now, UpdatedAt: now}
	if err := s.db.CreateAccount(ctx, acc); err != nil {
		if errors.Is(err, models.ErrDuplicate) {
			return fmt.Errorf("an account with this e-mail address exists: %w", fault.ErrConflict)
		}
		return fmt.Errorf("create operator: %w", err)
	}
	return nil
}

// SetPassword replaces an account's password (the operator CLI) and ends its
// sessions.
func (s *Service) SetPassword(ctx context.Context, email, password string) error {
	addr, verr := normalizeEmail("email", email)
	if verr != nil {
		return verr
	}
	if verr := checkPassword("password", password, addr); verr != nil {
		return verr
	}
	acc, err := s.db.AccountByEmail(ctx, addr)
	if err != nil {
		return dbErr("look up account", err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := s.db.SetAccountPassword(ctx, acc.ID, hash, s.now()); err != nil {
		return dbErr("store password", err)
	}
	return s.db.ClearLoginFailures(ctx, s.box.Hash("login-email", addr))
}

// AccountInfo describes a web account without secrets.
type AccountInfo struct {
	Email       string
	Role        string
	ServerID    string
	LastLoginAt *time.Time
	CreatedAt   time.Time
}

// Operators lists the operator accounts.
func (s *Service) Operators(ctx context.Context) ([]AccountInfo, error) {
	rows, err := s.db.ListAccounts(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	out := make([]AccountInfo, len(rows))
	for i, r := range rows {
		out[i] = AccountInfo{Email: r.Email, Role: r.Role, ServerID: r.ServerID, LastLoginAt: r.LastLoginAt, CreatedAt: r.CreatedAt}
	}
	return out, nil
}

// ResetRequest asks for a password-reset e-mail. Compose writes it, in the
// account's language, around the link.
type ResetRequest struct {
	Email   string
	Locale  string
	Compose MailComposer
}

// RequestPasswordReset sends a single-use reset link if the address has an
// account. It answers the same, and as fast, whether or not it does; the
// e-mail goes out in the background.
func (s *Service) RequestPasswordReset(ctx context.Context, in ResetRequest) error {
	if !s.MailEnabled() {
		return &fault.Forbidden{Message: "password reset by e-mail is not configured"}
	}
	addr, verr := normalizeEmail("email", in.Email)
	if verr != nil {
		return verr
	}
	acc, err := s.db.AccountByEmail(ctx, addr)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up account: %w", err)
	}
	token, hash, err := newToken()
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.db.CreatePasswordReset(ctx, &models.PasswordReset{TokenHash: hash, AccountID: acc.ID, ExpiresAt: now.Add(resetTokenTTL), CreatedAt: now}); err != nil {
		return fmt.Errorf("store reset token: %w", err)
	}
	locale := in.Locale
	if locale == "" {
		locale = acc.Locale
	}
	link := s.URL("/password/reset") + "?token=" + token
	s.sendInBackground(acc.ID, acc.Email, in.Compose(locale, link))
	return nil
}

// CheckResetToken tells whether a reset link can still be used.
func (s *Service) CheckResetToken(ctx context.Context, token string) error {
	if token == "" || len(token) > 128 {
		return fault.ErrNotFound
	}
	return dbErr("check reset token", s.db.PeekPasswordReset(ctx, hashToken(token), s.now()))
}

// ResetPassword sets a new password with a reset token, once, and signs the
// account out everywhere.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	if token == "" || len(token) > 128 {
		return fault.ErrNotFound
	}
	if verr := checkPassword("password", password, ""); verr != nil {
		return verr
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	id, err := s.db.UsePasswordReset(ctx, hashToken(token), s.now())
	if err != nil {
		return dbErr("use reset token", err)
	}
	if err := s.db.SetAccountPassword(ctx, id, hash, s.now()); err != nil {
		return dbErr("store password", err)
	}
	acc, err := s.db.AccountByID(ctx, id)
	if err != nil {
		return dbErr("load account", err)
	}
	s.opts.Logger.InfoContext(ctx, "password reset", "account_id", id)
	return s.db.ClearLoginFailures(ctx, s.box.Hash("login-email", acc.Email))
}

// newToken returns a random cookie or link token and its stored hash.
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
