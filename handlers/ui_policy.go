package handlers

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// blankRules is how many empty rule rows the editor offers, so rules can be
// added without a script.
const blankRules = 3

// policyForm is the editor's view: the policy's values as the form shows
// them.
type policyForm struct {
	ReviewAt, RejectAt string
	WaveMode           bool
	Signals            []signalRow
	Lists              []listField
	Rules              []ruleRow
}

type signalRow struct {
	Code, Gate, Description string
	Points                  int
	Enabled                 bool
	Weight                  string
}

type listField struct {
	Name, Value string
}

type ruleRow struct {
	ID, Pattern, Gate, Weight string
	Regex                     bool
}

func editOf(p screening.Policy) provider.PolicyEdit {
	e := provider.PolicyEdit{ReviewAt: p.ReviewAt, RejectAt: p.RejectAt, WaveMode: p.WaveMode,
		AllowDomains: p.AllowDomains, DenyDomains: p.DenyDomains, AllowEmailDomains: p.AllowEmailDomains,
		DenyEmailDomains: p.DenyEmailDomains, Rules: p.Rules, Signals: map[string]provider.SignalToggle{}}
	for code, s := range p.Signals {
		t := provider.SignalToggle{Enabled: s.Enabled == nil || *s.Enabled, Weight: 1}
		if s.Weight != nil {
			t.Weight = *s.Weight
		}
		e.Signals[code] = t
	}
	return e
}

// formOf lays an edit out for the template; weights and thresholds the
// admin typed stay as typed (raw) when the form is shown again.
func (h *Handlers) formOf(e provider.PolicyEdit, raw map[string]string) policyForm {
	f := policyForm{ReviewAt: strconv.Itoa(e.ReviewAt), RejectAt: strconv.Itoa(e.RejectAt), WaveMode: e.WaveMode}
	for _, s := range h.svc.PolicySignals() {
		t, ok := e.Signals[s.Code]
		if !ok {
			t = provider.SignalToggle{Enabled: true, Weight: 1}
		}
		f.Signals = append(f.Signals, signalRow{Code: s.Code, Gate: s.Gate, Description: s.Description, Points: s.Weight,
			Enabled: t.Enabled, Weight: strconv.FormatFloat(t.Weight, 'f', -1, 64)})
	}
	f.Lists = []listField{
		{"allowDomains", strings.Join(e.AllowDomains, "\n")}, {"denyDomains", strings.Join(e.DenyDomains, "\n")},
		{"allowEmailDomains", strings.Join(e.AllowEmailDomains, "\n")}, {"denyEmailDomains", strings.Join(e.DenyEmailDomains, "\n")},
	}
	for _, r := range e.Rules {
		f.Rules = append(f.Rules, ruleRow{ID: r.ID, Pattern: r.Pattern, Regex: r.Regex, Gate: r.Gate, Weight: strconv.Itoa(r.Weight)})
	}
	for i := 0; i < blankRules; i++ {
		f.Rules = append(f.Rules, ruleRow{Weight: "20"})
	}
	for k, v := range raw {
		switch {
		case k == "reviewAt":
			f.ReviewAt = v
		case k == "rejectAt":
			f.RejectAt = v
		case strings.HasPrefix(k, "sig.") && strings.HasSuffix(k, ".weight"):
			code := strings.TrimSuffix(strings.TrimPrefix(k, "sig."), ".weight")
			for i := range f.Signals {
				if f.Signals[i].Code == code {
					f.Signals[i].Weight = v
				}
			}
		}
	}
	return f
}

// bindPolicy reads the editor's form. Numbers that do not parse are field
// errors; rows with an empty pattern are dropped. rows maps each kept
// rule back to its row in the form, to put the engine's errors next to it.
func bindPolicy(c echo.Context, signalCodes []string) (e provider.PolicyEdit, rows []int, raw map[string]string, err error) {
	var errs provider.FieldErrors
	raw = map[string]string{}
	num := func(name string) int {
		v := strings.TrimSpace(c.FormValue(name))
		n, perr := strconv.Atoi(v)
		if perr != nil {
			raw[name] = v
			errs = append(errs, fault.Invalid(name, "must be a whole number"))
		}
		return n
	}
	e.ReviewAt, e.RejectAt = num("reviewAt"), num("rejectAt")
	e.WaveMode = c.FormValue("waveMode") == "yes"
	e.Signals = map[string]provider.SignalToggle{}
	for _, code := range signalCodes {
		t := provider.SignalToggle{Enabled: c.FormValue("sig."+code+".on") == "yes", Weight: 1}
		if v := strings.TrimSpace(c.FormValue("sig." + code + ".weight")); v != "" {
			w, perr := strconv.ParseFloat(v, 64)
			if perr != nil {
				raw["sig."+code+".weight"] = v
				errs = append(errs, fault.Invalid("sig."+code+".weight", "must be a number"))
			}
			t.Weight = w
		}
		e.Signals[code] = t
	}
	e.AllowDomains, e.DenyDomains = splitList(c.FormValue("allowDomains")), splitList(c.FormValue("denyDomains"))
	e.AllowEmailDomains, e.DenyEmailDomains = splitList(c.FormValue("allowEmailDomains")), splitList(c.FormValue("denyEmailDomains"))
	n, _ := strconv.Atoi(c.FormValue("rules"))
	for i := 0; i < n && i < 500; i++ {
		p := "rule." + strconv.Itoa(i) + "."
		pattern := strings.TrimSpace(c.FormValue(p + "pattern"))
		if pattern == "" {
			continue
		}
		w, perr := strconv.Atoi(strings.TrimSpace(c.FormValue(p + "weight")))
		if perr != nil {
			errs = append(errs, fault.Invalid(p+"weight", "must be a whole number"))
		}
		e.Rules = append(e.Rules, screening.Rule{ID: c.FormValue(p + "id"), Pattern: pattern,
			Regex: c.FormValue(p+"regex") == "yes", Gate: c.FormValue(p + "gate"), Weight: w})
		rows = append(rows, i)
	}
	if len(errs) > 0 {
		return e, rows, raw, errs
	}
	return e, rows, raw, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' || r == '\t' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

var enginePath = regexp.MustCompile(`^(rules|signals|allowDomains|denyDomains|allowEmailDomains|denyEmailDomains)(?:\[([^\]]*)\]|\.([^.]+))?(?:\.(.+))?$`)

// formField maps a policy field path from the engine (rules[2].pattern,
// signals.mention_flood.weight) to the editor's input name.
func formField(path string, rows []int) string {
	m := enginePath.FindStringSubmatch(path)
	if m == nil {
		return path
	}
	key := m[2] + m[3]
	rest := m[4]
	switch m[1] {
	case "rules":
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 || i >= len(rows) {
			return "rules"
		}
		if rest == "" || rest == "id" {
			rest = "pattern"
		}
		return "rule." + strconv.Itoa(rows[i]) + "." + rest
	case "signals":
		if rest == "weight" {
			return "sig." + key + ".weight"
		}
		return "sig." + key + ".on"
	}
	return m[1]
}

// policyProblems renames the engine's field paths to the form's names.
func policyProblems(err error, rows []int) error {
	var fe provider.FieldErrors
	var ve *fault.ValidationError
	switch {
	case errors.As(err, &fe):
		out := make(provider.FieldErrors, len(fe))
		for i, v := range fe {
			out[i] = &fault.ValidationError{Field: formField(v.Field, rows), Message: v.Message}
		}
		return out
	case errors.As(err, &ve):
		return provider.FieldErrors{&fault.ValidationError{Field: formField(ve.Field, rows), Message: ve.Message}}
	}
	return err
}

func signalCodes(list []provider.SignalInfo) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Code
	}
	return out
}

// policyEdit shows the policy editor.
func (h *Handlers) policyEdit(c echo.Context) error {
	p, err := h.svc.Policy(c.Request().Context(), h.serverID(c))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "policy.html", map[string]any{"Title": "policy.title", "Policy": h.formOf(editOf(p), nil)})
}

// policyUpdate validates and saves the whole policy, or shows each problem
// next to its field.
func (h *Handlers) policyUpdate(c echo.Context) error {
	e, rows, raw, err := bindPolicy(c, signalCodes(h.svc.PolicySignals()))
	if err == nil {
		_, err = h.svc.EditPolicy(c.Request().Context(), h.serverID(c), e)
		err = policyProblems(err, rows)
	}
	if err != nil {
		return h.formFailed(c, "policy.html", map[string]any{"Title": "policy.title", "Policy": h.formOf(e, raw)}, err)
	}
	return redirectDone(c, "/admin/policy", "policy_saved")
}

// policyValidate answers the editor's script with the problems of the form
// as it stands, without saving: the same validation as saving, live.
func (h *Handlers) policyValidate(c echo.Context) error {
	e, rows, _, err := bindPolicy(c, signalCodes(h.svc.PolicySignals()))
	if err == nil {
		err = policyProblems(h.svc.CheckPolicy(c.Request().Context(), h.serverID(c), e), rows)
	}
	out := map[string]string{}
	if err != nil {
		problems, _, ok := formProblems(err)
		if !ok {
			return err
		}
		cat := h.web(c).cat
		for k, v := range problems {
			out[k] = cat.Msg(v)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"errors": out})
}
