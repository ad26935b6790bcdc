package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
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
			field := te.Field
			if field == "" {
				field = "(body)"
			}
			return invalidJSON(&jsonTypeError{field: field, want: jsonKind(te.Type.Kind().String())})
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return &badRequest{code: "invalid_field", msg: "a timestamp is not in RFC 3339 format: " + pe.Value, status: http.StatusUnprocessableEntity}
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
