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
	// A cases.Caser keeps state, so each call makes its own.
	s = cases.Fold().String(s)
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r) && !unicode.IsSpace(r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
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
