package similarity

import (
	"unicode"
	"unicode/utf8"
)

// maxTokenBytes caps one word token; longer runs (base64 blobs, keyboard
// mashing) are cut so that they cannot dominate memory or hashing.
const maxTokenBytes = 64

// isBigramScript reports runes of scripts written without spaces between
// words (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar): for them a
// "word" is unknowable without a dictionary, so overlapping character
// bigrams stand in for words. Hangul is written with spaces and is treated
// like Latin.
func isBigramScript(r rune) bool {
	if r < 0x0e00 {
		return false
	}
	switch {
	case r >= 0x3041 && r <= 0x3096, r >= 0x30a1 && r <= 0x30fa, r >= 0x4e00 && r <= 0x9fff:
		// The common blocks of hiragana, katakana and Han, wholly inside
		// the tables below (TestBigramFastRanges), without their lookups.
		return true
	case unicode.Is(unicode.Han, r), unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
		return true
	case r == 0x30fc || r == 0x3005 || r == 0x3006 || r == 0xff70: // ー 々 〆 ｰ
		return true
	case unicode.Is(unicode.Thai, r), unicode.Is(unicode.Lao, r), unicode.Is(unicode.Khmer, r), unicode.Is(unicode.Myanmar, r):
		return true
	}
	return false
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// Tokenize splits normalised text into tokens: runs of letters, digits and
// combining marks for space-separated scripts, and overlapping character
// bigrams for runs of CJK/Thai-like scripts (a run of one character is one
// token). Punctuation, symbols and emoji separate tokens and are dropped.
// Tokens are substrings of s, so tokenising does not copy the text.
func Tokenize(s string) []string {
	return AppendTokens(nil, s)
}

// AppendTokens is Tokenize appending to dst, so callers can reuse a buffer.
func AppendTokens(dst []string, s string) []string {
	i := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf && !isASCIIAlnum(c) {
			i++ // ASCII punctuation or space (what the default case does)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case isBigramScript(r):
			// Collect the run of bigram-script runes.
			start := i
			var prev = -1 // byte offset of previous rune in the run
			j := i
			count := 0
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if !isBigramScript(r2) {
					break
				}
				if prev >= 0 {
					dst = append(dst, s[prev:j+n2])
				}
				prev = j
				j += n2
				count++
			}
			if count == 1 {
				dst = append(dst, s[start:j])
			}
			i = j
		case isWordRune(r):
			start := i
			j := i + n
			for j < len(s) {
				if c := s[j]; c < utf8.RuneSelf {
					// ASCII: a word rune exactly when a letter or digit.
					if !isASCIIAlnum(c) {
						break
					}
					j++
					continue
				}
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if !isWordRune(r2) || isBigramScript(r2) {
					break
				}
				j += n2
			}
			end := j
			if end-start > maxTokenBytes {
				end = start + maxTokenBytes
				for end > start && !utf8.RuneStart(s[end]) {
					end--
				}
			}
			if end > start {
				dst = append(dst, s[start:end])
			}
			i = j
		default:
			i += n
		}
	}
	return dst
}
