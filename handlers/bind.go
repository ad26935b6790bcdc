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
	if dec.More() {
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
// Each object on the way is parsed once.
func requireMembers(body []byte, paths ...string) error {
	if len(paths) == 0 {
		return nil
	}
	objects := map[string]map[string]json.RawMessage{}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(body, &root); err != nil {
		return nil // decodeJSON already reported what is wrong
	}
	objects[""] = root
	missing := func(field string) error {
		return &badRequest{code: "invalid_field", field: field, msg: field + ": is required", status: http.StatusUnprocessableEntity}
	}
	for _, p := range paths {
		parent, name := "", p
		if i := strings.LastIndexByte(p, '.'); i >= 0 {
			parent, name = p[:i], p[i+1:]
		}
		obj, ok := objects[parent]
		if !ok {
			// parents are listed before their members
			return missing(parent)
		}
		raw, ok := obj[name]
		if !ok || string(raw) == "null" {
			return missing(p)
		}
		if len(raw) > 0 && raw[0] == '{' {
			var child map[string]json.RawMessage
			if json.Unmarshal(raw, &child) == nil {
				objects[p] = child
			}
		}
	}
	return nil
}
