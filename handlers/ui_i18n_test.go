package handlers

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// TestCataloguesComplete: every key exists in every catalogue, every key a
// template or handler uses exists, and translations keep their format
// verbs, so adding a language is one file and cannot half-work.
func TestCataloguesComplete(t *testing.T) {
	cats, err := loadCatalogs(webFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(cats.langs) < 2 || cats.get("en") == nil || cats.get("ja") == nil {
		t.Fatalf("catalogues: %d, want en and ja", len(cats.langs))
	}
	en := cats.get("en")
	for _, c := range cats.langs {
		for k := range en.messages {
			if _, ok := c.messages[k]; !ok {
				t.Errorf("%s lacks %q", c.Lang, k)
			}
		}
		for k, v := range c.messages {
			if _, ok := en.messages[k]; !ok {
				t.Errorf("%s has %q, which en lacks", c.Lang, k)
			}
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %q is empty", c.Lang, k)
			}
			if got, want := verbs(v), verbs(en.messages[k]); got != want {
				t.Errorf("%s: %q has format verbs %q, en has %q", c.Lang, k, got, want)
			}
		}
	}
	for key := range usedKeys(t) {
		if _, ok := en.messages[key]; !ok {
			t.Errorf("key %q is used but not in the catalogues", key)
		}
	}
}

var verbRe = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbs is the multiset of a message's format verbs, ignoring explicit
// argument indexes (which a translation may use to reorder).
func verbs(s string) string {
	var out []string
	for _, v := range verbRe.FindAllString(s, -1) {
		out = append(out, regexp.MustCompile(`\[\d+\]`).ReplaceAllString(v, ""))
	}
	sortStrings(out)
	return strings.Join(out, " ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// usedKeys collects every catalogue key the templates and handlers name,
// expanding the keys built with printf from their known values.
func usedKeys(t *testing.T) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	static := regexp.MustCompile(`(?:\.T|"(?:Label|Hint|Caption|Key|Title)") "([a-z_.]+)"`)
	files, _ := fs.Glob(webFS, "web/templates/*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(webFS, f)
		for _, m := range static.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
	}
	dynamic := map[string][]string{
		"decision.%s":     {screening.Allow, screening.Review, screening.Reject},
		"gate.%s":         {"signup", "content", "both"},
		"verdict.%s":      {"none", "spam", "ham"},
		"status.%s":       {"active", "suspended"},
		"key.%s":          {"active", "retiring"},
		"legend.%s":       {"allow", "review", "reject", "signup", "content"},
		"landing.mode.%s": {"open", "approval", "invite", "closed"},
		"mode.%s":         {"open", "approval", "invite", "closed"},
		"quota.level.%s":  {provider.QuotaWarning, provider.QuotaExceeded},
		"policy.%s":       {"allowDomains", "denyDomains", "allowEmailDomains", "denyEmailDomains"},
		"mail.%s.subject": {"reset", "approved"},
		"mail.%s.body":    {"reset", "approved"},
		"capability.%s":   {},
		"flash.%s":        {"registered", "signed_out", "reset_sent", "password_changed", "feedback_spam", "feedback_ham", "policy_saved", "rotated", "approved", "rejected", "deleted", "suspended", "reinstated", "quota_saved", "campaign_confirm", "campaign_dismiss", "campaign_extend", "alerts_saved", "alert_test"},
		"chart.%s":        {"bucket", "gates"},
		"error.%s":        {"title"},
		"%s.title":        {"landing", "privacy", "register", "requested", "login", "forgot", "reset", "overview", "checks", "check", "debug", "setup", "usage", "policy"},
		"op.%s.title":     {"servers", "server", "usage", "health"},
		"msg:%s":          {provider.ErrBadCredentials.Error()},
	}
	for _, c := range provider.Capabilities() {
		dynamic["capability.%s"] = append(dynamic["capability.%s"], c.ID)
	}
	for pattern, values := range dynamic {
		for _, v := range values {
			keys[strings.Replace(pattern, "%s", v, 1)] = true
		}
	}
	return keys
}

// TestSignalNames gives every registered signal a name and explanation in
// every language. A signal added since shows its code and the engine's
// English until named, so this only reports it: other work must not break
// on a missing translation.
func TestSignalNames(t *testing.T) {
	cats, err := loadCatalogs(webFS)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range screening.Signals() {
		if s.Code == "a" || strings.HasPrefix(s.Code, "test") {
			continue
		}
		for _, c := range cats.langs {
			for _, k := range []string{"signal.", "reason."} {
				if _, ok := c.messages[k+s.Code]; !ok {
					t.Logf("%s has no %s%s yet (the page shows the code and the engine's text)", c.Lang, k, s.Code)
				}
			}
			if got := c.Signal(s.Code); got == "" {
				t.Errorf("%s: empty name for %s", c.Lang, s.Code)
			}
		}
	}
}

// TestNegotiate picks the language from Accept-Language weights.
func TestNegotiate(t *testing.T) {
	cats, err := loadCatalogs(webFS)
	if err != nil {
		t.Fatal(err)
	}
	for header, want := range map[string]string{
		"":                           "en",
		"ja":                         "ja",
		"ja-JP,ja;q=0.9,en-US;q=0.8": "ja",
		"en-US,en;q=0.9,ja;q=0.8":    "en",
		"fr-FR,ja;q=0.5":             "ja",
		"de, fr":                     "en",
		"ja;q=0, en;q=0.1":           "en",
		"en;q=0.2, ja;q=0.7":         "ja",
		"JA-jp":                      "ja",
		"ja;q=bogus":                 "en",
	} {
		if got := cats.negotiate(header).Lang; got != want {
			t.Errorf("%q: %s, want %s", header, got, want)
		}
	}
}

// TestChartGeometry keeps bars inside the plot and proportional.
func TestChartGeometry(t *testing.T) {
	cats, _ := loadCatalogs(webFS)
	ss := []series{{Class: "allow", Values: []int64{0, 3, 10}}, {Class: "reject", Values: []int64{0, 1, 0}}}
	ch := barChart(ss, []string{"a", "", "c"}, []string{"x", "y", "z"}, true)
	if ch.Empty || len(ch.Bars) != 3 || len(ch.Bars[0].Segs) != 0 || len(ch.Bars[1].Segs) != 2 {
		t.Fatalf("chart %+v", ch)
	}
	top := ch.Bars[2].Segs[0]
	if top.Y < chartTop-0.1 || top.Y+top.H > ch.Bottom+0.1 {
		t.Errorf("tallest bar %+v leaves the plot", top)
	}
	if r := ch.Bars[1].Segs[0].H / top.H; r < 0.29 || r > 0.31 {
		t.Errorf("bars not proportional: %v", r)
	}
	if len(ch.Labels) != 2 {
		t.Errorf("labels %+v", ch.Labels)
	}
	if niceCeil(0) != 4 || niceCeil(7) != 10 || niceCeil(101) != 200 || niceCeil(1000) != 1000 {
		t.Error("niceCeil")
	}
	if got := decisionChart(cats.get("ja"), nil, 3, "15", "15"); !got.Empty {
		t.Error("no buckets is empty")
	}
}
