package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// Several replicas share one PostgreSQL. Each keeps the screening windows in
// memory, so every stored check is announced with NOTIFY and the other
// replicas fold it into their own windows (engine.Observe); on reconnection
// a replica catches up from the checks table. Replay protection and the
// checks themselves live in the database, so they need nothing more.

// checkNote is the NOTIFY payload for a stored check.
type checkNote struct {
	Replica  string          `json:"r"`
	ServerID string          `json:"s"`
	CheckID  string          `json:"c"`
	At       time.Time       `json:"t"`
	Decision string          `json:"d"`
	Features json.RawMessage `json:"f,omitempty"`
}

// maxNotify keeps payloads under PostgreSQL's 8000-byte limit; larger
// features are fetched from the table instead.
const maxNotify = 7500

func newReplicaID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// notePayload encodes the announcement of a stored check.
func (s *Service) notePayload(row *models.Check) string {
	n := checkNote{Replica: s.replica, ServerID: row.ServerID, CheckID: row.ID, At: row.CreatedAt, Decision: row.Decision,
		Features: json.RawMessage(row.Features)}
	b, err := json.Marshal(n)
	if err != nil || len(b) > maxNotify {
		n.Features = nil
		b, _ = json.Marshal(n)
	}
	s.seen.add(row.ID)
	return string(b)
}

// listen follows the other replicas' checks until the service closes.
func (s *Service) listen(ctx context.Context) {
	var last time.Time
	var lastMu sync.Mutex
	onConnect := func() {
		lastMu.Lock()
		since := last
		lastMu.Unlock()
		if since.IsZero() {
			return // the start-up rebuild already covered everything
		}
		// Catch up on what arrived while the connection was down.
		_ = s.db.EachRecentCheck(ctx, since.Add(-5*time.Second), func(c *models.Check) error {
			s.observeRow(c)
			return nil
		})
	}
	fn := func(payload string) {
		var n checkNote
		if err := json.Unmarshal([]byte(payload), &n); err != nil || n.Replica == s.replica {
			return
		}
		lastMu.Lock()
		if n.At.After(last) {
			last = n.At
		}
		lastMu.Unlock()
		if len(n.Features) == 0 {
			row, err := s.db.GetCheckByID(ctx, n.CheckID)
			if err != nil {
				return
			}
			s.observeRow(row)
			return
		}
		s.observe(n.CheckID, n.ServerID, n.Features, n.At, n.Decision)
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
	s.observe(c.ID, c.ServerID, json.RawMessage(c.Features), c.CreatedAt, c.Decision)
}

// observe folds one check into the engine once, whichever way it arrived.
func (s *Service) observe(checkID, serverID string, raw json.RawMessage, at time.Time, decision string) {
	if !s.seen.add(checkID) {
		return
	}
	var f screening.Features
	if err := json.Unmarshal(raw, &f); err != nil {
		return
	}
	s.engine.Observe(serverID, f, at, decision)
}

// idSet remembers the most recent ids (a bounded ring), so a check is
// observed once even if it arrives by notification and by catch-up.
type idSet struct {
	mu   sync.Mutex
	m    map[string]struct{}
	ring []string
	next int
}

func newIDSet(n int) *idSet { return &idSet{m: make(map[string]struct{}, n), ring: make([]string, n)} }

// add records id and reports whether it was new.
func (s *idSet) add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.m, old)
	}
	s.ring[s.next] = id
	s.next = (s.next + 1) % len(s.ring)
	s.m[id] = struct{}{}
	return true
}
