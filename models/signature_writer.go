package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// SignatureRecorder records verified signatures for replay protection in
// batches: concurrent Remember calls share one multi-row insert, and each
// learns whether its signature was new. Within a batch, the second of two
// identical signatures is the replay.
type SignatureRecorder struct {
	db       *DB
	in       chan *pendingSig
	maxBatch int
	maxDelay time.Duration
	mu       sync.RWMutex
	closed   bool
	stop     chan struct{}
	done     chan struct{}
	rows     rowsInsert
	plain    rowsInsert // PostgreSQL's first try: no conflict handling
}

type pendingSig struct {
	key     string
	expires time.Time
	fresh   chan result
}

type result struct {
	fresh bool
	err   error
}

// seenCols are the columns of seen_signatures in the order flush binds them,
// seenTypes their PostgreSQL types.
var seenCols, seenTypes = []string{"key", "expires_at"}, []string{"text", "timestamptz"}

// NewSignatureRecorder starts a recorder (batches of up to 256, gathered for
// at most 1 ms, one flusher: a second one halved the batches, which cost the
// database more per signature, and the wait was no shorter).
func NewSignatureRecorder(db *DB) *SignatureRecorder {
	r := &SignatureRecorder{db: db, in: make(chan *pendingSig, 1024), maxBatch: 256, maxDelay: time.Millisecond,
		rows:  rowsInsert{table: "seen_signatures", cols: seenCols, pgTypes: seenTypes, tail: " ON CONFLICT DO NOTHING RETURNING key"},
		plain: rowsInsert{table: "seen_signatures", cols: seenCols, pgTypes: seenTypes},
		stop:  make(chan struct{}), done: make(chan struct{})}
	go func() { r.loop(); close(r.done) }()
	return r
}

// Remember records key and reports false when it was already seen.
func (r *SignatureRecorder) Remember(ctx context.Context, key string, expires time.Time) (bool, error) {
	p := &pendingSig{key: key, expires: expires, fresh: make(chan result, 1)}
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return r.db.RememberSignature(ctx, key, expires)
	}
	select {
	case r.in <- p:
		r.mu.RUnlock()
	case <-ctx.Done():
		r.mu.RUnlock()
		return false, ctx.Err()
	}
	res := <-p.fresh
	return res.fresh, res.err
}

// Close flushes what is queued and stops the flushers.
func (r *SignatureRecorder) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.stop)
	}
	r.mu.Unlock()
	<-r.done
}

func (r *SignatureRecorder) loop() {
	batch := make([]*pendingSig, 0, r.maxBatch)
	for {
		var first *pendingSig
		select {
		case first = <-r.in:
		case <-r.stop:
			for {
				select {
				case p := <-r.in:
					r.flush([]*pendingSig{p})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		timer := time.NewTimer(r.maxDelay)
	gather:
		for len(batch) < r.maxBatch {
			select {
			case p := <-r.in:
				batch = append(batch, p)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		r.flush(batch)
	}
}

func (r *SignatureRecorder) flush(batch []*pendingSig) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The first of identical keys in the batch is inserted; the others are
	// replays whatever the database says.
	first := map[string]*pendingSig{}
	var uniq []*pendingSig
	for _, p := range batch {
		if _, dup := first[p.key]; dup {
			p.fresh <- result{fresh: false}
			continue
		}
		first[p.key] = p
		uniq = append(uniq, p)
	}
	// Rows go in in key order: two replicas inserting
	// overlapping keys then wait on each other in one order and cannot
	// deadlock.
	slices.SortFunc(uniq, func(a, b *pendingSig) int { return strings.Compare(a.key, b.key) })
	var args []any
	if r.db.Dialect == "postgres" {
		keys, expires := make([]string, len(uniq)), make([]time.Time, len(uniq))
		for i, p := range uniq {
			keys[i], expires[i] = p.key, p.expires
		}
		args = []any{keys, expires}
	} else {
		args = make([]any, 0, 2*len(uniq))
		for _, p := range uniq {
			args = append(args, p.key, p.expires)
		}
	}
	all, inserted, err := r.insert(ctx, len(uniq), args)
	if err != nil {
		err = fmt.Errorf("remember signatures: %w", err)
		for _, p := range uniq {
			p.fresh <- result{err: err}
		}
		return
	}
	for _, p := range uniq {
		_, ok := inserted[p.key]
		p.fresh <- result{fresh: all || ok}
	}
}

// insert runs the batch INSERT on the pool's database/sql handle (gorm's
// Raw and Scan reflected over each argument and each returned row) and
// reports which keys it inserted: all of them, or those in inserted.
//
// On PostgreSQL it first tries a plain INSERT: nearly every batch holds only
// new signatures, and a plain insert costs the database about a third less
// than one with ON CONFLICT (speculative insertion) and returns nothing to
// read back. Only when that fails on the unique key, because the batch
// holds a replay, does it insert again with ON CONFLICT DO NOTHING
// RETURNING key to learn which ones were new.
func (r *SignatureRecorder) insert(ctx context.Context, n int, args []any) (all bool, inserted map[string]struct{}, err error) {
	g := r.db.DB
	if r.db.async != nil {
		g = r.db.async
	}
	pool, err := g.DB()
	if err != nil {
		return false, nil, err
	}
	start := time.Now()
	if r.db.Dialect == "postgres" {
		_, err := pool.ExecContext(ctx, r.plain.statement(r.db, n), args...)
		if err == nil {
			g.Logger.Trace(ctx, start, func() (string, int64) { return "insert seen signatures", int64(n) }, nil)
			return true, nil, nil
		}
		if !isUniqueViolation(err) {
			g.Logger.Trace(ctx, start, func() (string, int64) { return "insert seen signatures", -1 }, err)
			return false, nil, err
		}
	}
	rows, err := pool.QueryContext(ctx, r.rows.statement(r.db, n), args...)
	if err != nil {
		g.Logger.Trace(ctx, start, func() (string, int64) { return "insert seen signatures", -1 }, err)
		return false, nil, err
	}
	defer rows.Close()
	inserted = make(map[string]struct{}, n)
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return false, nil, err
		}
		inserted[k] = struct{}{}
	}
	err = rows.Err()
	g.Logger.Trace(ctx, start, func() (string, int64) { return "insert seen signatures", int64(len(inserted)) }, err)
	return false, inserted, err
}

// isUniqueViolation reports a PostgreSQL unique_violation (23505).
func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23505"
}
