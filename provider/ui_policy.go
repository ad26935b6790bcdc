package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// SignalInfo describes a signal for the policy editor.
type SignalInfo struct {
	Code        string
	Gate        string
	Description string
	// Weight is the points of a typical hit before the policy's multiplier.
	Weight int
}

// PolicySignals lists every signal a policy can switch off or reweigh,
// sorted by code.
func (s *Service) PolicySignals() []SignalInfo {
	all := screening.Signals()
	out := make([]SignalInfo, 0, len(all))
	for _, r := range all {
		out = append(out, SignalInfo{Code: r.Code, Gate: r.Gate, Description: r.Description, Weight: r.Weight})
	}
	return out
}

// SignalToggle is the editor's setting of one signal.
type SignalToggle struct {
	Enabled bool
	Weight  float64
}

// PolicyEdit is what the policy editor changes: everything but signal
// params, which are kept as stored.
type PolicyEdit struct {
	ReviewAt          int
	RejectAt          int
	WaveMode          bool
	Signals           map[string]SignalToggle
	AllowDomains      []string
	DenyDomains       []string
	AllowEmailDomains []string
	DenyEmailDomains  []string
	Rules             []screening.Rule
}

// EditPolicy applies the editor's changes to a server's stored policy,
// validated by the engine as a whole: an invalid rule refuses the edit.
func (s *Service) EditPolicy(ctx context.Context, serverID string, e PolicyEdit) (screening.Policy, error) {
	p, err := s.draftPolicy(ctx, serverID, e)
	if err != nil {
		return p, err
	}
	if _, err := s.engine.ValidatePolicy(p); err != nil {
		return p, s.explainPolicy(p, err)
	}
	return s.SetPolicy(ctx, serverID, p)
}

// CheckPolicy validates an edit without saving it (live validation).
func (s *Service) CheckPolicy(ctx context.Context, serverID string, e PolicyEdit) error {
	p, err := s.draftPolicy(ctx, serverID, e)
	if err != nil {
		return err
	}
	if _, err := s.engine.ValidatePolicy(p); err != nil {
		return s.explainPolicy(p, err)
	}
	return nil
}

// explainPolicy turns the engine's verdict on a whole policy into one
// problem per field, so the editor can show each next to its input: every
// part (thresholds, each list, each signal, each rule) is validated on its
// own. Problems that only show in combination (a duplicate rule id) keep
// the engine's whole answer.
func (s *Service) explainPolicy(p screening.Policy, whole error) error {
	base := screening.DefaultPolicy()
	var out FieldErrors
	try := func(part screening.Policy, rename func(string) string) {
		if _, err := s.engine.ValidatePolicy(part); err != nil {
			var ve *fault.ValidationError
			if errors.As(err, &ve) {
				field := ve.Field
				if rename != nil {
					field = rename(field)
				}
				msg := ve.Message
				// a joined error lists "field: message; ..."; keep its first message
				if i := strings.Index(msg, "; "); i > 0 && strings.Contains(msg[:i], ": ") {
					msg = msg[strings.Index(msg, ": ")+2 : i]
				}
				out = append(out, &fault.ValidationError{Field: field, Message: msg})
			}
		}
	}
	th := base
	th.ReviewAt, th.RejectAt = p.ReviewAt, p.RejectAt
	try(th, nil)
	for _, l := range []struct {
		get func(*screening.Policy) *[]string
	}{
		{func(q *screening.Policy) *[]string { return &q.AllowDomains }},
		{func(q *screening.Policy) *[]string { return &q.DenyDomains }},
		{func(q *screening.Policy) *[]string { return &q.AllowEmailDomains }},
		{func(q *screening.Policy) *[]string { return &q.DenyEmailDomains }},
	} {
		part := base
		*l.get(&part) = *l.get(&p)
		try(part, nil)
	}
	for code, set := range p.Signals {
		part := base
		part.Signals = map[string]screening.SignalSetting{code: set}
		try(part, nil)
	}
	for i, r := range p.Rules {
		part := base
		part.Rules = []screening.Rule{r}
		idx := strconv.Itoa(i)
		try(part, func(f string) string { return strings.Replace(f, "rules[0]", "rules["+idx+"]", 1) })
	}
	if len(out) == 0 {
		return whole
	}
	return out
}

func (s *Service) draftPolicy(ctx context.Context, serverID string, e PolicyEdit) (screening.Policy, error) {
	cur, err := s.policy(ctx, serverID)
	if err != nil {
		return cur, fmt.Errorf("load policy of %s: %w", serverID, err)
	}
	p := screening.Policy{ReviewAt: e.ReviewAt, RejectAt: e.RejectAt, WaveMode: e.WaveMode,
		AllowDomains: e.AllowDomains, DenyDomains: e.DenyDomains,
		AllowEmailDomains: e.AllowEmailDomains, DenyEmailDomains: e.DenyEmailDomains}
	p.Signals = map[string]screening.SignalSetting{}
	for code, old := range cur.Signals {
		if len(old.Params) > 0 {
			p.Signals[code] = screening.SignalSetting{Params: old.Params}
		}
	}
	for code, t := range e.Signals {
		set := p.Signals[code]
		if !t.Enabled {
			off := false
			set.Enabled = &off
		}
		if t.Weight != 1 {
			w := t.Weight
			set.Weight = &w
		}
		if set.Enabled != nil || set.Weight != nil || len(set.Params) > 0 {
			p.Signals[code] = set
		}
	}
	if len(p.Signals) == 0 {
		p.Signals = nil
	}
	used := map[string]bool{}
	for _, r := range e.Rules {
		used[r.ID] = true
	}
	next := 1
	for i := range e.Rules {
		if e.Rules[i].ID != "" {
			continue
		}
		for used["r"+strconv.Itoa(next)] {
			next++
		}
		e.Rules[i].ID = "r" + strconv.Itoa(next)
		used[e.Rules[i].ID] = true
	}
	p.Rules = e.Rules
	return p, nil
}
