package signals

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// specCodes are the reason codes of spec/spam_detection/v0.1 that signals
// produce ("campaign" is a signal too: it reads provider/campaigns through
// Input.Campaigns).
var specCodes = []string{
	"allow_listed", "application_burst", "campaign", "classifier", "deny_listed_email_domain", "direct_to_strangers",
	"display_name_matches_username", "disposable_email", "duplicate_media", "email_no_mx",
	"email_provider_burst", "email_reuse", "form_too_fast", "honeypot", "invited", "ip_prefix_velocity",
	"ip_velocity", "keyword_rule", "link_deny_listed", "link_domain_burst", "link_domain_new",
	"mention_flood", "near_duplicate_text", "new_account", "posting_velocity", "reason_duplicate",
	"reason_empty", "reason_templated", "rule", "server_signup_burst", "unsolicited_mentions",
	"username_shape", "wave_mode",
}

func TestAllSpecCodesRegistered(t *testing.T) {
	var got []string
	for _, r := range All() {
		got = append(got, r.Info.Code)
		if r.Info.Description == "" {
			t.Errorf("%s has no description", r.Info.Code)
		}
	}
	if !slices.Equal(got, specCodes) {
		t.Fatalf("registered codes\n got %q\nwant %q", got, specCodes)
	}
}

type dupSignal struct{ code string }

func (d dupSignal) Info() Info { return Info{Code: d.code, Gate: GateBoth, Description: "x"} }
func (dupSignal) Evaluate(context.Context, *Input, State, any) []Hit {
	return nil
}

func TestRegisterPanics(t *testing.T) {
	for _, c := range []struct {
		name string
		sig  Signal
	}{
		{"duplicate", dupSignal{"honeypot"}},
		{"bad code", dupSignal{"Bad-Code"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register did not panic")
				}
			}()
			Register(c.sig)
		})
	}
}

func TestDecodeParams(t *testing.T) {
	p, err := DecodeParams("ip_velocity", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := p.(*velocityParams); v.Review != 3 || v.Reject != 5 {
		t.Fatalf("defaults = %+v", v)
	}
	p, err = DecodeParams("ip_velocity", []byte(`{"review": 4}`))
	if err != nil || p.(*velocityParams).Review != 4 || p.(*velocityParams).Reject != 5 {
		t.Fatalf("partial override: %+v %v", p, err)
	}
	// The shared defaults are not modified by decoding.
	if MustDefaults("ip_velocity").(*velocityParams).Review != 3 {
		t.Fatal("defaults mutated")
	}
	bad := []struct {
		code, raw, param string
	}{
		{"ip_velocity", `{"review": "x"}`, "review"},
		{"ip_velocity", `{"review": 1.5}`, "review"},
		{"ip_velocity", `{"review": 0}`, "review"},
		{"ip_velocity", `{"nope": 1}`, "nope"},
		{"ip_velocity", `[1]`, ""},
		{"ip_velocity", `{"review": 9, "reject": 5}`, "reject"},
		{"honeypot", `{"x": 1}`, ""},
		{"classifier", `{"maxPoints": 90}`, "maxPoints"},
		{"unsolicited_mentions", `{"countUnknown": 1}`, "countUnknown"},
		{"no_such_signal", `{}`, ""},
	}
	for _, b := range bad {
		_, err := DecodeParams(b.code, []byte(b.raw))
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Errorf("%s %s: err = %v, want ParamError", b.code, b.raw, err)
			continue
		}
		if pe.Param != b.param {
			t.Errorf("%s %s: param = %q, want %q (%v)", b.code, b.raw, pe.Param, b.param, err)
		}
	}
}

func TestParamSchema(t *testing.T) {
	r, _ := Lookup("near_duplicate_text")
	if len(r.Info.Params) != 4 {
		t.Fatalf("params = %+v", r.Info.Params)
	}
	p := r.Info.Params[0]
	if p.Name != "maxDistance" || p.Type != "integer" || p.Default != 6 || *p.Min != 0 || *p.Max != 6 || p.Description == "" {
		t.Fatalf("param = %+v", p)
	}
}

func TestNormalizeDomainAndLists(t *testing.T) {
	for in, want := range map[string]string{"*.Example.COM.": "example.com", ".xyz": "xyz", "ドメイン.テスト": "ドメイン.テスト"} {
		if got, err := NormalizeDomain(in); err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "a..b", "-a.com", "a b.com", "http://x.com", strings.Repeat("a", 64) + ".com"} {
		if _, err := NormalizeDomain(bad); err == nil {
			t.Errorf("NormalizeDomain(%q) accepted", bad)
		}
	}
	list, err := LoadDomainList(strings.NewReader("# comment\nB.example\n\na.example\nb.example\n"))
	if err != nil || !slices.Equal(list, []string{"a.example", "b.example"}) {
		t.Fatalf("LoadDomainList = %q, %v", list, err)
	}
	if _, err := LoadDomainList(strings.NewReader("ok.example\nnot a domain\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want line 2 error, got %v", err)
	}
	set := NewDomainSet([]string{"xyz", "spam.example"})
	if m, ok := set.Match("a.b.xyz"); !ok || m != "xyz" {
		t.Errorf("tld match = %q %v", m, ok)
	}
	if _, ok := set.Match("notspam.example"); ok {
		t.Error("suffix without dot must not match")
	}
}

func TestContainsWord(t *testing.T) {
	cases := []struct {
		text, kw string
		want     bool
	}{
		{"buy crypto now", "crypto", true},
		{"cryptography", "crypto", false},
		{"class act", "ass", false},
		{"今すぐ仮想通貨で", "仮想通貨", true},
		{"see discord.gg/x", "discord.gg/", true},
		{"ass", "ass", true},
		{"crypto crypto-bros", "crypto-bros", true},
	}
	for _, c := range cases {
		if got := containsWord(c.text, c.kw); got != c.want {
			t.Errorf("containsWord(%q, %q) = %v", c.text, c.kw, got)
		}
	}
}
