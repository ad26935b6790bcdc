// Package signals is Breakwater's plug-in registry of spam signals. Each
// signal lives in its own file, registers itself from init() and is found by
// its stable reason code; the screening engine evaluates whatever is
// registered, so adding a signal never touches a central switch (the shape
// of Caddy's module registry).
package signals

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Gates a signal can apply to.
const (
	GateSignup  = "signup"
	GateContent = "content"
	GateBoth    = "both"
)

// Signal is one detector. Evaluate must be a pure function of its arguments
// (the same input, state and params give the same hits), must not retain in,
// and must be safe for concurrent use.
type Signal interface {
	// Info describes the signal; it is called once, at registration.
	Info() Info
	// Evaluate returns the hits for one check, or nil. params is the
	// pointer returned by DecodeParams for this signal (nil for signals
	// without params).
	Evaluate(ctx context.Context, in *Input, st State, params any) []Hit
}

// Adjuster is implemented by signals that act on the result of all other
// signals (wave mode): Adjust runs after every ordinary signal, gets the
// hits so far (already weighted by the policy) and may rescale their points
// and add hits of its own.
type Adjuster interface {
	Adjust(in *Input, hits []WeightedHit, params any) []Hit
}

// WeightedHit is a hit after the policy's and the server's learned
// multipliers were applied; Points is what it adds to the score.
type WeightedHit struct {
	Hit
	Points float64
}

// Hit is one finding. Points are score points before per-server
// multipliers (negative for trust); Message is for moderators and must not
// reveal exact thresholds, the e-mail address, the IP address or the text.
type Hit struct {
	Code    string
	Points  float64
	Message string
	// CampaignID names the campaign a hit of the campaign signal matched;
	// the engine reports it as the check's campaignId exactly when the
	// hit's reason is kept.
	CampaignID string
}

// Info describes a signal for the engine, the policy editor and the docs.
type Info struct {
	// Code is the stable reason code, [a-z_]+.
	Code string `json:"code"`
	// Gate is signup, content or both.
	Gate string `json:"gate"`
	// Description says what the signal looks at, for the policy editor.
	Description string `json:"description"`
	// Weight is the score points of a typical hit at default params
	// (negative for trust signals); the policy can multiply it.
	Weight int `json:"weight"`
	// Params is the schema of the signal's params, filled in by Register
	// from Defaults.
	Params []Param `json:"params,omitempty"`
	// Defaults is a struct value holding the default params; its exported
	// fields with json tags are the params. Nil for signals without params.
	Defaults any `json:"-"`
}

// Param describes one tunable of a signal. Struct tags on the Defaults
// fields supply it: `json:"name" min:"1" max:"100" desc:"..."`.
type Param struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"` // integer, number or boolean
	Default     any      `json:"default"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Description string   `json:"description"`
}

// ParamError says which param of which signal is wrong; the policy
// validator turns it into a field path.
type ParamError struct {
	Param   string // "" when the params object itself is malformed
	Message string
}

// Error renders "param: message" so a log line names the param.
func (e *ParamError) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return e.Param + ": " + e.Message
}

type entry struct {
	sig    Signal
	info   Info
	fields []paramField
}

type paramField struct {
	index int
	param Param
}

// registry is the only mutable package state: it is filled by init()
// functions and only read afterwards.
var registry = struct {
	sync.RWMutex
	byCode map[string]*entry
}{byCode: map[string]*entry{}}

// Register adds a signal. It panics on a duplicate or malformed code, an
// unknown gate, or params that cannot be described, because these are
// programming errors that must fail at start-up, not at screening time.
func Register(s Signal) {
	info := s.Info()
	if info.Code == "" || strings.Trim(info.Code, "abcdefghijklmnopqrstuvwxyz_") != "" {
		panic(fmt.Sprintf("signals: bad code %q", info.Code))
	}
	switch info.Gate {
	case GateSignup, GateContent, GateBoth:
	default:
		panic(fmt.Sprintf("signals: %s: bad gate %q", info.Code, info.Gate))
	}
	fields, err := describeParams(info.Defaults)
	if err != nil {
		panic(fmt.Sprintf("signals: %s: %v", info.Code, err))
	}
	info.Params = nil
	for _, f := range fields {
		info.Params = append(info.Params, f.param)
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byCode[info.Code]; dup {
		panic(fmt.Sprintf("signals: duplicate code %q", info.Code))
	}
	registry.byCode[info.Code] = &entry{sig: s, info: info, fields: fields}
}

// Registered is one registered signal with its description.
type Registered struct {
	Signal Signal
	Info   Info
}

// All returns every registered signal sorted by code, the order in which
// the engine evaluates them (so reasons come out deterministically).
func All() []Registered {
	registry.RLock()
	out := make([]Registered, 0, len(registry.byCode))
	for _, e := range registry.byCode {
		out = append(out, Registered{Signal: e.sig, Info: e.info})
	}
	registry.RUnlock()
	slices.SortFunc(out, func(a, b Registered) int { return strings.Compare(a.Info.Code, b.Info.Code) })
	return out
}

// Lookup finds a signal by code.
func Lookup(code string) (Registered, bool) {
	registry.RLock()
	defer registry.RUnlock()
	e, ok := registry.byCode[code]
	if !ok {
		return Registered{}, false
	}
	return Registered{Signal: e.sig, Info: e.info}, true
}

// DecodeParams turns a policy's raw params for a signal into the signal's
// typed params: defaults first, then the given members, each checked
// against its type and bounds, then the params' own Validate method if it
// has one. Empty raw gives the defaults. The result is a pointer to a
// value of the Defaults type (nil for a signal without params) and is
// shared read-only between checks.
func DecodeParams(code string, raw json.RawMessage) (any, error) {
	registry.RLock()
	e, ok := registry.byCode[code]
	registry.RUnlock()
	if !ok {
		return nil, &ParamError{Message: "unknown signal " + strconv.Quote(code)}
	}
	raw = bytes.TrimSpace(raw)
	empty := len(raw) == 0 || bytes.Equal(raw, []byte("null")) || bytes.Equal(raw, []byte("{}"))
	if e.info.Defaults == nil {
		if !empty {
			return nil, &ParamError{Message: "this signal takes no params"}
		}
		return nil, nil
	}
	t := reflect.TypeOf(e.info.Defaults)
	pv := reflect.New(t)
	pv.Elem().Set(reflect.ValueOf(e.info.Defaults))
	if !empty {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			return nil, &ParamError{Message: "params must be a JSON object"}
		}
		names := make([]string, 0, len(members))
		for n := range members {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, name := range names {
			f := findField(e.fields, name)
			if f == nil {
				return nil, &ParamError{Param: name, Message: "unknown param"}
			}
			fv := pv.Elem().Field(f.index)
			if err := decodeField(fv, members[name], f.param); err != nil {
				return nil, &ParamError{Param: name, Message: err.Error()}
			}
		}
	}
	if v, ok := pv.Interface().(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			var pe *ParamError
			if errors.As(err, &pe) {
				return nil, pe
			}
			return nil, &ParamError{Message: err.Error()}
		}
	}
	return pv.Interface(), nil
}

// MustDefaults returns the decoded default params of a signal, for tests and
// for engines that have no policy override.
func MustDefaults(code string) any {
	p, err := DecodeParams(code, nil)
	if err != nil {
		panic(err)
	}
	return p
}

func findField(fields []paramField, name string) *paramField {
	for i := range fields {
		if fields[i].param.Name == name {
			return &fields[i]
		}
	}
	return nil
}

func decodeField(fv reflect.Value, raw json.RawMessage, p Param) error {
	var num float64
	switch fv.Kind() {
	case reflect.Bool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("must be a boolean")
		}
		fv.SetBool(b)
		return nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		var i int64
		if err := json.Unmarshal(raw, &i); err != nil {
			return fmt.Errorf("must be an integer")
		}
		num = float64(i)
		if err := checkRange(num, p); err != nil {
			return err
		}
		fv.SetInt(i)
	case reflect.Float64:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("must be a number")
		}
		if err := checkRange(f, p); err != nil {
			return err
		}
		fv.SetFloat(f)
	default:
		return fmt.Errorf("unsupported param type")
	}
	return nil
}

func checkRange(v float64, p Param) error {
	if p.Min != nil && v < *p.Min {
		return fmt.Errorf("must be at least %v", *p.Min)
	}
	if p.Max != nil && v > *p.Max {
		return fmt.Errorf("must be at most %v", *p.Max)
	}
	return nil
}

func describeParams(defaults any) ([]paramField, error) {
	if defaults == nil {
		return nil, nil
	}
	t := reflect.TypeOf(defaults)
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("Defaults must be a struct value, got %s", t)
	}
	v := reflect.ValueOf(defaults)
	var out []paramField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return nil, fmt.Errorf("param field %s needs a json name", f.Name)
		}
		p := Param{Name: name, Description: f.Tag.Get("desc"), Default: v.Field(i).Interface()}
		switch f.Type.Kind() {
		case reflect.Bool:
			p.Type = "boolean"
		case reflect.Int, reflect.Int64, reflect.Int32:
			p.Type = "integer"
		case reflect.Float64:
			p.Type = "number"
		default:
			return nil, fmt.Errorf("param %s: unsupported type %s", name, f.Type)
		}
		for _, bound := range []struct {
			tag string
			dst **float64
		}{{"min", &p.Min}, {"max", &p.Max}} {
			if s := f.Tag.Get(bound.tag); s != "" {
				x, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return nil, fmt.Errorf("param %s: bad %s tag", name, bound.tag)
				}
				*bound.dst = &x
			}
		}
		if p.Description == "" {
			return nil, fmt.Errorf("param %s needs a desc tag", name)
		}
		out = append(out, paramField{index: i, param: p})
	}
	return out, nil
}
