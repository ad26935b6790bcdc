package similarity

import "testing"

func TestFold(t *testing.T) {
	cases := map[string]string{
		"аdmin":           "admin", // Cyrillic а
		"ΑDMIN":           "admin", // Greek capital alpha
		"Ａｄｍｉｎ":           "admin", // full-width
		"alice":           "alice",
		"Ｓupport":         "support",
		"ρaypal":          "paypal",
		"日本語ユーザー":         "日本語ユーザー",
		"zero\u200bwidth": "zerowidth",
	}
	for in, want := range cases {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUsernameShape(t *testing.T) {
	s := UsernameShape("xkqzvbtrwm")
	if s.MaxConsonantRun < 8 || s.VowelRatio != 0 {
		t.Errorf("random consonants: %+v", s)
	}
	s = UsernameShape("a8f3k2l9q0")
	if s.Transitions < 8 {
		t.Errorf("interleaved: %+v", s)
	}
	s = UsernameShape("deadbeef1234")
	if !s.HexLike {
		t.Errorf("hex: %+v", s)
	}
	s = UsernameShape("alice_smith")
	if s.MaxConsonantRun > 3 || s.HexLike || s.MixedScripts {
		t.Errorf("normal: %+v", s)
	}
	s = UsernameShape("pаypal") // Cyrillic а
	if !s.MixedScripts || !s.Confusables {
		t.Errorf("mixed: %+v", s)
	}
	if e := UsernameShape("aaaa").Entropy; e != 0 {
		t.Errorf("entropy of aaaa = %v", e)
	}
}
