package similarity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Normalize makes two renderings of the same message compare equal: NFKC
// (full-width and compatibility forms fold to plain ones), Unicode case
// folding, invisible format characters (zero-width spaces, joiners,
// direction marks, soft hyphens) removed, and whitespace runs collapsed to
// one space. Spammers vary exactly these to dodge exact matching.
func Normalize(s string) string {
	if isPlainASCII(s) {
		return collapseASCII(s)
	}
	s = norm.NFKC.String(strings.ToValidUTF8(s, ""))
	// A cases.Caser keeps state, so each call makes its own. NFKC is
	// idempotent, so text that folding left unchanged (most scripts
	// without case) is already in NFKC.
	if folded := cases.Fold().String(s); folded != s {
		s = norm.NFKC.String(folded)
	}
	var b strings.Builder
	b.Grow(len(s))
	space, dropped := false, false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			dropped = true
			continue
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r) && !unicode.IsSpace(r):
			dropped = true
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(cherokeeFold(r))
	}
	out := b.String()
	if dropped {
		// A dropped control or format character may have separated two
		// combining marks, which NFKC now orders differently: normalise
		// again so that Normalize(Normalize(s)) == Normalize(s) (found by
		// FuzzExtract). The second pass drops nothing, so it is the last.
		if again := norm.NFKC.String(out); again != out {
			return Normalize(again)
		}
	}
	return out
}

// cherokeeFold maps Cherokee letters to the capitals Unicode case folding
// gives (CaseFolding.txt: AB70..ABBF → 13A0..13EF, 13F8..13FD → 13F0..13F5):
// cases.Fold turns capitals into small letters and small into capitals, so
// without this Normalize would flip them on every call (found by
// FuzzExtract).
func cherokeeFold(r rune) rune {
	switch {
	case r >= 0xAB70 && r <= 0xABBF:
		return r - 0xAB70 + 0x13A0
	case r >= 0x13F8 && r <= 0x13FD:
		return r - 8
	}
	return r
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func collapseASCII(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			space = b.Len() > 0
			continue
		case c < 0x20 || c == 0x7f:
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
	return b.String()
}
