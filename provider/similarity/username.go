package similarity

import (
	"math"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// confusables maps letters that render like a Latin letter to that letter,
// after lower-casing. It is deliberately small: the Cyrillic, Greek and
// Armenian look-alikes used to impersonate names ("аdmin" with a Cyrillic а)
// plus a few Latin variants NFKC leaves alone. Full-width and mathematical
// letters are already folded by NFKC.
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'е': 'e', 'ё': 'e', 'і': 'i', 'ї': 'i', 'ј': 'j', 'о': 'o', 'р': 'p',
	'с': 'c', 'у': 'y', 'х': 'x', 'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'һ': 'h',
	'ӏ': 'l', 'к': 'k', 'ո': 'n', 'ց': 'g',
	// Greek
	'α': 'a', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
	'υ': 'u', 'χ': 'x', 'γ': 'y', 'ϲ': 'c', 'ϳ': 'j',
	// Armenian
	'օ': 'o', 'ս': 'u', 'հ': 'h',
	// Latin variants
	'ı': 'i', 'ɡ': 'g', 'ɑ': 'a', 'ℓ': 'l', 'ǀ': 'l',
}

// Fold maps a name to a skeleton for comparison: NFKC, lower case, and
// look-alike letters from other alphabets replaced by their Latin twin, so
// "Аdmin" (Cyrillic А) and "admin" compare equal.
func Fold(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			continue
		}
		if c, ok := confusables[r]; ok {
			r = c
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Shape describes how a username is built, for telling generated names
// ("xkqzvbtrwm", "a8f3k2l9q0") from chosen ones ("alice_smith", "kenji1987").
type Shape struct {
	Runes           int     // length in characters
	Letters         int     // ASCII letters
	Digits          int     // ASCII digits
	MaxConsonantRun int     // longest run of ASCII consonants (y counts as a vowel)
	MaxDigitRun     int     // longest run of digits
	VowelRatio      float64 // vowels / ASCII letters
	Transitions     int     // switches between letters and digits
	Entropy         float64 // Shannon entropy of the character distribution, bits per character
	HexLike         bool    // only 0-9a-f, with both letters and digits, at least 8 long
	MixedScripts    bool    // letters from more than one of Latin, Cyrillic, Greek, Armenian
	Confusables     bool    // contains non-Latin letters that fold to Latin look-alikes
}

func isVowel(c rune) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// UsernameShape measures s after NFKC and lower-casing (before look-alike
// folding, so that look-alikes can be reported).
func UsernameShape(s string) Shape {
	s = strings.ToLower(norm.NFKC.String(s))
	var sh Shape
	counts := map[rune]int{}
	consRun, digitRun := 0, 0
	vowels := 0
	prevKind := 0 // 1 letter, 2 digit
	hex := true
	var latin, cyrillic, greek, armenian bool
	for _, r := range s {
		sh.Runes++
		counts[r]++
		kind := 0
		switch {
		case r >= 'a' && r <= 'z':
			kind = 1
			sh.Letters++
			latin = true
			if isVowel(r) {
				vowels++
				consRun = 0
			} else {
				consRun++
				sh.MaxConsonantRun = max(sh.MaxConsonantRun, consRun)
			}
			digitRun = 0
			if r > 'f' {
				hex = false
			}
		case r >= '0' && r <= '9':
			kind = 2
			sh.Digits++
			digitRun++
			sh.MaxDigitRun = max(sh.MaxDigitRun, digitRun)
			consRun = 0
		default:
			consRun, digitRun = 0, 0
			hex = false
			switch {
			case unicode.Is(unicode.Cyrillic, r):
				cyrillic = true
			case unicode.Is(unicode.Greek, r):
				greek = true
			case unicode.Is(unicode.Armenian, r):
				armenian = true
			case unicode.Is(unicode.Latin, r):
				latin = true
			}
			if _, ok := confusables[r]; ok {
				sh.Confusables = true
			}
		}
		if kind != 0 && prevKind != 0 && kind != prevKind {
			sh.Transitions++
		}
		if kind != 0 {
			prevKind = kind
		}
	}
	if sh.Letters > 0 {
		sh.VowelRatio = float64(vowels) / float64(sh.Letters)
	}
	sh.HexLike = hex && sh.Runes >= 8 && sh.Letters > 0 && sh.Digits > 0
	scripts := 0
	for _, b := range []bool{latin, cyrillic, greek, armenian} {
		if b {
			scripts++
		}
	}
	sh.MixedScripts = scripts > 1
	if sh.Runes > 0 {
		n := float64(sh.Runes)
		for _, c := range counts {
			p := float64(c) / n
			sh.Entropy -= p * math.Log2(p)
		}
	}
	return sh
}
