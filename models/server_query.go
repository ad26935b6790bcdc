package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrNotFound is returned when a row does not exist (or belongs to another
// server: queries never tell the two apart).
var ErrNotFound = errors.New("record not found")

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// CreateServer stores a new server and its first key exchange together.
func (d *DB) CreateServer(ctx context.Context, s *Server, k *ServerKey) error {
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(s).Error; err != nil {
			return fmt.Errorf("insert server: %w", err)
		}
		k.ServerID = s.ID
		if err := tx.Create(k).Error; err != nil {
			return fmt.Errorf("insert server key: %w", err)
		}
		return nil
	})
}

// GetServer loads one server.
func (d *DB) GetServer(ctx context.Context, serverID string) (*Server, error) {
	var s Server
	if err := d.WithContext(ctx).Where("id = ?", serverID).Take(&s).Error; err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

// ListServers returns every server, newest first.
func (d *DB) ListServers(ctx context.Context) ([]Server, error) {
	var out []Server
	err := d.WithContext(ctx).Order("created_at DESC").Find(&out).Error
	return out, err
}

// SetServerStatus suspends or reinstates a server.
func (d *DB) SetServerStatus(ctx context.Context, serverID, status string) error {
	res := d.WithContext(ctx).Model(&Server{}).Where("id = ?", serverID).
		Updates(map[string]any{"status": status, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// MarkServerConfirmed records the first verified request from a server, the
// moment its admin evidently accepted the registration.
func (d *DB) MarkServerConfirmed(ctx context.Context, serverID string, at time.Time) error {
	return d.WithContext(ctx).Model(&Server{}).
		Where("id = ? AND confirmed_at IS NULL", serverID).
		Update("confirmed_at", at).Error
}

// UpdateServerPolicy stores a validated policy document.
func (d *DB) UpdateServerPolicy(ctx context.Context, serverID, policy string) error {
	res := d.WithContext(ctx).Model(&Server{}).Where("id = ?", serverID).
		Updates(map[string]any{"policy": policy, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteServer removes a server and everything stored about it.
func (d *DB) DeleteServer(ctx context.Context, serverID string) error {
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, m := range []any{&ServerKey{}, &Activation{}, &DebugCall{}, &Check{}, &Usage{},
			&MastodonAction{}, &MastodonEvent{}, &MastodonConnection{}} {
			if err := tx.Where("server_id = ?", serverID).Delete(m).Error; err != nil {
				return fmt.Errorf("delete %T: %w", m, err)
			}
		}
		res := tx.Where("id = ?", serverID).Delete(&Server{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// UsableKeys returns a server's keys that may authenticate requests now:
// the active ones and those still inside their rotation grace period, newest
// first.
func (d *DB) UsableKeys(ctx context.Context, serverID string, now time.Time) ([]ServerKey, error) {
	var out []ServerKey
	err := d.WithContext(ctx).
		Where("server_id = ? AND (state = ? OR (state = ? AND retire_at > ?))", serverID, KeyActive, KeyRetiring, now).
		Order("id DESC").Find(&out).Error
	return out, err
}

// AllKeys returns every key row of a server, newest first.
func (d *DB) AllKeys(ctx context.Context, serverID string) ([]ServerKey, error) {
	var out []ServerKey
	err := d.WithContext(ctx).Where("server_id = ?", serverID).Order("id DESC").Find(&out).Error
	return out, err
}

// RotateKey stores a new active key and puts the server's other active keys
// into their grace period until retireAt.
func (d *DB) RotateKey(ctx context.Context, k *ServerKey, retireAt time.Time) error {
	return d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&ServerKey{}).Where("server_id = ? AND state = ?", k.ServerID, KeyActive).
			Updates(map[string]any{"state": KeyRetiring, "retire_at": retireAt}).Error; err != nil {
			return fmt.Errorf("retire old keys: %w", err)
		}
		if err := tx.Create(k).Error; err != nil {
			return fmt.Errorf("insert new key: %w", err)
		}
		return nil
	})
}

// SetActivation enables (enabled) or disables a capability for a server.
func (d *DB) SetActivation(ctx context.Context, serverID, capability, version string, enabled bool, at time.Time) error {
	db := d.WithContext(ctx)
	if !enabled {
		return db.Where("server_id = ? AND capability = ?", serverID, capability).Delete(&Activation{}).Error
	}
	a := Activation{ServerID: serverID, Capability: capability, Version: version, EnabledAt: at}
	return db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "server_id"}, {Name: "capability"}},
		DoUpdates: clause.AssignmentColumns([]string{"version"}),
	}).Create(&a).Error
}

// Activations lists the capabilities a server has enabled.
func (d *DB) Activations(ctx context.Context, serverID string) ([]Activation, error) {
	var out []Activation
	err := d.WithContext(ctx).Where("server_id = ?", serverID).Order("capability").Find(&out).Error
	return out, err
}

// RememberSignature records a verified signature; it reports false when the
// same signature was already seen (a replay), on any replica. The unique
// key decides at once; the commit does not wait for the WAL flush, so a
// crash may forget the last fraction of a second of signatures — an
// accepted trade for not paying a second fsync on every request.
func (d *DB) RememberSignature(ctx context.Context, key string, expires time.Time) (bool, error) {
	db := d.DB
	if d.async != nil {
		db = d.async
	}
	res := db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&SeenSignature{Key: key, ExpiresAt: expires})
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// PruneSignatures forgets signatures that can no longer be replayed.
func (d *DB) PruneSignatures(ctx context.Context, now time.Time) (int64, error) {
	res := d.WithContext(ctx).Where("expires_at < ?", now).Delete(&SeenSignature{})
	return res.RowsAffected, res.Error
}

// InsertDebugCall logs a debug callback request.
func (d *DB) InsertDebugCall(ctx context.Context, c *DebugCall) error {
	return d.WithContext(ctx).Create(c).Error
}

// FinishDebugCall records the outcome of the callback a debug call caused.
func (d *DB) FinishDebugCall(ctx context.Context, serverID string, id uint64, status int, errText string, at time.Time) error {
	return d.WithContext(ctx).Model(&DebugCall{}).Where("id = ? AND server_id = ?", id, serverID).
		Updates(map[string]any{"callback_status": status, "callback_error": errText, "callback_at": at}).Error
}

// DebugCalls lists a server's most recent debug calls.
func (d *DB) DebugCalls(ctx context.Context, serverID string, limit int) ([]DebugCall, error) {
	var out []DebugCall
	err := d.WithContext(ctx).Where("server_id = ?", serverID).Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// PruneDebugCalls deletes debug call logs older than before (retention).
func (d *DB) PruneDebugCalls(ctx context.Context, before time.Time) (int64, error) {
	res := d.WithContext(ctx).Where("received_at < ?", before).Delete(&DebugCall{})
	return res.RowsAffected, res.Error
}

// SQLDB exposes the main pool for metrics (connection counts).
func (d *DB) SQLDB() (*sql.DB, error) { return d.DB.DB() }
