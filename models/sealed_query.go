package models

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"
)

// SealedColumn names one column whose values are sealed with the operator's
// secret key (provider/sealbox), so that the re-sealing job after a key
// rotation can walk them without knowing the tables. Every such column is
// listed here; a new sealed column belongs here too.
type SealedColumn int

// The sealed columns.
const (
	// SealedServerKeys is ServerKey.PrivateKey.
	SealedServerKeys SealedColumn = iota + 1
	// SealedMastodonTokens is MastodonConnection.AccessToken.
	SealedMastodonTokens
	// SealedMastodonWebhookSecrets is MastodonConnection.WebhookSecret.
	SealedMastodonWebhookSecrets
	// SealedMastodonEvents is MastodonEvent.Payload (empty once processed).
	SealedMastodonEvents
)

// SealedColumns lists every sealed column, in the order a job should visit them.
func SealedColumns() []SealedColumn {
	return []SealedColumn{SealedServerKeys, SealedMastodonTokens, SealedMastodonWebhookSecrets, SealedMastodonEvents}
}

type sealedSpec struct {
	model      any
	key, value string
	numericKey bool
}

func (c SealedColumn) spec() (sealedSpec, error) {
	switch c {
	case SealedServerKeys:
		return sealedSpec{&ServerKey{}, "id", "private_key", true}, nil
	case SealedMastodonTokens:
		return sealedSpec{&MastodonConnection{}, "server_id", "access_token", false}, nil
	case SealedMastodonWebhookSecrets:
		return sealedSpec{&MastodonConnection{}, "server_id", "webhook_secret", false}, nil
	case SealedMastodonEvents:
		return sealedSpec{&MastodonEvent{}, "id", "payload", true}, nil
	}
	return sealedSpec{}, fmt.Errorf("unknown sealed column %d", int(c))
}

// rowKey turns a row key given as text into the column's type, so that
// comparisons are numeric where the key is.
func (s sealedSpec) rowKey(row string) (any, error) {
	if !s.numericKey {
		return row, nil
	}
	if row == "" {
		return uint64(0), nil
	}
	n, err := strconv.ParseUint(row, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("row key %q is not a number: %w", row, err)
	}
	return n, nil
}

// SealedValue is one stored sealed value and the row holding it.
type SealedValue struct {
	// Row is the row's primary key as text (a number for server keys and
	// Mastodon events, a server id for Mastodon connections).
	Row   string
	Value string
}

// SealedValues returns up to limit non-empty values of col from rows whose
// key comes after the row key after ("" for the first page), in key order:
// a job pages through a table that others keep writing to without holding
// anything open.
func (d *DB) SealedValues(ctx context.Context, col SealedColumn, after string, limit int) ([]SealedValue, error) {
	s, err := col.spec()
	if err != nil {
		return nil, err
	}
	q := d.WithContext(ctx).Model(s.model).Select(s.key + " AS row_key, " + s.value + " AS sealed_value").
		Where(s.value + " <> ''").Order(s.key).Limit(limit)
	if after != "" {
		k, err := s.rowKey(after)
		if err != nil {
			return nil, err
		}
		q = q.Where(s.key+" > ?", k)
	}
	var rows []struct {
		RowKey      string
		SealedValue string
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]SealedValue, len(rows))
	for i, r := range rows {
		out[i] = SealedValue{Row: r.RowKey, Value: r.SealedValue}
	}
	return out, nil
}

// SealedChange replaces one sealed value by another.
type SealedChange struct {
	Row      string
	Old, New string
}

// ReplaceSealedValues applies changes to col in one transaction. Each row is
// changed only if it still holds Old, so a value the running service
// replaced meanwhile (a new token, a processed event's erased payload) is
// never overwritten with an older one. It returns how many rows changed.
func (d *DB) ReplaceSealedValues(ctx context.Context, col SealedColumn, changes []SealedChange) (int, error) {
	s, err := col.spec()
	if err != nil {
		return 0, err
	}
	n := 0
	err = d.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		n = 0
		for _, c := range changes {
			k, err := s.rowKey(c.Row)
			if err != nil {
				return err
			}
			res := tx.Model(s.model).Where(s.key+" = ? AND "+s.value+" = ?", k, c.Old).
				UpdateColumn(s.value, c.New) // not Update: a re-sealed value is no change to the row (updated_at stays)
			if res.Error != nil {
				return fmt.Errorf("replace %s of row %s: %w", s.value, c.Row, res.Error)
			}
			n += int(res.RowsAffected)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
