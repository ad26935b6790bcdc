package similarity

import (
	"html"
	"strings"
)

// Doc is what screening needs from a post body: the visible prose, and the
// things that spammers vary or rotate (links, mentions, hashtags) pulled out
// so that they neither hide nor fake a near-duplicate.
type Doc struct {
	// Text is the visible text with mentions, link anchors showing a URL and
	// plain-text URLs removed; HTML entities are decoded and block elements
	// become line breaks. It is not yet normalised (see Normalize).
	Text string
	// Links are the targets of ordinary links (anchors that are not mentions
	// or hashtags) and of URLs written as plain text, in order, de-duplicated.
	Links []string
	// LinkHosts are the LinkHost of each of Links (same length and order),
	// found while validating them, so callers need not parse them again.
	LinkHosts []string
	// Mentions are mention anchors' targets or plain-text @handles.
	Mentions []string
	// Hashtags are hashtag names without '#', lower-cased.
	Hashtags []string
}

// maxExtractInput caps the work done on one post; inputs are validated to
// 100,000 characters before they get here, this only guards direct callers.
const maxExtractInput = 1 << 20

type anchorKind int

const (
	anchorNone anchorKind = iota
	anchorLink
	anchorMention
	anchorHashtag
)

// Extract parses the subset of HTML fediverse servers emit (Mastodon wraps
// mentions in <a class="u-url mention">, hashtags in <a class="mention
// hashtag" rel="tag">, and shortens link text with invisible spans) and also
// accepts plain text. It never fails: malformed markup degrades to text.
func Extract(s string) Doc {
	if len(s) > maxExtractInput {
		s = s[:maxExtractInput]
	}
	var (
		d         Doc
		text      strings.Builder
		anchor    anchorKind
		href      string
		anchorTxt strings.Builder
		skipUntil string // closing tag name for script/style content
	)
	seenLink := map[string]bool{}
	addLink := func(u, host string) {
		if u == "" || seenLink[u] {
			return
		}
		seenLink[u] = true
		d.Links = append(d.Links, u)
		d.LinkHosts = append(d.LinkHosts, host)
	}
	addMention := func(m string) {
		if d.Mentions == nil {
			d.Mentions = make([]string, 0, 4) // posts rarely mention more
		}
		d.Mentions = append(d.Mentions, m)
	}
	text.Grow(len(s))
	closeAnchor := func() {
		t := strings.TrimSpace(html.UnescapeString(anchorTxt.String()))
		switch anchor {
		case anchorMention:
			if href != "" {
				addMention(href)
			} else if t != "" {
				addMention(t)
			}
		case anchorHashtag:
			tag := strings.ToLower(strings.TrimPrefix(t, "#"))
			if tag != "" {
				d.Hashtags = append(d.Hashtags, tag)
			}
			writeSpaced(&text, t)
		case anchorLink:
			if href != "" {
				if host, ok := LinkHost(href); ok {
					addLink(href, host)
				}
			}
			// Link text that is itself a URL or a bare domain is the URL
			// shown to the reader, not prose; other link text is kept.
			if t != "" && !looksLikeURLText(t) {
				writeSpaced(&text, t)
			}
		}
		anchor, href = anchorNone, ""
		anchorTxt.Reset()
	}
	writeText := func(seg string) {
		switch {
		case anchor == anchorMention && href != "":
			// The mention is its href; its text is not needed.
		case anchor != anchorNone:
			anchorTxt.WriteString(seg)
		default:
			text.WriteString(seg)
		}
	}
	i := 0
	for i < len(s) {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			if skipUntil == "" {
				writeText(s[i:])
			}
			break
		}
		if lt > 0 && skipUntil == "" {
			writeText(s[i : i+lt])
		}
		i += lt
		tag, end, ok := parseTag(s, i)
		if !ok {
			// A lone '<' is text ("a < b").
			if skipUntil == "" {
				writeText("<")
			}
			i++
			continue
		}
		i = end
		if skipUntil != "" {
			if tag.closing && tag.name == skipUntil {
				skipUntil = ""
			}
			continue
		}
		switch tag.name {
		case "script", "style", "template", "head":
			if !tag.closing && !tag.selfClosing {
				skipUntil = tag.name
			}
		case "a":
			if tag.closing {
				if anchor != anchorNone {
					closeAnchor()
				}
				continue
			}
			if anchor != anchorNone {
				closeAnchor() // unclosed <a>: HTML does not nest anchors
			}
			href = strings.TrimSpace(html.UnescapeString(tag.attr("href")))
			class := " " + strings.ToLower(tag.attr("class")) + " "
			rel := " " + strings.ToLower(tag.attr("rel")) + " "
			switch {
			case strings.Contains(class, " hashtag ") || strings.Contains(rel, " tag "):
				anchor = anchorHashtag
			case strings.Contains(class, " mention "):
				anchor = anchorMention
			default:
				anchor = anchorLink
			}
		case "br", "p", "div", "li", "ul", "ol", "blockquote", "pre", "tr", "td", "th",
			"h1", "h2", "h3", "h4", "h5", "h6", "hr", "section", "article", "table":
			writeText("\n")
		case "img":
			if alt := tag.attr("alt"); alt != "" {
				// Custom emoji are <img alt=":name:">; keep them as words.
				writeText(" ")
				writeText(alt)
				writeText(" ")
			}
		}
	}
	if anchor != anchorNone {
		closeAnchor()
	}
	plain := html.UnescapeString(text.String())
	// Plain-text URLs and @handles come out of the prose too.
	spans := scanSpans(plain)
	if len(spans) == 0 {
		d.Text = plain
		return d
	}
	var out strings.Builder
	out.Grow(len(plain))
	last := 0
	for _, sp := range spans {
		out.WriteString(plain[last:sp.start])
		out.WriteByte(' ')
		v := plain[sp.start:sp.end]
		if sp.mention {
			addMention(v)
		} else {
			addLink(canonicalURLText(v), sp.host)
		}
		last = sp.end
	}
	out.WriteString(plain[last:])
	d.Text = out.String()
	return d
}

// writeSpaced writes t between two spaces, without concatenating them
// first.
func writeSpaced(b *strings.Builder, t string) {
	b.WriteByte(' ')
	b.WriteString(t)
	b.WriteByte(' ')
}

type tagToken struct {
	name        string
	closing     bool
	selfClosing bool
	attrs       string
}

// attr returns the value of one attribute from the raw attribute text.
func (t tagToken) attr(name string) string {
	s := t.attrs
	for len(s) > 0 {
		s = trimSpaceBytes(s, true)
		if s == "" {
			break
		}
		j := 0
		for j < len(s) && !isSpaceByte(s[j]) && s[j] != '=' && s[j] != '/' {
			j++
		}
		if j == 0 {
			s = s[1:]
			continue
		}
		key := strings.ToLower(s[:j])
		s = trimSpaceBytes(s[j:], false)
		val := ""
		if strings.HasPrefix(s, "=") {
			s = trimSpaceBytes(s[1:], false)
			if s != "" && (s[0] == '"' || s[0] == '\'') {
				q := s[0]
				k := strings.IndexByte(s[1:], q)
				if k < 0 {
					val, s = s[1:], ""
				} else {
					val, s = s[1:1+k], s[2+k:]
				}
			} else {
				k := 0
				for k < len(s) && !isSpaceByte(s[k]) {
					k++
				}
				val, s = s[:k], s[k:]
			}
		}
		if key == name {
			return val
		}
	}
	return ""
}

// trimSpaceBytes drops leading HTML space bytes, and slashes too if slash
// is set: strings.TrimLeft with their set, without building the set on
// every call.
func trimSpaceBytes(s string, slash bool) string {
	i := 0
	for i < len(s) && (isSpaceByte(s[i]) || slash && s[i] == '/') {
		i++
	}
	return s[i:]
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func isTagNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == ':'
}

// parseTag reads the tag starting at s[i] == '<'. It returns the position
// after the tag. Comments and doctypes come back as a nameless tag.
func parseTag(s string, i int) (tagToken, int, bool) {
	rest := s[i+1:]
	if strings.HasPrefix(rest, "!--") {
		k := strings.Index(rest[3:], "-->")
		if k < 0 {
			return tagToken{}, len(s), true
		}
		return tagToken{}, i + 1 + 3 + k + 3, true
	}
	if strings.HasPrefix(rest, "!") || strings.HasPrefix(rest, "?") {
		k := strings.IndexByte(rest, '>')
		if k < 0 {
			return tagToken{}, 0, false
		}
		return tagToken{}, i + 1 + k + 1, true
	}
	var t tagToken
	p := 0
	if strings.HasPrefix(rest, "/") {
		t.closing = true
		p = 1
	}
	start := p
	for p < len(rest) && isTagNameByte(rest[p]) {
		p++
	}
	if p == start || !(rest[start] >= 'a' && rest[start] <= 'z' || rest[start] >= 'A' && rest[start] <= 'Z') {
		return tagToken{}, 0, false
	}
	t.name = strings.ToLower(rest[start:p])
	// Find the closing '>' outside quotes.
	var quote byte
	q := p
	for ; q < len(rest); q++ {
		c := rest[q]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		if c == '"' || c == '\'' {
			quote = c
			continue
		}
		if c == '>' {
			break
		}
	}
	if q >= len(rest) {
		return tagToken{}, 0, false
	}
	t.attrs = rest[p:q]
	if strings.HasSuffix(t.attrs, "/") {
		t.selfClosing = true
	}
	return t, i + 1 + q + 1, true
}

// looksLikeURLText reports whether anchor text is a URL or bare host rather
// than words, e.g. "example.com/path…" or "https://example.com".
func looksLikeURLText(t string) bool {
	if strings.ContainsAny(t, " \t\n") {
		return false
	}
	l := strings.ToLower(t)
	return strings.Contains(l, "://") || strings.HasPrefix(l, "www.") || strings.Contains(l, ".")
}
