package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"hash/maphash"
	"sync"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// Several replicas share one PostgreSQL. Each keeps the screening windows in
// memory, so stored checks are announced with NOTIFY (their ids, batched
// every 100 ms) and the other replicas load and fold them into their own
// windows (engine.Observe); on (re)connection a replica catches up from the
// checks table. Replay protection and the checks themselves live in the
// database, so they need nothing more.

// checkNote is the NOTIFY payload: the ids of checks one replica stored
// since its last announcement.
type checkNote struct {
	Replica string   `json:"r"`
	IDs     []string `json:"i"`
}

// maxNotifyIDs keeps a payload well under PostgreSQL's 8000-byte limit.
const maxNotifyIDs = 200

// announceInterval is how often stored checks are announced: the bound on
// how stale another replica's windows can be, well inside a second.
const announceInterval = 100 * time.Millisecond

func newReplicaID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// announce queues a stored check for the next batch announcement.
func (s *Service) announce(id string) {
	s.seen.add(id)
	if s.opts.DatabaseURL == "" {
		return
	}
	s.notes.mu.Lock()
	s.notes.ids = append(s.notes.ids, id)
	s.notes.mu.Unlock()
}

// flushAnnouncements sends the queued ids in as few notifications as fit.
func (s *Service) flushAnnouncements(ctx context.Context) {
	s.notes.mu.Lock()
	ids := s.notes.ids
	s.notes.ids = nil
	s.notes.mu.Unlock()
	for len(ids) > 0 {
		n := min(len(ids), maxNotifyIDs)
		b, _ := json.Marshal(checkNote{Replica: s.replica, IDs: ids[:n]})
		if err := s.db.Notify(ctx, models.ChecksChannel, string(b)); err != nil {
			// The checks are stored; other replicas pick them up when they
			// next catch up. Say it once per failed batch.
			s.opts.Logger.Warn("announce checks to other replicas", "checks", n, "error", err)
		}
		ids = ids[n:]
	}
}

// announcer flushes announcements until the service closes.
func (s *Service) announcer(ctx context.Context) {
	t := time.NewTicker(announceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.flushAnnouncements(context.WithoutCancel(ctx))
			return
		case <-t.C:
			s.flushAnnouncements(ctx)
		}
	}
}

// listen follows the other replicas' checks until the service closes.
func (s *Service) listen(ctx context.Context) {
	var last time.Time
	var lastMu sync.Mutex
	onConnect := func() {
		lastMu.Lock()
		since := last
		lastMu.Unlock()
		// Catch up on what arrived while the connection was down.
		_ = s.db.EachRecentCheck(ctx, since.Add(-5*time.Second), func(c *models.Check) error {
			s.observeRow(c)
			return nil
		})
	}
	fn := func(payload string) {
		var n checkNote
		if err := json.Unmarshal([]byte(payload), &n); err != nil || n.Replica == s.replica || len(n.IDs) == 0 {
			return
		}
		rows, err := s.db.GetChecksByID(ctx, n.IDs)
		if err != nil {
			s.opts.Logger.Warn("load checks announced by another replica", "error", err)
			return
		}
		for i := range rows {
			lastMu.Lock()
			if rows[i].CreatedAt.After(last) {
				last = rows[i].CreatedAt
			}
			lastMu.Unlock()
			s.observeRow(&rows[i])
		}
	}
	lastMu.Lock()
	last = s.now()
	lastMu.Unlock()
	if err := s.db.Listen(ctx, s.opts.DatabaseURL, models.ChecksChannel, onConnect, fn); err != nil {
		s.opts.Logger.Error("listen for other replicas' checks", "error", err)
	}
}

func (s *Service) observeRow(c *models.Check) {
	if c.Features == "" {
		return
	}
	s.observe(c.ID, c.ServerID, []byte(c.Features), c.CreatedAt, c.Decision)
}

// observe folds one check into the engine once, whichever way it arrived.
func (s *Service) observe(checkID, serverID string, raw []byte, at time.Time, decision string) {
	if !s.seen.add(checkID) {
		return
	}
	var f screening.Features
	if err := json.Unmarshal(raw, &f); err != nil {
		return
	}
	s.engine.Observe(serverID, f, at, decision)
	s.observeCampaigns(s.bgCtx, checkID, serverID, &f, at, decision, false) // campaigns.go
}

// idSet remembers the most recent ids (a bounded ring), so a check is
// observed once even if it arrives by notification and by catch-up. It
// keeps 64-bit keyed hashes of the ids in a ring and an open-addressing
// table, both allocated at start and never grown: a Go map with a steady
// stream of deletes and inserts grows to several times its size, and this
// set sees one of each per check. A false "seen" needs a 64-bit collision
// among the ids kept.
type idSet struct {
	mu    sync.Mutex
	seed  maphash.Seed
	table []uint64 // linear probing; 0 is an empty slot
	mask  uint64
	ring  []uint64
	next  int
}

func newIDSet(n int) *idSet {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	return &idSet{seed: maphash.MakeSeed(), table: make([]uint64, size), mask: uint64(size - 1), ring: make([]uint64, n)}
}

// add records id and reports whether it was new.
func (s *idSet) add(id string) bool {
	h := maphash.String(s.seed, id) | 1 // never 0, the empty mark
	s.mu.Lock()
	defer s.mu.Unlock()
	i := h & s.mask
	for ; s.table[i] != 0; i = (i + 1) & s.mask {
		if s.table[i] == h {
			return false
		}
	}
	if old := s.ring[s.next]; old != 0 {
		s.remove(old)
		// The removal may have moved entries into the probe path: find
		// the free slot again.
		for i = h & s.mask; s.table[i] != 0; i = (i + 1) & s.mask {
		}
	}
	s.table[i] = h
	s.ring[s.next] = h
	s.next = (s.next + 1) % len(s.ring)
	return true
}

// remove deletes h from the table, moving later entries of its probe run
// back so that every entry stays reachable from its home slot (deletion
// without tombstones, Knuth's algorithm R).
func (s *idSet) remove(h uint64) {
	i := h & s.mask
	for s.table[i] != h {
		if s.table[i] == 0 {
			return
		}
		i = (i + 1) & s.mask
	}
	for j := i; ; {
		s.table[i] = 0
		for {
			j = (j + 1) & s.mask
			if s.table[j] == 0 {
				return
			}
			home := s.table[j] & s.mask
			// Move table[j] into the hole at i unless its home lies
			// cyclically in (i, j].
			if (i <= j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
				break
			}
		}
		s.table[i] = s.table[j]
		i = j
	}
}

// pendingNotes holds ids stored since the last announcement.
type pendingNotes struct {
	mu  sync.Mutex
	ids []string
}
