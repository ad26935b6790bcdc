package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
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

// NewSignatureRecorder starts a recorder (batches of up to 256, gathered for
// at most 1 ms, two flushers).
func NewSignatureRecorder(db *DB) *SignatureRecorder {
	r := &SignatureRecorder{db: db, in: make(chan *pendingSig, 1024), maxBatch: 256, maxDelay: time.Millisecond,
		stop: make(chan struct{}), done: make(chan struct{})}
	n := 2
	if db.Dialect == "sqlite" {
		n = 1
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); r.loop() }()
	}
	go func() { wg.Wait(); close(r.done) }()
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
	// Rows go in in key order: two flushers (or replicas) inserting
	// overlapping keys then wait on each other in one order and cannot
	// deadlock.
	slices.SortFunc(uniq, func(a, b *pendingSig) int { return strings.Compare(a.key, b.key) })
	var sb strings.Builder
	args := make([]any, 0, 2*len(uniq))
	sb.WriteString("INSERT INTO seen_signatures (key, expires_at) VALUES ")
	for i, p := range uniq {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("(?, ?)")
		args = append(args, p.key, p.expires)
	}
	sb.WriteString(" ON CONFLICT DO NOTHING RETURNING key")
	db := r.db.DB
	if r.db.async != nil {
		db = r.db.async
	}
	var inserted []string
	err := db.WithContext(ctx).Raw(sb.String(), args...).Scan(&inserted).Error
	if err != nil {
		err = fmt.Errorf("remember signatures: %w", err)
		for _, p := range uniq {
			p.fresh <- result{err: err}
		}
		return
	}
	ok := make(map[string]bool, len(inserted))
	for _, k := range inserted {
		ok[k] = true
	}
	for _, p := range uniq {
		p.fresh <- result{fresh: ok[p.key]}
	}
}
