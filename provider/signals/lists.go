package signals

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed data/disposable_domains.txt
var embeddedDisposable []byte

// DefaultDisposableDomains returns the embedded CC0 disposable-domain list
// (see data/README.md for its source and version).
func DefaultDisposableDomains() []string {
	list, err := LoadDomainList(bytes.NewReader(embeddedDisposable))
	if err != nil {
		panic("signals: embedded disposable list is invalid: " + err.Error())
	}
	return list
}

// LoadDomainList reads a domain list, one domain per line; blank lines and
// lines starting with '#' are skipped. Domains are normalised with
// NormalizeDomain, de-duplicated and sorted. An operator command uses it to
// replace the embedded disposable list from a file.
func LoadDomainList(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var out []string
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		d, err := NormalizeDomain(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read domain list: %w", err)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// NormalizeDomain lower-cases a domain and strips a leading "*." or "." and a
// trailing dot, so "*.Example.COM." and "example.com" are the same list
// entry; it rejects anything that is not a host name (a single label such as
// a TLD is allowed, to block a whole TLD).
func NormalizeDomain(s string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(s))
	d = strings.TrimPrefix(d, "*.")
	d = strings.TrimPrefix(d, ".")
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return "", fmt.Errorf("empty domain")
	}
	if len(d) > 253 {
		return "", fmt.Errorf("domain longer than 253 characters")
	}
	if !utf8.ValidString(d) {
		return "", fmt.Errorf("domain is not valid UTF-8")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("domain %q has an empty or over-long label", d)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("domain %q has a label starting or ending with '-'", d)
		}
		for _, r := range label {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r >= 0x80 && unicode.IsLetter(r) || r >= 0x80 && unicode.IsDigit(r) {
				continue
			}
			return "", fmt.Errorf("domain %q contains %q", d, r)
		}
	}
	return d, nil
}

// DomainSet is a set of normalised domains matched on the domain or any of
// its parents, as block lists are: "example.com" covers
// "mail.example.com".
type DomainSet map[string]struct{}

// NewDomainSet builds a set from normalised domains.
func NewDomainSet(domains []string) DomainSet {
	s := make(DomainSet, len(domains))
	for _, d := range domains {
		s[d] = struct{}{}
	}
	return s
}

// Match returns the entry that covers domain (the domain itself or its
// nearest listed parent).
func (s DomainSet) Match(domain string) (string, bool) {
	if len(s) == 0 || domain == "" {
		return "", false
	}
	d := domain
	for {
		if _, ok := s[d]; ok {
			return d, true
		}
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			return "", false
		}
		d = d[dot+1:]
	}
}

func isWordRuneForMatch(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}

func isSpacelessScript(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		unicode.Is(unicode.Thai, r) || r == 0x30fc
}

// containsWord reports whether kw occurs in text on word boundaries, so a
// rule "ass" does not match "class". Sides of the keyword that are in a
// script written without spaces (Japanese, Chinese, Thai) need no boundary.
func containsWord(text, kw string) bool {
	first, _ := utf8.DecodeRuneInString(kw)
	last, _ := utf8.DecodeLastRuneInString(kw)
	needLeft := isWordRuneForMatch(first) && !isSpacelessScript(first)
	needRight := isWordRuneForMatch(last) && !isSpacelessScript(last)
	for from := 0; from <= len(text); {
		i := strings.Index(text[from:], kw)
		if i < 0 {
			return false
		}
		i += from
		j := i + len(kw)
		ok := true
		if needLeft && i > 0 {
			r, _ := utf8.DecodeLastRuneInString(text[:i])
			ok = !isWordRuneForMatch(r)
		}
		if ok && needRight && j < len(text) {
			r, _ := utf8.DecodeRuneInString(text[j:])
			ok = !isWordRuneForMatch(r)
		}
		if ok {
			return true
		}
		_, n := utf8.DecodeRuneInString(text[i:])
		from = i + n
	}
	return false
}
