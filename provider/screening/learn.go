package screening

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// Verdicts moderators send as feedback.
const (
	VerdictSpam = "spam"
	VerdictHam  = "ham"
)

// Per-server weight learning: below minServerLabels labelled checks the
// server's weights do not move; multipliers stay within these bounds, so
// feedback tunes a server's screening but cannot switch a signal off or
// make it dominate.
const (
	minServerLabels = 100
	minMultiplier   = 0.5
	maxMultiplier   = 1.5
	confidenceK     = 10.0 // firings at which a signal's evidence counts half
)

type serverStats struct {
	labels [2]int             // labelled checks: spam, ham
	fired  map[string]*[2]int // code → labelled checks it fired on: spam, ham
	mult   []float64          // cached multipliers by signal index
	dirty  bool               // mult must be recomputed
}

type learner struct {
	mu      sync.RWMutex
	servers map[string]*serverStats
}

func newLearner() *learner { return &learner{servers: map[string]*serverStats{}} }

func classOf(verdict string) (int, bool) {
	switch verdict {
	case VerdictSpam:
		return classSpam, true
	case VerdictHam:
		return classHam, true
	}
	return 0, false
}

// Learn applies moderator feedback on one check: verdict is "spam", "ham"
// or "" (label withdrawn); previous is the verdict given earlier for the same
// check ("" if none), which is undone first, so that the latest verdict
// wins and repeating it changes nothing. The server's own signal weights
// and the network-wide text classifier learn from it; f is the check's
// persisted Features.
func (e *Engine) Learn(serverID string, f Features, verdict, previous string) error {
	if _, ok := classOf(verdict); !ok && verdict != "" {
		return fault.Invalid("verdict", "must be spam or ham")
	}
	if _, ok := classOf(previous); !ok && previous != "" {
		return fault.Invalid("previous", "must be spam, ham or empty")
	}
	if verdict == previous {
		return nil
	}
	e.applyLabel(serverID, &f, previous, -1)
	e.applyLabel(serverID, &f, verdict, +1)
	return nil
}

func (e *Engine) applyLabel(serverID string, f *Features, verdict string, delta int) {
	class, ok := classOf(verdict)
	if !ok {
		return
	}
	e.learn.mu.Lock()
	s := e.learn.servers[serverID]
	if s == nil {
		s = &serverStats{fired: map[string]*[2]int{}}
		e.learn.servers[serverID] = s
	}
	s.labels[class] = max(0, s.labels[class]+delta)
	for _, code := range f.Signals {
		c := s.fired[code]
		if c == nil {
			c = &[2]int{}
			s.fired[code] = c
		}
		c[class] = max(0, c[class]+delta)
	}
	s.dirty = true
	e.learn.mu.Unlock()
	if f.Gate == GateContent && len(f.Tokens) > 0 {
		e.nb.train(f.Tokens, class, delta)
	}
}

// multipliers returns the server's learned multiplier per signal index, or
// nil while it has fewer than minServerLabels labelled checks. A signal's
// precision on this server's labels ((spam+1)/(fired+2)) moves its
// multiplier from 1 toward 1.5 (fires on spam) or 0.5 (fires on ham),
// scaled by how often it fired; trust signals move the other way.
func (l *learner) multipliers(serverID string, e *Engine) []float64 {
	l.mu.RLock()
	s := l.servers[serverID]
	if s == nil || s.labels[0]+s.labels[1] < minServerLabels {
		l.mu.RUnlock()
		return nil
	}
	if !s.dirty && s.mult != nil {
		m := s.mult
		l.mu.RUnlock()
		return m
	}
	l.mu.RUnlock()

	l.mu.Lock()
	defer l.mu.Unlock()
	m := make([]float64, len(e.sigs))
	for i, r := range e.sigs {
		m[i] = 1
		c := s.fired[r.Info.Code]
		if c == nil || r.Info.Weight == 0 {
			continue // no evidence, or an admin-weighted signal (rules)
		}
		n := float64(c[0] + c[1])
		if n == 0 {
			continue
		}
		precision := (float64(c[0]) + 1) / (n + 2)
		shift := (precision - 0.5) * n / (n + confidenceK)
		if r.Info.Weight < 0 {
			shift = -shift
		}
		m[i] = min(maxMultiplier, max(minMultiplier, 1+shift))
	}
	s.mult, s.dirty = m, false
	return m
}

// learningState is the JSON form of everything learned.
type learningState struct {
	Version    int                   `json:"version"`
	Servers    map[string]serverJSON `json:"servers"`
	Classifier classifierJSON        `json:"classifier"`
}

type serverJSON struct {
	Spam    int               `json:"spam"`
	Ham     int               `json:"ham"`
	Signals map[string][2]int `json:"signals,omitempty"` // code → [spam, ham] firings
}

type classifierJSON struct {
	Docs   [2]int      `json:"docs"`   // [spam, ham] posts
	Totals [2]int      `json:"totals"` // [spam, ham] token occurrences
	Tokens [][3]uint32 `json:"tokens"` // [token id, spam, ham], sorted by id
}

// ExportLearning serialises the whole learned state (per-server signal
// statistics and the classifier) as JSON, deterministically, so the caller
// can persist it and restore it with ImportLearning at start-up. It holds
// counts and keyed token ids only.
func (e *Engine) ExportLearning() ([]byte, error) {
	st := learningState{Version: 1, Servers: map[string]serverJSON{}}
	e.learn.mu.RLock()
	for id, s := range e.learn.servers {
		sj := serverJSON{Spam: s.labels[0], Ham: s.labels[1], Signals: map[string][2]int{}}
		for code, c := range s.fired {
			if c[0] != 0 || c[1] != 0 {
				sj.Signals[code] = *c
			}
		}
		st.Servers[id] = sj
	}
	e.learn.mu.RUnlock()
	e.nb.mu.RLock()
	st.Classifier.Docs = e.nb.docs
	st.Classifier.Totals = e.nb.total
	st.Classifier.Tokens = make([][3]uint32, 0, len(e.nb.tok))
	for _, id := range slices.Sorted(maps.Keys(e.nb.tok)) {
		c := e.nb.tok[id]
		st.Classifier.Tokens = append(st.Classifier.Tokens, [3]uint32{id, c[0], c[1]})
	}
	e.nb.mu.RUnlock()
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("export learning: %w", err)
	}
	return b, nil
}

// ImportLearning replaces the learned state with one from ExportLearning.
// It is all or nothing: on error the current state is kept.
func (e *Engine) ImportLearning(data []byte) error {
	var st learningState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("import learning: %w", err)
	}
	if st.Version != 1 {
		return fmt.Errorf("import learning: unsupported version %d", st.Version)
	}
	servers := make(map[string]*serverStats, len(st.Servers))
	for id, sj := range st.Servers {
		if sj.Spam < 0 || sj.Ham < 0 {
			return fmt.Errorf("import learning: server %s: negative counts", id)
		}
		s := &serverStats{labels: [2]int{sj.Spam, sj.Ham}, fired: map[string]*[2]int{}, dirty: true}
		for code, c := range sj.Signals {
			if c[0] < 0 || c[1] < 0 {
				return fmt.Errorf("import learning: server %s signal %s: negative counts", id, code)
			}
			cc := c
			s.fired[code] = &cc
		}
		servers[id] = s
	}
	c := st.Classifier
	if c.Docs[0] < 0 || c.Docs[1] < 0 || c.Totals[0] < 0 || c.Totals[1] < 0 {
		return fmt.Errorf("import learning: classifier: negative counts")
	}
	tok := make(map[uint32]*[2]uint32, len(c.Tokens))
	for _, t := range c.Tokens {
		if t[1] == 0 && t[2] == 0 {
			continue
		}
		tok[t[0]] = &[2]uint32{t[1], t[2]}
	}
	e.learn.mu.Lock()
	e.learn.servers = servers
	e.learn.mu.Unlock()
	e.nb.mu.Lock()
	e.nb.docs, e.nb.total, e.nb.tok = c.Docs, c.Totals, tok
	e.nb.mu.Unlock()
	return nil
}
