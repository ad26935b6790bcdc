package screening

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/signals"
	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

// Policy limits: generous for admins, small enough that a policy cannot
// make screening slow.
const (
	maxRules         = 200
	maxRulePattern   = 1000 // characters
	maxRuleID        = 64
	maxDomainEntries = 10_000
	maxSignalWeight  = 5.0
)

// SignalInfo describes one registered signal for the policy editor and the
// docs: code, gate, description, default weight and the param schema with
// defaults.
type SignalInfo = signals.Info

// Signals lists every registered signal, sorted by code.
func Signals() []SignalInfo {
	all := signals.All()
	out := make([]SignalInfo, len(all))
	for i, r := range all {
		out[i] = r.Info
	}
	return out
}

// ValidatePolicy checks a policy before it is saved and returns it
// normalised: domains lower-cased, de-duplicated and sorted, rule ids and
// patterns trimmed. Every problem is reported with the JSON path of the
// field (for example "rules[2].pattern" or "signals.ip_velocity.params.review");
// when there are several, the error names the first field and lists all.
func (e *Engine) ValidatePolicy(p Policy) (Policy, error) {
	var errs []*fault.ValidationError
	bad := func(field, format string, args ...any) { errs = append(errs, fault.Invalid(field, format, args...)) }

	if p.ReviewAt <= 0 || p.ReviewAt > 100 {
		bad("reviewAt", "must be between 1 and 99")
	}
	if p.RejectAt <= 0 || p.RejectAt > 100 {
		bad("rejectAt", "must be between 2 and 100")
	} else if p.RejectAt <= p.ReviewAt {
		bad("rejectAt", "must be greater than reviewAt")
	}

	lists := []struct {
		field string
		list  *[]string
	}{
		{"allowDomains", &p.AllowDomains}, {"denyDomains", &p.DenyDomains},
		{"allowEmailDomains", &p.AllowEmailDomains}, {"denyEmailDomains", &p.DenyEmailDomains},
	}
	for _, l := range lists {
		if len(*l.list) > maxDomainEntries {
			bad(l.field, "must have at most %d entries", maxDomainEntries)
			continue
		}
		var out []string
		for i, d := range *l.list {
			n, err := signals.NormalizeDomain(d)
			if err != nil {
				bad(fmt.Sprintf("%s[%d]", l.field, i), "%v", err)
				continue
			}
			out = append(out, n)
		}
		slices.Sort(out)
		*l.list = slices.Compact(out)
	}

	if p.Signals != nil {
		p.Signals = maps.Clone(p.Signals)
	}
	for _, code := range slices.Sorted(maps.Keys(p.Signals)) {
		set := p.Signals[code]
		field := "signals." + code
		if _, ok := signals.Lookup(code); !ok {
			bad(field, "unknown signal")
			continue
		}
		if set.Weight != nil && (*set.Weight < 0 || *set.Weight > maxSignalWeight) {
			bad(field+".weight", "must be between 0 and %g", maxSignalWeight)
		}
		if _, err := signals.DecodeParams(code, set.Params); err != nil {
			var pe *signals.ParamError
			if errors.As(err, &pe) && pe.Param != "" {
				bad(field+".params."+pe.Param, "%s", pe.Message)
			} else {
				bad(field+".params", "%v", err)
			}
		}
	}

	if len(p.Rules) > maxRules {
		bad("rules", "must have at most %d rules", maxRules)
	} else {
		p.Rules = slices.Clone(p.Rules)
		seen := map[string]int{}
		for i := range p.Rules {
			r := &p.Rules[i]
			field := fmt.Sprintf("rules[%d]", i)
			r.ID = strings.TrimSpace(r.ID)
			r.Pattern = strings.TrimSpace(r.Pattern)
			switch {
			case r.ID == "":
				bad(field+".id", "is required")
			case utf8.RuneCountInString(r.ID) > maxRuleID:
				bad(field+".id", "must be at most %d characters", maxRuleID)
			default:
				if j, dup := seen[r.ID]; dup {
					bad(field+".id", "duplicates rules[%d].id", j)
				}
				seen[r.ID] = i
			}
			if r.Gate != "" && r.Gate != GateSignup && r.Gate != GateContent {
				bad(field+".gate", "must be signup, content or empty for both")
			}
			if r.Weight < -100 || r.Weight > 100 {
				bad(field+".weight", "must be between -100 and 100")
			}
			if _, err := compileRule(*r); err != nil {
				bad(field+".pattern", "%v", err)
			}
		}
	}
	if len(errs) > 0 {
		return Policy{}, fault.Join(errs)
	}
	return p, nil
}

// compileRule turns a rule into its runnable form. Keywords are normalised
// like the text they match; regular expressions are RE2 (linear time, no
// backtracking) and case-insensitive because the text is case-folded.
func compileRule(r Rule) (signals.CompiledRule, error) {
	cr := signals.CompiledRule{ID: r.ID, Gate: r.Gate, Weight: r.Weight}
	switch n := utf8.RuneCountInString(r.Pattern); {
	case n == 0:
		return cr, errors.New("is required")
	case n > maxRulePattern:
		return cr, fmt.Errorf("must be at most %d characters", maxRulePattern)
	}
	if r.Regex {
		re, err := regexp.Compile("(?i)" + r.Pattern)
		if err != nil {
			return cr, fmt.Errorf("is not a valid RE2 regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		cr.Regex = re
		return cr, nil
	}
	cr.Keyword = similarity.Normalize(r.Pattern)
	if cr.Keyword == "" {
		return cr, errors.New("has no characters left after normalisation")
	}
	return cr, nil
}

// compiledPolicy is a policy ready to run: per-signal enablement, weight
// multipliers and decoded params indexed like Engine.sigs, and the view
// signals read.
type compiledPolicy struct {
	src      Policy // deep copy, to recognise the same policy next time
	reviewAt int
	rejectAt int
	enabled  []bool
	weight   []float64
	params   []any
	view     signals.PolicyView
}

// compile builds a compiledPolicy. In strict mode any invalid part is an
// error; otherwise invalid parts fall back to defaults (used at screening
// time, so that a signal removed or changed by an upgrade never stops
// screening; saved policies were validated strictly).
func (e *Engine) compile(p Policy, strict bool) (*compiledPolicy, error) {
	cp := &compiledPolicy{
		src:      clonePolicy(p),
		reviewAt: p.ReviewAt,
		rejectAt: p.RejectAt,
		enabled:  make([]bool, len(e.sigs)),
		weight:   make([]float64, len(e.sigs)),
		params:   make([]any, len(e.sigs)),
	}
	if p.ReviewAt <= 0 || p.RejectAt <= p.ReviewAt || p.RejectAt > 100 {
		if strict {
			return nil, errors.New("invalid thresholds")
		}
		d := DefaultPolicy()
		cp.reviewAt, cp.rejectAt = d.ReviewAt, d.RejectAt
	}
	for i, r := range e.sigs {
		cp.enabled[i] = true
		cp.weight[i] = 1
		cp.params[i] = e.defaults[i]
		set, ok := p.Signals[r.Info.Code]
		if !ok {
			continue
		}
		if set.Enabled != nil {
			cp.enabled[i] = *set.Enabled
		}
		if set.Weight != nil && *set.Weight >= 0 && *set.Weight <= maxSignalWeight {
			cp.weight[i] = *set.Weight
		}
		if len(set.Params) > 0 {
			pp, err := signals.DecodeParams(r.Info.Code, set.Params)
			if err != nil {
				if strict {
					return nil, err
				}
				continue
			}
			cp.params[i] = pp
		}
	}
	norm := func(list []string) signals.DomainSet {
		out := make([]string, 0, len(list))
		for _, d := range list {
			if n, err := signals.NormalizeDomain(d); err == nil {
				out = append(out, n)
			}
		}
		return signals.NewDomainSet(out)
	}
	cp.view = signals.PolicyView{
		AllowDomains:      norm(p.AllowDomains),
		DenyDomains:       norm(p.DenyDomains),
		AllowEmailDomains: norm(p.AllowEmailDomains),
		DenyEmailDomains:  norm(p.DenyEmailDomains),
		WaveMode:          p.WaveMode,
	}
	for _, r := range p.Rules {
		cr, err := compileRule(r)
		if err != nil {
			if strict {
				return nil, err
			}
			continue
		}
		cp.view.Rules = append(cp.view.Rules, cr)
	}
	return cp, nil
}

func clonePolicy(p Policy) Policy {
	q := p
	q.AllowDomains = slices.Clone(p.AllowDomains)
	q.DenyDomains = slices.Clone(p.DenyDomains)
	q.AllowEmailDomains = slices.Clone(p.AllowEmailDomains)
	q.DenyEmailDomains = slices.Clone(p.DenyEmailDomains)
	q.Rules = slices.Clone(p.Rules)
	if p.Signals != nil {
		q.Signals = make(map[string]SignalSetting, len(p.Signals))
		for k, v := range p.Signals {
			c := v
			if v.Enabled != nil {
				b := *v.Enabled
				c.Enabled = &b
			}
			if v.Weight != nil {
				w := *v.Weight
				c.Weight = &w
			}
			c.Params = bytes.Clone(v.Params)
			q.Signals[k] = c
		}
	}
	return q
}

func policyEqual(a, b *Policy) bool {
	if a.ReviewAt != b.ReviewAt || a.RejectAt != b.RejectAt || a.WaveMode != b.WaveMode ||
		!slices.Equal(a.AllowDomains, b.AllowDomains) || !slices.Equal(a.DenyDomains, b.DenyDomains) ||
		!slices.Equal(a.AllowEmailDomains, b.AllowEmailDomains) || !slices.Equal(a.DenyEmailDomains, b.DenyEmailDomains) ||
		!slices.Equal(a.Rules, b.Rules) || len(a.Signals) != len(b.Signals) {
		return false
	}
	for k, x := range a.Signals {
		y, ok := b.Signals[k]
		if !ok || !ptrEqual(x.Enabled, y.Enabled) || !ptrEqual(x.Weight, y.Weight) || !bytes.Equal(x.Params, y.Params) {
			return false
		}
	}
	return true
}

func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// policyCache keeps each server's last compiled policy, so the common case
// (the same policy on every check) costs one comparison instead of decoding
// params and compiling regular expressions.
type policyCache struct {
	shards [16]struct {
		mu sync.RWMutex
		m  map[string]*compiledPolicy
	}
}

func (c *policyCache) shard(serverID string) *struct {
	mu sync.RWMutex
	m  map[string]*compiledPolicy
} {
	h := uint32(2166136261)
	for i := 0; i < len(serverID); i++ {
		h = (h ^ uint32(serverID[i])) * 16777619
	}
	return &c.shards[h%16]
}

func (e *Engine) policyFor(serverID string, p *Policy) *compiledPolicy {
	sh := e.policies.shard(serverID)
	sh.mu.RLock()
	cp := sh.m[serverID]
	sh.mu.RUnlock()
	if cp != nil && policyEqual(&cp.src, p) {
		return cp
	}
	cp, _ = e.compile(*p, false) // lenient compile never fails
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = map[string]*compiledPolicy{}
	}
	sh.m[serverID] = cp
	sh.mu.Unlock()
	return cp
}
