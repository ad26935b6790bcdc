package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

// sealPurpose says which sealbox purpose a sealed column's values are sealed
// for; TestSealPurposeCoversEveryColumn keeps it complete.
func sealPurpose(col models.SealedColumn) (string, bool) {
	switch col {
	case models.SealedServerKeys:
		return sealPurposeServerKey, true
	case models.SealedMastodonTokens:
		return sealMastodonToken, true
	case models.SealedMastodonWebhookSecrets:
		return sealMastodonSecret, true
	case models.SealedMastodonEvents:
		return sealMastodonEvent, true
	}
	return "", false
}

// defaultResealBatch is how many values one read and one write transaction
// of the re-sealing job hold: small enough not to keep a running service's
// writers waiting on SQLite.
const defaultResealBatch = 500

// maxFailedRows bounds the rows a ResealCount names.
const maxFailedRows = 20

// ResealOptions tunes ResealSecrets.
type ResealOptions struct {
	// Batch is how many values are read and re-sealed at a time (default 500).
	Batch int
}

// ResealCount is what re-sealing did to one kind of sealed value.
type ResealCount struct {
	// Kind is the purpose the values are sealed for ("server-key", …).
	Kind string
	// Resealed values were opened with an older key and now are sealed with
	// the primary one.
	Resealed int
	// Current values were already sealed with the primary key.
	Current int
	// Failed values open with no configured key; they were left as they are.
	Failed int
	// FailedRows names up to 20 rows of the failed values (row ids, or
	// server ids for Mastodon connections), for the operator to look into.
	FailedRows []string
	// Changed values were replaced by the running service between reading
	// and re-sealing them; the service sealed the new value with its primary
	// key, and a second run checks it.
	Changed int
}

// ResealSecrets re-seals every sealed value in the database (servers'
// private keys, Mastodon tokens and webhook secrets, queued webhook events)
// with the primary secret key, so that the older keys of a rotation
// (BREAKWATER_SECRET_KEY=new,old) can be dropped. It is an operator job
// over every server. It works in batches, each re-sealed value written only
// if the row still holds what was read, so it can run beside a running
// service and be run again: values already under the primary key are left
// alone. Values no configured key opens are counted and named, never
// overwritten. Every replica must already run with the new key first in its
// list, or replicas still on the old key alone can no longer open what was
// re-sealed.
func (s *Service) ResealSecrets(ctx context.Context, opts ResealOptions) ([]ResealCount, error) {
	batch := opts.Batch
	if batch <= 0 {
		batch = defaultResealBatch
	}
	var out []ResealCount
	for _, col := range models.SealedColumns() {
		purpose, ok := sealPurpose(col)
		if !ok {
			return out, fmt.Errorf("no seal purpose known for sealed column %d", int(col))
		}
		rc, err := s.resealColumn(ctx, col, purpose, batch)
		out = append(out, rc)
		if err != nil {
			return out, fmt.Errorf("reseal %s values: %w", purpose, err)
		}
	}
	return out, nil
}

func (s *Service) resealColumn(ctx context.Context, col models.SealedColumn, purpose string, batch int) (ResealCount, error) {
	rc := ResealCount{Kind: purpose}
	after := ""
	for {
		vals, err := s.db.SealedValues(ctx, col, after, batch)
		if err != nil {
			return rc, fmt.Errorf("read after row %q: %w", after, err)
		}
		var changes []models.SealedChange
		for _, v := range vals {
			resealed, changed, err := s.box.Reseal(purpose, v.Value)
			switch {
			case errors.Is(err, sealbox.ErrOpen):
				rc.Failed++
				if len(rc.FailedRows) < maxFailedRows {
					rc.FailedRows = append(rc.FailedRows, v.Row)
				}
			case err != nil:
				return rc, fmt.Errorf("row %s: %w", v.Row, err)
			case !changed:
				rc.Current++
			default:
				changes = append(changes, models.SealedChange{Row: v.Row, Old: v.Value, New: resealed})
			}
		}
		if len(changes) > 0 {
			n, err := s.db.ReplaceSealedValues(ctx, col, changes)
			if err != nil {
				return rc, fmt.Errorf("write re-sealed values: %w", err)
			}
			rc.Resealed += n
			rc.Changed += len(changes) - n
		}
		if len(vals) < batch {
			return rc, nil
		}
		after = vals[len(vals)-1].Row
	}
}
