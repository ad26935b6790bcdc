package provider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/breakwater-fasp/breakwater/provider/screening"
	"github.com/breakwater-fasp/breakwater/provider/signals"
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
	all := signals.All()
	out := make([]SignalInfo, 0, len(all))
	for _, r := range all {
		out = append(out, SignalInfo{Code: r.Info.Code, Gate: r.Info.Gate, Description: r.Info.Description, Weight: r.Info.Weight})
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
	return s.SetPolicy(ctx, serverID, p)
}

// CheckPolicy validates an edit without saving it (live validation).
func (s *Service) CheckPolicy(ctx context.Context, serverID string, e PolicyEdit) error {
	p, err := s.draftPolicy(ctx, serverID, e)
	if err != nil {
		return err
	}
	if _, err := s.engine.ValidatePolicy(p); err != nil {
		return err
	}
	return nil
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
