package similarity

import (
	"net/url"
	"strings"
)

type span struct {
	start, end int
	mention    bool
	host       string // a URL's LinkHost
}

// FindURLs returns the web URLs written as plain text in s, in order, as they
// appear (a leading "www." gets "http://"). Servers that send plain text
// instead of HTML, and spammers who break links out of anchors, still have
// their link domains seen.
func FindURLs(s string) []string {
	var out []string
	for _, sp := range scanSpans(s) {
		if !sp.mention {
			out = append(out, canonicalURLText(s[sp.start:sp.end]))
		}
	}
	return out
}

// LinkHost returns the lower-cased host of a web URL without port, trailing
// dot or leading "www.", which is the unit link signals count: rotating paths
// on one domain are one campaign.
func LinkHost(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	h = strings.TrimPrefix(h, "www.")
	if h == "" || !strings.Contains(h, ".") && !strings.Contains(h, ":") {
		return "", false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':' || c == '_' || c >= 0x80) {
			return "", false
		}
	}
	return h, true
}

func canonicalURLText(v string) string {
	if len(v) >= 4 && strings.EqualFold(v[:4], "www.") {
		return "http://" + v
	}
	return v
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// urlEnd returns the end of a URL that starts at s[i], stopping at space,
// quotes, angle brackets and any non-ASCII byte (so that CJK text written
// right after a link is not swallowed), then trimming trailing punctuation.
func urlEnd(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '`' || c == '{' || c == '}' || c == '|' || c == '\\' || c == '^' {
			break
		}
		j++
	}
	for j > i {
		c := s[j-1]
		if strings.IndexByte(".,;:!?'*", c) >= 0 {
			j--
			continue
		}
		if c == ')' && strings.Count(s[i:j], "(") < strings.Count(s[i:j], ")") {
			j--
			continue
		}
		if c == ']' && strings.Count(s[i:j], "[") < strings.Count(s[i:j], "]") {
			j--
			continue
		}
		break
	}
	return j
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// scanSpans finds plain-text URLs and @mentions, left to right, without
// overlaps.
func scanSpans(s string) []span {
	var out []span
	for i := 0; i < len(s); i++ {
		c := s[i]
		boundary := i == 0 || !isASCIIAlnum(s[i-1]) && s[i-1] != '_' && s[i-1] != '@' && s[i-1] != '.' && s[i-1] != '/'
		if !boundary {
			continue
		}
		switch {
		case (c == 'h' || c == 'H') && (hasPrefixFold(s[i:], "http://") || hasPrefixFold(s[i:], "https://")):
			end := urlEnd(s, i)
			if host, ok := LinkHost(s[i:end]); ok {
				out = append(out, span{start: i, end: end, host: host})
				i = end - 1
			}
		case (c == 'w' || c == 'W') && hasPrefixFold(s[i:], "www."):
			end := urlEnd(s, i)
			if end > i+4 {
				if host, ok := LinkHost("http://" + s[i:end]); ok {
					out = append(out, span{start: i, end: end, host: host})
					i = end - 1
				}
			}
		case c == '@':
			j := i + 1
			for j < len(s) && (isASCIIAlnum(s[j]) || s[j] == '_') {
				j++
			}
			if j == i+1 {
				continue
			}
			// Optional @host part.
			if j+1 < len(s) && s[j] == '@' && isASCIIAlnum(s[j+1]) {
				k := j + 1
				for k < len(s) && (isASCIIAlnum(s[k]) || s[k] == '-' || s[k] == '.') {
					k++
				}
				for k > j+1 && s[k-1] == '.' {
					k--
				}
				if strings.Contains(s[j+1:k], ".") {
					j = k
				}
			}
			out = append(out, span{start: i, end: j, mention: true})
			i = j - 1
		}
	}
	return out
}
