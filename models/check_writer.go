package models

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// CheckWriter stores checks with group commit: concurrent Write calls are
// gathered for at most MaxDelay (or MaxBatch rows) and inserted in one
// multi-row statement, and each caller returns only once its row is
// committed. Durability is unchanged (every answer still waits for its
// commit); the database does one commit, one WAL flush and one round trip
// for many checks.
type CheckWriter struct {
	db       *DB
	maxBatch int
	maxDelay time.Duration
	in       chan *pendingCheck
	stop     chan struct{}
	done     chan struct{}
	// mu orders enqueueing against Close: after Close, nothing is enqueued
	// that the loop would not drain.
	mu     sync.RWMutex
	closed bool
	rows   rowsInsert
}

type pendingCheck struct {
	c   *Check
	err chan error
}

// ErrWriterClosed is returned by Write after Close.
var ErrWriterClosed = errors.New("check writer closed")

// NewCheckWriter starts a writer. maxBatch ≤ 0 and maxDelay ≤ 0 choose 128
// rows and 2 ms. On PostgreSQL two flushers gather and commit batches side
// by side, so one batch's WAL flush does not hold up the next; more than two
// made batches smaller and cost the database more CPU per check (about a
// fifth more with four) for no shorter wait.
func NewCheckWriter(db *DB, maxBatch int, maxDelay time.Duration) *CheckWriter {
	if maxBatch <= 0 {
		maxBatch = 128
	}
	if maxDelay <= 0 {
		maxDelay = 2 * time.Millisecond
	}
	w := &CheckWriter{db: db, maxBatch: maxBatch, maxDelay: maxDelay,
		rows: rowsInsert{table: "checks", cols: checkColumns, pgTypes: checkColumnTypes},
		in:   make(chan *pendingCheck, maxBatch*4), stop: make(chan struct{}), done: make(chan struct{})}
	flushers := 2
	if db.Dialect == "sqlite" {
		flushers = 1 // one writer at a time anyway
	}
	var wg sync.WaitGroup
	for i := 0; i < flushers; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); w.loop() }()
	}
	go func() { wg.Wait(); close(w.done) }()
	return w
}

// Write stores c and returns once it is committed (or failed).
func (w *CheckWriter) Write(ctx context.Context, c *Check) error {
	p := &pendingCheck{c: c, err: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrWriterClosed
	}
	select {
	case w.in <- p:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the row is written whatever happens to ctx: a caller
	// that gave up must not leave a half-known state, and the row is wanted.
	return <-p.err
}

// Close writes what is queued and stops the writer.
func (w *CheckWriter) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stop)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *CheckWriter) loop() {
	batch := make([]*pendingCheck, 0, w.maxBatch)
	for {
		var first *pendingCheck
		select {
		case first = <-w.in:
		case <-w.stop:
			// drain what was queued before Close
			for {
				select {
				case p := <-w.in:
					w.flush([]*pendingCheck{p})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		timer := time.NewTimer(w.maxDelay)
	gather:
		for len(batch) < w.maxBatch {
			select {
			case p := <-w.in:
				batch = append(batch, p)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		w.flush(batch)
	}
}

// flush inserts a batch; if the batch fails, rows are retried one by one so
// that one bad row cannot fail its neighbours.
func (w *CheckWriter) flush(batch []*pendingCheck) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := w.insert(ctx, batch)
	if err == nil {
		for _, p := range batch {
			p.err <- nil
		}
		return
	}
	if len(batch) == 1 {
		batch[0].err <- fmt.Errorf("insert check: %w", err)
		return
	}
	for _, p := range batch {
		p.err <- w.db.InsertCheck(ctx, p.c)
	}
}

// checkColumns are the columns of checks in the order insert binds them:
// every column, as gorm's Create of a Check writes them.
var checkColumns = []string{"id", "server_id", "gate", "decision", "score", "reasons", "campaign_id", "features",
	"subject_key", "created_at", "verdict", "note", "verdict_at", "erased"}

// checkColumnTypes are their PostgreSQL types for the unnest form.
var checkColumnTypes = []string{"text", "text", "text", "text", "bigint", "text", "text", "text",
	"text", "timestamptz", "text", "text", "timestamptz", "boolean"}

// insert writes a batch in one statement, built by hand and sent on the
// database/sql pool: gorm's Create reflected over every field of every
// row, which under load cost the service more CPU than driving the
// database did. TestCheckWriterStoresWhatInsertCheckStores keeps the two
// writing the same columns in the same form.
func (w *CheckWriter) insert(ctx context.Context, batch []*pendingCheck) error {
	pool, err := w.db.DB.DB()
	if err != nil {
		return err
	}
	for _, p := range batch {
		if p.c.CreatedAt.IsZero() {
			p.c.CreatedAt = w.db.NowFunc() // as gorm's autoCreateTime would
		}
	}
	var args []any
	if w.db.Dialect == "postgres" {
		args = checkArrays(batch)
	} else {
		args = make([]any, 0, len(batch)*len(checkColumns))
		for _, p := range batch {
			c := p.c
			args = append(args, c.ID, c.ServerID, c.Gate, c.Decision, c.Score, c.Reasons, c.CampaignID, c.Features,
				c.SubjectKey, c.CreatedAt, c.Verdict, c.Note, c.VerdictAt, c.Erased)
		}
	}
	query := w.rows.statement(w.db, len(batch))
	start := time.Now()
	_, err = pool.ExecContext(ctx, query, args...)
	w.db.Logger.Trace(ctx, start, func() (string, int64) { return "insert checks", int64(len(batch)) }, err)
	return err
}

// checkArrays are a batch's columns as arrays, in checkColumns' order.
func checkArrays(batch []*pendingCheck) []any {
	n := len(batch)
	var text [10][]string // the text columns, in checkColumns' order
	for i := range text {
		text[i] = make([]string, n)
	}
	scores := make([]int, n)
	created := make([]time.Time, n)
	verdictAt := make([]*time.Time, n)
	erased := make([]bool, n)
	for i, p := range batch {
		c := p.c
		text[0][i], text[1][i], text[2][i], text[3][i] = c.ID, c.ServerID, c.Gate, c.Decision
		text[4][i], text[5][i], text[6][i], text[7][i] = c.Reasons, c.CampaignID, c.Features, c.SubjectKey
		text[8][i], text[9][i] = c.Verdict, c.Note
		scores[i], created[i], verdictAt[i], erased[i] = c.Score, c.CreatedAt, c.VerdictAt, c.Erased
	}
	return []any{text[0], text[1], text[2], text[3], scores, text[4], text[5], text[6], text[7], created,
		text[8], text[9], verdictAt, erased}
}
