package provider

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// AdminSignup is the web registration form.
type AdminSignup struct {
	ServerURL   string
	BaseURL     string
	Email       string
	Password    string
	AcceptTerms bool
	InviteCode  string
	// Locale is the language the admin used, kept for later e-mails.
	Locale string
}

// AdminSignupResult is what registration produced: either a registration
// to finish on the server (and a session for the new admin), or a request
// waiting for the operator.
type AdminSignupResult struct {
	Pending      bool
	Registration *Registration
	Token        string
	Session      *Session
}

// SignUpAdmin registers a server through the web form and creates its admin
// account. In approval mode nothing is sent to the server yet: the request
// waits for the operator (ApproveRegistration).
func (s *Service) SignUpAdmin(ctx context.Context, in AdminSignup) (*AdminSignupResult, error) {
	mode := s.opts.RegistrationMode
	if mode == RegistrationClosed {
		return nil, &fault.Forbidden{Message: "registration is closed; contact the operator"}
	}
	email, hash, err := s.checkSignup(ctx, in)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if mode == RegistrationApproval {
		u, err := s.http.CheckURL(strings.TrimSpace(in.ServerURL))
		if err != nil {
			return nil, FieldErrors{fault.Invalid("serverUrl", "%s", err.Error())}
		}
		p := &models.PendingRegistration{ID: models.NewID(now), ServerURL: u.String(), BaseURL: strings.TrimSpace(in.BaseURL),
			Domain: strings.ToLower(u.Hostname()), Email: email, PasswordHash: hash, Locale: in.Locale,
			Status: models.PendingWaiting, CreatedAt: now, UpdatedAt: now}
		if err := s.db.CreatePending(ctx, p); err != nil {
			return nil, fmt.Errorf("store registration request: %w", err)
		}
		s.opts.Logger.InfoContext(ctx, "registration waiting for approval", "pending_id", p.ID, "domain", p.Domain)
		return &AdminSignupResult{Pending: true}, nil
	}
	reg, err := s.Register(ctx, RegisterInput{ServerURL: in.ServerURL, BaseURL: in.BaseURL, ContactEmail: email})
	if err != nil {
		return nil, err
	}
	acc, err := s.createAdmin(ctx, reg.ServerID, email, hash, in.Locale)
	if err != nil {
		return nil, err
	}
	token, sess, err := s.openSession(ctx, acc)
	if err != nil {
		return nil, err
	}
	return &AdminSignupResult{Registration: reg, Token: token, Session: sess}, nil
}

// checkSignup validates the form, every field at once, and hashes the
// password.
func (s *Service) checkSignup(ctx context.Context, in AdminSignup) (email, hash string, err error) {
	var errs FieldErrors
	if strings.TrimSpace(in.ServerURL) == "" {
		errs = append(errs, fault.Invalid("serverUrl", "is required"))
	}
	email, verr := normalizeEmail("email", in.Email)
	if verr != nil {
		errs = append(errs, verr)
	}
	if verr := checkPassword("password", in.Password, email); verr != nil {
		errs = append(errs, verr)
	}
	if !in.AcceptTerms {
		errs = append(errs, fault.Invalid("acceptTerms", "must be accepted"))
	}
	if s.opts.RegistrationMode == RegistrationInvite {
		a := sha256.Sum256([]byte(strings.TrimSpace(in.InviteCode)))
		b := sha256.Sum256([]byte(s.opts.InviteCode))
		if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
			errs = append(errs, fault.Invalid("inviteCode", "is not valid"))
		}
	}
	if email != "" {
		taken, err := s.db.EmailTaken(ctx, email)
		if err != nil {
			return "", "", fmt.Errorf("look up e-mail: %w", err)
		}
		if taken {
			errs = append(errs, fault.Invalid("email", "is already registered; sign in or reset the password"))
		}
	}
	if len(errs) > 0 {
		return "", "", errs
	}
	hash, err = HashPassword(in.Password)
	return email, hash, err
}

func (s *Service) createAdmin(ctx context.Context, serverID, email, hash, locale string) (*models.Account, error) {
	now := s.now()
	acc := &models.Account{ID: models.NewID(now), Email: email, PasswordHash: hash, Role: RoleAdmin, ServerID: serverID,
		Locale: locale, CreatedAt: now, UpdatedAt: now}
	if err := s.db.CreateAccount(ctx, acc); err != nil {
		// The address was taken between the check and now: undo the server.
		if derr := s.DeleteServer(ctx, serverID); derr != nil {
			s.opts.Logger.ErrorContext(ctx, "undo registration", "server_id", serverID, "error", derr)
		}
		if errors.Is(err, models.ErrDuplicate) {
			return nil, FieldErrors{fault.Invalid("email", "is already registered; sign in or reset the password")}
		}
		return nil, fmt.Errorf("create admin account: %w", err)
	}
	return acc, nil
}

// PendingInfo is a registration waiting for the operator.
type PendingInfo struct {
	ID        string
	Domain    string
	ServerURL string
	BaseURL   string
	Email     string
	CreatedAt time.Time
}

// PendingRegistrations lists requests waiting for approval.
func (s *Service) PendingRegistrations(ctx context.Context) ([]PendingInfo, error) {
	rows, err := s.db.ListPending(ctx)
	if err != nil {
		return nil, fmt.Errorf("list registration requests: %w", err)
	}
	out := make([]PendingInfo, len(rows))
	for i, r := range rows {
		out[i] = PendingInfo{ID: r.ID, Domain: r.Domain, ServerURL: r.ServerURL, BaseURL: r.BaseURL, Email: r.Email, CreatedAt: r.CreatedAt}
	}
	return out, nil
}

// ApproveRegistration makes the FASP registration call for a waiting request,
// creates the admin's account and tells them by e-mail (when configured),
// in their language, with a link to sign in.
func (s *Service) ApproveRegistration(ctx context.Context, id string, compose MailComposer) (*Registration, error) {
	p, err := s.db.GetPending(ctx, id)
	if err != nil {
		return nil, dbErr("load registration request", err)
	}
	taken, err := s.db.AccountByEmail(ctx, p.Email)
	if err == nil && taken != nil {
		return nil, fmt.Errorf("an account with this request's e-mail address exists: %w", fault.ErrConflict)
	}
	reg, err := s.Register(ctx, RegisterInput{ServerURL: p.ServerURL, BaseURL: p.BaseURL, ContactEmail: p.Email})
	if err != nil {
		return nil, err
	}
	acc, err := s.createAdmin(ctx, reg.ServerID, p.Email, p.PasswordHash, p.Locale)
	if err != nil {
		return nil, err
	}
	if err := s.db.FinishPending(ctx, id, true, s.now()); err != nil {
		return nil, dbErr("finish registration request", err)
	}
	s.opts.Logger.InfoContext(ctx, "registration approved", "pending_id", id, "server_id", reg.ServerID)
	if s.MailEnabled() && compose != nil {
		s.sendInBackground(acc.ID, acc.Email, compose(acc.Locale, s.URL("/login")))
	}
	return reg, nil
}

// RejectRegistration declines a waiting request; its password hash is
// discarded.
func (s *Service) RejectRegistration(ctx context.Context, id string) error {
	if err := s.db.FinishPending(ctx, id, false, s.now()); err != nil {
		return dbErr("reject registration request", err)
	}
	return nil
}
