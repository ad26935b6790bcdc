package handlers

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// defaultLang is the language used when the browser asks for none we have.
const defaultLang = "en"

// catalog is one language's messages: keys to text, and "msg:"+English for
// messages that come from the domain in English (validation errors).
type catalog struct {
	Lang     string
	Name     string // the language's own name, for the switch
	messages map[string]string
}

// T translates key, formatting args into it with fmt verbs when given. A
// missing key shows itself, which the catalogue test makes impossible.
func (c *catalog) T(key string, args ...any) string {
	s, ok := c.messages[key]
	if !ok {
		s = key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Msg translates an English message from the domain, falling back to it.
func (c *catalog) Msg(english string) string {
	if s, ok := c.messages["msg:"+english]; ok {
		return s
	}
	return english
}

// Signal names a signal by its reason code; a signal newer than the
// catalogues shows its code.
func (c *catalog) Signal(code string) string {
	if s, ok := c.messages["signal."+code]; ok {
		return s
	}
	return code
}

// sourceLang is the language the engine writes reason messages and signal
// descriptions in.
const sourceLang = "en"

// Reason explains a reason code in this language: the engine's own message
// in its language, elsewhere the catalogue's explanation of the code (or,
// for a code it does not know, the engine's message).
func (c *catalog) Reason(code, message string) string {
	if c.Lang == sourceLang {
		return message
	}
	if s, ok := c.messages["reason."+code]; ok {
		return s
	}
	return message
}

// Original is the engine's message when Reason replaced it, so the page
// can show it too; "" when Reason returned it already.
func (c *catalog) Original(code, message string) string {
	if c.Reason(code, message) == message {
		return ""
	}
	return message
}

// Time formats a time for this language, always in UTC.
func (c *catalog) Time(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// Num formats an integer with thousands separators.
func (c *catalog) Num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// catalogs holds every language found in web/i18n.
type catalogs struct {
	byLang map[string]*catalog
	langs  []*catalog // sorted by code, for the language switch
}

func loadCatalogs(fsys fs.FS) (*catalogs, error) {
	files, err := fs.Glob(fsys, "web/i18n/*.json")
	if err != nil {
		return nil, err
	}
	cs := &catalogs{byLang: map[string]*catalog{}}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read catalogue %s: %w", f, err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("parse catalogue %s: %w", f, err)
		}
		lang := strings.TrimSuffix(path.Base(f), ".json")
		c := &catalog{Lang: lang, Name: m["lang.name"], messages: m}
		cs.byLang[lang] = c
		cs.langs = append(cs.langs, c)
	}
	if cs.byLang[defaultLang] == nil {
		return nil, fmt.Errorf("no %s catalogue in web/i18n", defaultLang)
	}
	sort.Slice(cs.langs, func(i, j int) bool { return cs.langs[i].Lang < cs.langs[j].Lang })
	return cs, nil
}

// get returns a supported language's catalogue, or nil.
func (cs *catalogs) get(lang string) *catalog { return cs.byLang[lang] }

// negotiate picks the best catalogue for an Accept-Language header: the
// highest-weighted language whose primary subtag we have.
func (cs *catalogs) negotiate(header string) *catalog {
	best, bestQ := cs.byLang[defaultLang], -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if c := cs.byLang[primary]; c != nil && q > bestQ && q > 0 {
			best, bestQ = c, q
		}
	}
	return best
}
