package similarity

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"hello, world! it's 2024", []string{"hello", "world", "it", "s", "2024"}},
		{"東京タワー", []string{"東京", "京タ", "タワ", "ワー"}},
		{"今日は 晴れ", []string{"今日", "日は", "晴れ"}},
		{"a 猫 b", []string{"a", "猫", "b"}},
		{"한국어 텍스트", []string{"한국어", "텍스트"}},
		{"crypto投資で稼ぐ", []string{"crypto", "投資", "資で", "で稼", "稼ぐ"}},
		{"🚀🚀 moon", []string{"moon"}},
		{"café naïve", []string{"café", "naïve"}},
	}
	for _, c := range cases {
		if got := Tokenize(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := strings.Repeat("x", 500)
	if got := Tokenize(long); len(got) != 1 || len(got[0]) != maxTokenBytes {
		t.Errorf("long token not capped: %d", len(got[0]))
	}
}

func FuzzTokenize(f *testing.F) {
	f.Add("hello world")
	f.Add("日本語のテキストです")
	f.Add("ไม่มีช่องว่าง")
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range Tokenize(s) {
			if tok == "" {
				t.Fatal("empty token")
			}
			if !strings.Contains(s, tok) {
				t.Fatalf("token %q not in input", tok)
			}
			if utf8.ValidString(s) && !utf8.ValidString(tok) {
				t.Fatalf("token %q is not valid UTF-8", tok)
			}
			if len(tok) > maxTokenBytes*2 {
				t.Fatalf("token too long: %d", len(tok))
			}
		}
	})
}

// The fast ranges in isBigramScript must lie wholly inside the Unicode
// tables it otherwise consults, so that they change no answer.
func TestBigramFastRanges(t *testing.T) {
	for _, rg := range []struct {
		lo, hi rune
		table  *unicode.RangeTable
	}{{0x3041, 0x3096, unicode.Hiragana}, {0x30a1, 0x30fa, unicode.Katakana}, {0x4e00, 0x9fff, unicode.Han}} {
		for r := rg.lo; r <= rg.hi; r++ {
			if !unicode.Is(rg.table, r) {
				t.Fatalf("%U is in a fast range of isBigramScript but not in its table", r)
			}
		}
	}
}
