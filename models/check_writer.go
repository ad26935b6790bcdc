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
}

type pendingCheck struct {
	c   *Check
	err chan error
}

// ErrWriterClosed is returned by Write after Close.
var ErrWriterClosed = errors.New("check writer closed")

// NewCheckWriter starts a writer. maxBatch ≤ 0 and maxDelay ≤ 0 choose 128
// rows and 2 ms. Several flushers gather and commit batches side by side,
// so one batch's WAL flush does not hold up the next.
func NewCheckWriter(db *DB, maxBatch int, maxDelay time.Duration) *CheckWriter {
	if maxBatch <= 0 {
		maxBatch = 128
	}
	if maxDelay <= 0 {
		maxDelay = 2 * time.Millisecond
	}
	w := &CheckWriter{db: db, maxBatch: maxBatch, maxDelay: maxDelay,
		in: make(chan *pendingCheck, maxBatch*4), stop: make(chan struct{}), done: make(chan struct{})}
	flushers := 4
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
	rows := make([]*Check, len(batch))
	for i, p := range batch {
		rows[i] = p.c
	}
	err := w.db.WithContext(ctx).Create(rows).Error
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
