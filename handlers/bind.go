package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

type jsonTypeError struct{ field, want string }

func (e *jsonTypeError) Error() string { return e.field + " must be " + e.want }

// decodeJSON parses a request body into v, naming the offending field when
// a value has the wrong type.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &badRequest{code: "invalid_json", msg: "the body is empty; send a JSON object", status: http.StatusBadRequest}
	}
	// The common case, a body that decodes, costs one Unmarshal. Anything
	// Unmarshal refuses takes the Decoder below, whose errors are what
	// clients have always been told.
	if json.Unmarshal(body, v) == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := pathAt(body, te.Offset)
			if field == "" {
				field = te.Field
			}
			if field == "" {
				return &badRequest{code: "invalid_json", msg: "the body must be a JSON object", status: http.StatusBadRequest}
			}
			return invalidJSON(&jsonTypeError{field: field, want: jsonKind(te.Type.Kind().String())})
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			field := pathAt(body, dec.InputOffset())
			return &badRequest{code: "invalid_field", field: field, msg: field + " must be an RFC 3339 timestamp", status: http.StatusUnprocessableEntity}
		}
		return invalidJSON(err)
	}
	// Unmarshal refused the body but one value decoded: what follows it is
	// not JSON whitespace (a stray "]" or "}" included).
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		return &badRequest{code: "invalid_json", msg: "the body has data after the JSON object", status: http.StatusBadRequest}
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int64", "int32", "float64", "uint64":
		return "a number"
	case "ptr":
		return "of another type"
	}
	return "of another type"
}

// pathAt names the JSON member whose value ends at (or contains) offset, in
// the spec's form: dots for members, [i] for array elements
// ("post.mentions[1].acct"). encoding/json reports type errors with an
// offset but without array indexes, so the path is rebuilt by re-reading the
// body up to that offset.
func pathAt(body []byte, offset int64) string {
	type frame struct {
		array bool
		index int
		key   string
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(body))
	expectKey := false
	path := func() string {
		var b strings.Builder
		for i, f := range stack {
			if f.array {
				fmt.Fprintf(&b, "[%d]", f.index)
				continue
			}
			if f.key == "" {
				continue
			}
			if i > 0 && b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		return b.String()
	}
	// valueDone advances the enclosing container after a complete value.
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				expectKey = true
			}
		}
	}
	last := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return last
		}
		pos := dec.InputOffset()
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				last = path()
				stack = append(stack, frame{})
				expectKey = true
			case '[':
				last = path()
				stack = append(stack, frame{array: true})
			case '}', ']':
				stack = stack[:len(stack)-1]
				valueDone()
			}
			if t == '{' || t == '[' {
				if pos >= offset {
					return last
				}
				continue
			}
		case string:
			if expectKey && len(stack) > 0 && !stack[len(stack)-1].array {
				stack[len(stack)-1].key = t
				expectKey = false
				continue
			}
			last = path()
			valueDone()
		default:
			last = path()
			valueDone()
		}
		if pos >= offset {
			return last
		}
	}
}

// requireMembers reports the first of paths ("author.local") missing from a
// JSON object body. Go structs cannot tell a missing member from its zero
// value, and the spec requires some members to be present even when false
// or empty; a parent that is missing is reported instead of its children.
//
// It runs after decodeJSON accepted the body, on every check, so it walks
// the bytes in place instead of decoding objects into maps, reading each
// object on the way once: a member's value is the last one given for its
// exact name (as a map decode keeps it), and null counts as missing.
func requireMembers(body []byte, paths ...string) error {
	if len(paths) == 0 {
		return nil
	}
	root, ok := rootValue(body)
	if !ok {
		return nil // decodeJSON already reported what is wrong
	}
	missing := func(field string) error {
		return &badRequest{code: "invalid_field", field: field, msg: field + ": is required", status: http.StatusUnprocessableEntity}
	}
	// values[i] is the raw value of paths[i] once its parent was read; an
	// object's members are all looked up in the one pass over it.
	const maxPaths = 16
	if len(paths) > maxPaths {
		panic("requireMembers: too many paths")
	}
	var (
		values [maxPaths][]byte
		found  [maxPaths]bool
		read   [maxPaths + 1]bool // read[i+1]: the object at paths[i] was read; read[0]: the root
	)
	split := func(p string) (parent, name string) {
		if i := strings.LastIndexByte(p, '.'); i >= 0 {
			return p[:i], p[i+1:]
		}
		return "", p
	}
	// readObject looks up, in the object at parent (index into read), every
	// path whose parent that is.
	readObject := func(parentIdx int, parentPath string, obj []byte) {
		read[parentIdx] = true
		eachMember(obj, func(key []byte, escaped bool, val []byte) {
			for i, p := range paths {
				if parent, name := split(p); parent == parentPath && keyIs(key, escaped, name) {
					values[i], found[i] = val, true
				}
			}
		})
	}
	switch {
	case root[0] == '{':
		readObject(0, "", root)
	case string(root) == "null":
		read[0] = true // no members: every one is missing
	default:
		return nil // not an object: decodeJSON already reported it
	}
	for i, p := range paths {
		parent, _ := split(p)
		// the parent is the root or an object named by an earlier path
		parentIdx := -1
		if parent == "" {
			parentIdx = 0
		} else {
			for j := range i {
				if paths[j] == parent {
					parentIdx = j + 1
				}
			}
		}
		if parentIdx < 0 || !read[parentIdx] {
			// parents are listed before their members
			return missing(parent)
		}
		raw := values[i]
		if !found[i] || string(raw) == "null" {
			return missing(p)
		}
		if raw[0] == '{' {
			readObject(i+1, p, raw)
		}
	}
	return nil
}

// rootValue returns the single JSON value that body holds, without the
// white space around it; ok is false when anything else follows it (which
// a decode into a map refuses). body must be syntactically valid up to the
// end of that value, as decodeJSON has checked.
func rootValue(body []byte) ([]byte, bool) {
	i := skipSpace(body, 0)
	if i >= len(body) {
		return nil, false
	}
	end, ok := skipValue(body, i)
	if !ok || skipSpace(body, end) != len(body) {
		return nil, false
	}
	return body[i:end], true
}

// eachMember calls fn with each member of the object obj in order, its
// name as written (between the quotes) and its raw value.
func eachMember(obj []byte, fn func(key []byte, escaped bool, val []byte)) {
	i := 1 // past '{'
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return // '}' (or a malformed object: nothing more)
		}
		keyEnd, escaped, ok := skipString(obj, i)
		if !ok {
			return
		}
		key := obj[i+1 : keyEnd-1]
		i = skipSpace(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		valEnd, ok := skipValue(obj, i)
		if !ok {
			return
		}
		fn(key, escaped, obj[i:valEnd])
		i = skipSpace(obj, valEnd)
		if i < len(obj) && obj[i] == ',' {
			i++
		}
	}
}

// keyIs compares a member name as written (between its quotes) with name.
func keyIs(key []byte, escaped bool, name string) bool {
	if !escaped {
		return string(key) == name
	}
	quoted := make([]byte, 0, len(key)+2)
	quoted = append(append(append(quoted, '"'), key...), '"')
	var s string
	return json.Unmarshal(quoted, &s) == nil && s == name
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] (a
// '"') and whether it holds an escape.
func skipString(b []byte, i int) (end int, escaped, ok bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b), escaped, false
		}
		q := j + k
		if bytes.IndexByte(b[j:q], '\\') >= 0 {
			escaped = true
			// the quote ends the string unless an odd run of backslashes
			// escapes it
			n := 0
			for q-1-n > i && b[q-1-n] == '\\' {
				n++
			}
			if n%2 == 1 {
				j = q + 1
				continue
			}
		}
		return q + 1, escaped, true
	}
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		end, _, ok := skipString(b, i)
		return end, ok
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, ok := skipString(b, j)
				if !ok {
					return end, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return len(b), false
	default: // number, true, false, null
		j := i
	literal:
		for ; j < len(b); j++ {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				break literal
			}
		}
		return j, j > i
	}
}
