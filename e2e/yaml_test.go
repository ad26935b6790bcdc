package e2e

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// parseYAML reads the YAML subset the deploy files use: block mappings and
// sequences by indentation, plain, single- and double-quoted scalars, flow
// sequences of scalars ([a, "b"]), empty flow mappings ({}), literal and
// folded block scalars (| and >), and comments. Anything else is an error,
// so a file that drifts outside the subset fails its test rather than being
// misread. (No YAML module: the module's dependencies stay as they are.)
func parseYAML(src string) (any, error) {
	p := &yamlParser{lines: strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")}
	p.skip()
	if p.i >= len(p.lines) {
		return nil, nil
	}
	v, err := p.node(p.indent())
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i < len(p.lines) {
		return nil, p.errorf("unexpected content at indentation %d", p.indent())
	}
	return v, nil
}

type yamlParser struct {
	lines []string
	i     int
}

func (p *yamlParser) errorf(format string, args ...any) error {
	return fmt.Errorf("yaml line %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

// skip moves past blank and comment-only lines.
func (p *yamlParser) skip() {
	for p.i < len(p.lines) {
		t := strings.TrimSpace(p.lines[p.i])
		if t != "" && !strings.HasPrefix(t, "#") {
			return
		}
		p.i++
	}
}

func (p *yamlParser) indent() int {
	l := p.lines[p.i]
	return len(l) - len(strings.TrimLeft(l, " "))
}

// text is the current line without indentation and trailing comment.
func (p *yamlParser) text() string { return stripComment(strings.TrimSpace(p.lines[p.i])) }

func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || s[i-1] == ' '):
			return strings.TrimSpace(s[:i])
		}
	}
	return s
}

func isItem(t string) bool { return t == "-" || strings.HasPrefix(t, "- ") }

var mapKeyRe = regexp.MustCompile(`^([A-Za-z0-9_./-]+):(\s|$)`)

// noTab refuses tabs in indentation, which YAML forbids.
func (p *yamlParser) noTab() error {
	if strings.HasPrefix(strings.TrimLeft(p.lines[p.i], " "), "\t") {
		return p.errorf("tab in indentation")
	}
	return nil
}

func (p *yamlParser) node(indent int) (any, error) {
	if isItem(p.text()) {
		return p.sequence(indent)
	}
	return p.mapping(indent)
}

func (p *yamlParser) mapping(indent int) (any, error) {
	m := map[string]any{}
	for p.skip(); p.i < len(p.lines) && p.indent() == indent && !isItem(p.text()); p.skip() {
		if err := p.noTab(); err != nil {
			return nil, err
		}
		t := p.text()
		k := mapKeyRe.FindStringSubmatch(t)
		if k == nil {
			return nil, p.errorf("want key: value, got %q", t)
		}
		key, rest := k[1], strings.TrimSpace(t[len(k[0]):])
		if _, dup := m[key]; dup {
			return nil, p.errorf("duplicate key %q", key)
		}
		p.i++
		v, err := p.value(indent, rest)
		if err != nil {
			return nil, err
		}
		m[key] = v
	}
	if p.i < len(p.lines) && p.indent() > indent {
		return nil, p.errorf("unexpected indentation")
	}
	return m, nil
}

// value reads what follows "key:" or "- ": an inline scalar, a block
// scalar, or a nested node on the next lines.
func (p *yamlParser) value(indent int, rest string) (any, error) {
	switch {
	case rest == "|" || rest == "|-" || rest == ">" || rest == ">-":
		return p.blockScalar(indent, rest), nil
	case rest != "":
		return scalar(rest)
	}
	p.skip()
	if p.i >= len(p.lines) {
		return nil, nil
	}
	if in := p.indent(); in > indent || (in == indent && isItem(p.text())) {
		return p.node(in)
	}
	return nil, nil
}

func (p *yamlParser) blockScalar(indent int, style string) string {
	var out []string
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if strings.TrimSpace(l) != "" && len(l)-len(strings.TrimLeft(l, " ")) <= indent {
			break
		}
		out = append(out, strings.TrimSpace(l))
		p.i++
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	if strings.HasPrefix(style, ">") {
		return strings.Join(out, " ")
	}
	return strings.Join(out, "\n")
}

func (p *yamlParser) sequence(indent int) (any, error) {
	var seq []any
	for p.skip(); p.i < len(p.lines) && p.indent() == indent && isItem(p.text()); p.skip() {
		if err := p.noTab(); err != nil {
			return nil, err
		}
		rest := strings.TrimSpace(strings.TrimPrefix(p.text(), "-"))
		if mapKeyRe.MatchString(rest) {
			// "- key: value": a mapping whose first line starts after "- ".
			p.lines[p.i] = strings.Repeat(" ", indent+2) + rest
			v, err := p.mapping(indent + 2)
			if err != nil {
				return nil, err
			}
			seq = append(seq, v)
			continue
		}
		p.i++
		v, err := p.value(indent, rest)
		if err != nil {
			return nil, err
		}
		seq = append(seq, v)
	}
	return seq, nil
}

func scalar(s string) (any, error) {
	switch {
	case strings.HasPrefix(s, `"`):
		v, err := strconv.Unquote(s)
		if err != nil {
			return nil, fmt.Errorf("bad double-quoted string %s: %w", s, err)
		}
		return v, nil
	case strings.HasPrefix(s, "'"):
		if len(s) < 2 || !strings.HasSuffix(s, "'") {
			return nil, fmt.Errorf("bad single-quoted string %s", s)
		}
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	case s == "{}":
		return map[string]any{}, nil
	case strings.HasPrefix(s, "{"):
		return nil, fmt.Errorf("flow mappings are outside the subset: %s", s)
	case strings.HasPrefix(s, "["):
		if !strings.HasSuffix(s, "]") {
			return nil, fmt.Errorf("unterminated flow sequence %s", s)
		}
		var out []any
		for _, part := range splitFlow(s[1 : len(s)-1]) {
			v, err := scalar(part)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return s, nil
}

// splitFlow splits a flow sequence's body on commas outside quotes.
func splitFlow(s string) []string {
	var parts []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ',':
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" {
		parts = append(parts, last)
	}
	return parts
}

// yget walks a parsed document: yget(doc, "services", "breakwater").
func yget(v any, path ...any) any {
	for _, k := range path {
		switch key := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[key]
		case int:
			s, ok := v.([]any)
			if !ok || key >= len(s) {
				return nil
			}
			v = s[key]
		}
	}
	return v
}

func TestYAMLSubset(t *testing.T) {
	doc := `# a comment
a: 1   # trailing
b:
  c: "x: y # not a comment"
  d: ['p', "q, r"]
e:
  - one
  - k: v
    l:
      - 2
  -
    m: n
f: |
  line one
  line two
g: {}
h:
- same indent
`
	got, err := parseYAML(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": "1",
		"b": map[string]any{"c": "x: y # not a comment", "d": []any{"p", "q, r"}},
		"e": []any{"one", map[string]any{"k": "v", "l": []any{"2"}}, map[string]any{"m": "n"}},
		"f": "line one\nline two",
		"g": map[string]any{},
		"h": []any{"same indent"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsed\n%#v\nwant\n%#v", got, want)
	}
	for _, bad := range []string{"a: 1\na: 2\n", "a:\n\tb: 1\n", "a: {b: 1}\n", "a: 1\n  b: 2\n", "just text\n"} {
		if _, err := parseYAML(bad); err == nil {
			t.Errorf("%q parsed without error", bad)
		}
	}
}
