package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrDuplicate is returned when a unique value (an account's e-mail) is
// already taken.
var ErrDuplicate = errors.New("duplicate")

// CreateAccount stores a new account; ErrDuplicate if the e-mail is taken.
func (d *DB) CreateAccount(ctx context.Context, a *Account) error {
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Account{}).Where("email = ?", a.Email).Count(&n).Error; err != nil {
			return fmt.Errorf("look up e-mail: %w", err)
		}
		if n > 0 {
			return ErrDuplicate
		}
		if err := tx.Create(a).Error; err != nil {
			return fmt.Errorf("insert account: %w", err)
		}
		return nil
	})
}

// EmailTaken reports whether an account or a waiting registration uses email.
func (d *DB) EmailTaken(ctx context.Context, email string) (bool, error) {
	var n int64
	if err := d.WithContext(ctx).Model(&Account{}).Where("email = ?", email).Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	err := d.WithContext(ctx).Model(&PendingRegistration{}).Where("email = ? AND status = ?", email, PendingWaiting).Count(&n).Error
	return n > 0, err
}

// AccountByEmail loads the account with this (lower-cased) e-mail.
func (d *DB) AccountByEmail(ctx context.Context, email string) (*Account, error) {
	var a Account
	if err := d.WithContext(ctx).Where("email = ?", email).Take(&a).Error; err != nil {
		return nil, notFound(err)
	}
	return &a, nil
}

// AccountByID loads one account.
func (d *DB) AccountByID(ctx context.Context, id string) (*Account, error) {
	var a Account
	if err := d.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		return nil, notFound(err)
	}
	return &a, nil
}

// ListAccounts lists the accounts of one server, or with serverID empty the
// operators.
func (d *DB) ListAccounts(ctx context.Context, serverID string) ([]Account, error) {
	var out []Account
	q := d.WithContext(ctx).Where("server_id = ?", serverID)
	if serverID == "" {
		q = d.WithContext(ctx).Where("role = ?", RoleOperator)
	}
	err := q.Order("created_at").Find(&out).Error
	return out, err
}

// SetAccountPassword replaces a password hash and signs the account out
// everywhere, in one transaction.
func (d *DB) SetAccountPassword(ctx context.Context, accountID, hash string, at time.Time) error {
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Account{}).Where("id = ?", accountID).Updates(map[string]any{"password_hash": hash, "updated_at": at})
		if res.Error != nil {
			return fmt.Errorf("update password: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := tx.Where("account_id = ?", accountID).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return nil
	})
}

// SetAccountLocale records the language an account's e-mails use.
func (d *DB) SetAccountLocale(ctx context.Context, accountID, locale string) error {
	return d.WithContext(ctx).Model(&Account{}).Where("id = ?", accountID).Update("locale", locale).Error
}

// TouchLogin records a successful sign-in.
func (d *DB) TouchLogin(ctx context.Context, accountID string, at time.Time) error {
	return d.WithContext(ctx).Model(&Account{}).Where("id = ?", accountID).Update("last_login_at", at).Error
}

// DeleteServerAccounts removes the accounts of a server with their sessions
// and reset tokens (the server was deleted).
func (d *DB) DeleteServerAccounts(ctx context.Context, serverID string) error {
	if serverID == "" {
		return errors.New("delete server accounts: empty server id")
	}
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ids := tx.Model(&Account{}).Select("id").Where("server_id = ?", serverID)
		if err := tx.Where("account_id IN (?)", ids).Delete(&PasswordReset{}).Error; err != nil {
			return fmt.Errorf("delete reset tokens: %w", err)
		}
		if err := tx.Where("server_id = ?", serverID).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("delete sessions: %w", err)
		}
		if err := tx.Where("server_id = ?", serverID).Delete(&Account{}).Error; err != nil {
			return fmt.Errorf("delete accounts: %w", err)
		}
		return nil
	})
}

// CreateSession stores a new session.
func (d *DB) CreateSession(ctx context.Context, s *Session) error {
	return d.WithContext(ctx).Create(s).Error
}

// GetSession loads a session that has not expired at now.
func (d *DB) GetSession(ctx context.Context, tokenHash string, now time.Time) (*Session, error) {
	var s Session
	if err := d.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", tokenHash, now).Take(&s).Error; err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

// TouchSession records activity on a session.
func (d *DB) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	return d.WithContext(ctx).Model(&Session{}).Where("token_hash = ?", tokenHash).Update("last_seen_at", at).Error
}

// DeleteSession ends one session.
func (d *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	return d.WithContext(ctx).Where("token_hash = ?", tokenHash).Delete(&Session{}).Error
}

// PruneSessions deletes expired sessions, used reset tokens and stale login
// throttles.
func (d *DB) PruneSessions(ctx context.Context, now time.Time) error {
	db := d.WithContext(ctx)
	if err := db.Where("expires_at < ?", now).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	if err := db.Where("expires_at < ?", now).Delete(&PasswordReset{}).Error; err != nil {
		return fmt.Errorf("prune reset tokens: %w", err)
	}
	if err := db.Where("updated_at < ? AND (locked_until IS NULL OR locked_until < ?)", now.Add(-24*time.Hour), now).
		Delete(&LoginThrottle{}).Error; err != nil {
		return fmt.Errorf("prune login throttles: %w", err)
	}
	return nil
}

// CreatePasswordReset stores a reset token; earlier unused tokens of the
// account are invalidated so only the newest e-mail works.
func (d *DB) CreatePasswordReset(ctx context.Context, r *PasswordReset) error {
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("account_id = ? AND used_at IS NULL", r.AccountID).Delete(&PasswordReset{}).Error; err != nil {
			return fmt.Errorf("drop older reset tokens: %w", err)
		}
		return tx.Create(r).Error
	})
}

// UsePasswordReset consumes a valid reset token and returns its account id.
// A token works once: concurrent uses race on the same row and one loses.
func (d *DB) UsePasswordReset(ctx context.Context, tokenHash string, now time.Time) (string, error) {
	var r PasswordReset
	err := d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", tokenHash, now).Take(&r).Error; err != nil {
			return notFound(err)
		}
		res := tx.Model(&PasswordReset{}).Where("token_hash = ? AND used_at IS NULL", tokenHash).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return r.AccountID, nil
}

// PeekPasswordReset tells whether a reset token is still usable, without
// consuming it (to show the form or an "expired" message).
func (d *DB) PeekPasswordReset(ctx context.Context, tokenHash string, now time.Time) error {
	var r PasswordReset
	err := d.WithContext(ctx).Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", tokenHash, now).Take(&r).Error
	return notFound(err)
}

// LoginLockedUntil returns when a throttle key's lockout ends (zero if it is
// not locked at now).
func (d *DB) LoginLockedUntil(ctx context.Context, key string, now time.Time) (time.Time, error) {
	var t LoginThrottle
	err := d.WithContext(ctx).Where("subject = ?", key).Take(&t).Error
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return time.Time{}, nil
		}
		return time.Time{}, err
	}
	if t.LockedUntil != nil && t.LockedUntil.After(now) {
		return *t.LockedUntil, nil
	}
	return time.Time{}, nil
}

// RecordLoginFailure counts a failed sign-in; at max consecutive failures the
// key is locked for lockFor and the count starts again. It returns the end of
// the lockout, or zero.
func (d *DB) RecordLoginFailure(ctx context.Context, key string, now time.Time, maxFailures int, lockFor time.Duration) (time.Time, error) {
	var locked time.Time
	err := d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "subject"}},
			DoUpdates: clause.Assignments(map[string]any{
				"failures": gorm.Expr("login_throttles.failures + 1"), "updated_at": now,
			}),
		}).Create(&LoginThrottle{Subject: key, Failures: 1, UpdatedAt: now}).Error; err != nil {
			return fmt.Errorf("count failure: %w", err)
		}
		var t LoginThrottle
		if err := tx.Where("subject = ?", key).Take(&t).Error; err != nil {
			return err
		}
		if t.Failures < maxFailures {
			return nil
		}
		locked = now.Add(lockFor)
		return tx.Model(&LoginThrottle{}).Where("subject = ?", key).
			Updates(map[string]any{"failures": 0, "locked_until": locked}).Error
	})
	return locked, err
}

// ClearLoginFailures forgets failures after a successful sign-in.
func (d *DB) ClearLoginFailures(ctx context.Context, key string) error {
	return d.WithContext(ctx).Where("subject = ?", key).Delete(&LoginThrottle{}).Error
}

// CreatePending stores a registration waiting for approval.
func (d *DB) CreatePending(ctx context.Context, p *PendingRegistration) error {
	return d.WithContext(ctx).Create(p).Error
}

// ListPending lists registrations waiting for approval, oldest first.
func (d *DB) ListPending(ctx context.Context) ([]PendingRegistration, error) {
	var out []PendingRegistration
	err := d.WithContext(ctx).Where("status = ?", PendingWaiting).Order("created_at").Find(&out).Error
	return out, err
}

// GetPending loads one waiting registration.
func (d *DB) GetPending(ctx context.Context, id string) (*PendingRegistration, error) {
	var p PendingRegistration
	if err := d.WithContext(ctx).Where("id = ? AND status = ?", id, PendingWaiting).Take(&p).Error; err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

// FinishPending removes an approved registration, or marks one rejected
// (keeping no password hash).
func (d *DB) FinishPending(ctx context.Context, id string, approved bool, at time.Time) error {
	db := d.WithContext(ctx)
	var res *gorm.DB
	if approved {
		res = db.Where("id = ? AND status = ?", id, PendingWaiting).Delete(&PendingRegistration{})
	} else {
		res = db.Model(&PendingRegistration{}).Where("id = ? AND status = ?", id, PendingWaiting).
			Updates(map[string]any{"status": PendingRejected, "password_hash": "-", "updated_at": at})
	}
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
