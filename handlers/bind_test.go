package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/screening"
)

func TestDecodeJSONNamesTheField(t *testing.T) {
	type mention struct {
		Acct string `json:"acct"`
	}
	type post struct {
		Text     string    `json:"text"`
		Mentions []mention `json:"mentions"`
	}
	type body struct {
		Post       post       `json:"post"`
		OccurredAt *time.Time `json:"occurredAt"`
		N          int        `json:"n"`
	}
	cases := []struct {
		in, field, code string
	}{
		{`{"post":{"text":5}}`, "post.text", "invalid_field"},
		{`{"post":{"mentions":[{"acct":"a"},{"acct":7}]}}`, "post.mentions[1].acct", "invalid_field"},
		{`{"post":{"mentions":{"acct":"a"}}}`, "post.mentions", "invalid_field"},
		{`{"n":"x"}`, "n", "invalid_field"},
		{`{"occurredAt":"yesterday"}`, "occurredAt", "invalid_field"},
		{`{"post":{"mentions":[{"acct":"a"}]},"n":true}`, "n", "invalid_field"},
		{`[1,2]`, "", "invalid_json"},
		{`{"post":`, "", "invalid_json"},
		{``, "", "invalid_json"},
		{`{} {}`, "", "invalid_json"},
	}
	for _, tc := range cases {
		var v body
		err := decodeJSON([]byte(tc.in), &v)
		var br *badRequest
		if !errors.As(err, &br) {
			t.Errorf("%s: error %v, want a client error", tc.in, err)
			continue
		}
		if br.code != tc.code || br.field != tc.field {
			t.Errorf("%s: code %q field %q, want %q %q (%s)", tc.in, br.code, br.field, tc.code, tc.field, br.msg)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"post":{"mentions":[{"acct":7}]}}`, `{"a":[[[{"b":1}]]]}`, `{"occurredAt":"x"}`, `[`, `{"n":1e999}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v struct {
			Post struct {
				Mentions []struct {
					Acct string `json:"acct"`
				} `json:"mentions"`
			} `json:"post"`
			At *time.Time `json:"occurredAt"`
			N  int        `json:"n"`
		}
		_ = decodeJSON(b, &v)
		_ = pathAt(b, int64(len(b)/2))
	})
}

// requireMembersByMaps is the former requireMembers, which decoded each
// object on the way into a map: the reference the in-place walk must match.
func requireMembersByMaps(body []byte, paths ...string) error {
	if len(paths) == 0 {
		return nil
	}
	objects := map[string]map[string]json.RawMessage{}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(body, &root); err != nil {
		return nil
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

var contentRequired = []string{"post", "author", "post.text", "post.visibility", "post.mentions", "author.acct", "author.createdAt", "author.local"}

// sameRequireMembers fails when the in-place walk and the map decode
// disagree about a body that decodeJSON accepts.
func sameRequireMembers(t *testing.T, body []byte) {
	t.Helper()
	var v any
	if decodeJSON(body, &v) != nil {
		return
	}
	for _, paths := range [][]string{contentRequired, {"account"}, {"a", "a.b", "a.b.c"}} {
		got, want := requireMembers(body, paths...), requireMembersByMaps(body, paths...)
		var g, w *badRequest
		errors.As(got, &g)
		errors.As(want, &w)
		if (got == nil) != (want == nil) || (g != nil && w != nil && *g != *w) {
			t.Errorf("%q %v: got %v, want %v", body, paths, got, want)
		}
	}
}

func TestRequireMembersMatchesMapDecode(t *testing.T) {
	full := `{"post":{"text":"hi","visibility":"public","mentions":[]},"author":{"acct":"a","createdAt":"2024-01-01T00:00:00Z","local":false}}`
	for _, b := range []string{
		full,
		` ` + full + "\n",
		full + `]`, // decodeJSON lets a closing bracket follow; a map decode refuses the body
		full + ` }x`,
		`null`, `{}`, `[]`, `5`, `"post"`, `true`,
		`{"post":null,"author":{}}`,
		`{"post":{},"author":{}}`,
		`{"post":[],"author":{}}`,
		`{"post":"x","author":{}}`,
		`{"POST":{"text":"a"},"author":{}}`,
		`{"po\u0073t":{"text":"a","visibility":"public","mentions":[]},"author":{"acct":"a","createdAt":"x","local":true}}`,
		`{"post":{"text":"a"},"post":null}`,
		`{"post":null,"post":{"text":"a","visibility":"v","mentions":null}}`,
		`{"post":{"text":"a","visibility":"v","mentions":[{"acct":"}\"]"}]},"author":{"acct":"\\","createdAt":1,"local":null}}`,
		`{"post":{"text":"a\"}","visibility":"v","mentions":[[{}],{"x":[1,2,{"y":"]"}]}]},"author":{"acct":"","createdAt":"", "local" : false }}`,
		`{ "post" : { "text" : "" , "visibility" : "" , "mentions" : [ ] } , "author" : { "acct" : "" , "createdAt" : "" , "local" : true } }`,
		`{"account":0}`, `{"account":{"x":null}}`, `{"a":{"b":{"c":null}}}`, `{"a":{"b":{"c":-1.5e3}}}`, `{"a":{"b":{}}}`,
		`{"a":{"b":"\u00e9\ud83d\ude00"}}`,
	} {
		sameRequireMembers(t, []byte(b))
	}
}

func FuzzRequireMembers(f *testing.F) {
	for _, s := range []string{`{"post":{"text":"a"},"author":null}`, `{"a":{"b":{"c":1}}}`, `{"account":{}} ]`, `null`, `{"p\u006fst":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(sameRequireMembers)
}

// benchContentCheck is a typical content-check body for the decoding benchmarks.
var benchContentCheck = []byte(`{"post":{"id":"1","uri":"https://a.example/s/1","text":"<p>Hello @b and @c, see https://x.example/y</p>","language":"en","visibility":"public","mentions":[{"acct":"b@b.example"},{"acct":"c@c.example","followsAuthor":true}],"links":["https://x.example/y"],"media":[{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","mimeType":"image/png","size":100}]},"author":{"id":"9","acct":"a","createdAt":"2024-01-01T00:00:00Z","local":true,"followers":3,"following":4,"statuses":5,"displayName":"A"},"occurredAt":"2024-01-02T00:00:00Z"}`)

func BenchmarkRequireMembers(b *testing.B) {
	body := benchContentCheck
	for _, impl := range []struct {
		name string
		f    func([]byte, ...string) error
	}{{"walk", requireMembers}, {"maps", requireMembersByMaps}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := impl.f(body, contentRequired...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// decodeJSONWithDecoder is decodeJSON before its Unmarshal fast path: the
// reference for what a body decodes to and which error it gets.
func decodeJSONWithDecoder(body []byte, v any) error {
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
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return &badRequest{code: "invalid_json", msg: "the body has data after the JSON object", status: http.StatusBadRequest}
	}
	return nil
}

func sameDecode(t *testing.T, body []byte) {
	t.Helper()
	var got, want screening.ContentInput
	gerr, werr := decodeJSON(body, &got), decodeJSONWithDecoder(body, &want)
	var g, w *badRequest
	errors.As(gerr, &g)
	errors.As(werr, &w)
	switch {
	case (gerr == nil) != (werr == nil):
		t.Errorf("%q: error %v, want %v", body, gerr, werr)
	case g != nil && w != nil && *g != *w:
		t.Errorf("%q: error %+v, want %+v", body, *g, *w)
	case gerr == nil && !reflect.DeepEqual(got, want):
		t.Errorf("%q: decoded %+v, want %+v", body, got, want)
	}
}

func TestDecodeJSONMatchesDecoder(t *testing.T) {
	full := `{"post":{"text":"hi","visibility":"public","mentions":[{"acct":"b"}]},"author":{"acct":"a","createdAt":"2024-01-01T00:00:00Z","local":false}}`
	for _, b := range []string{full, full + ` `, full + `]`, full + ` }x`, full + `x`, full + ` {}`, `{"post":{"text":5}}`,
		`{"post":{"mentions":[{"acct":"a"},{"acct":7}]}}`, `{"author":{"createdAt":"yesterday"}}`, `[1]`, `null`, `{"post":`, ` `, `{}`,
		`{"post":{"text":"a","text":"b"}}`, `{"occurredAt":"2024-01-01T00:00:00Z","post":{"links":["x"],"media":[{"size":1e3}]}}`} {
		sameDecode(t, []byte(b))
	}
	// Whatever follows the object, a stray closing bracket included, is
	// refused: otherwise required members would go unchecked.
	for _, tail := range []string{`]`, ` }`, `}x`, ` {}`, `x`} {
		var in screening.ContentInput
		var br *badRequest
		if err := decodeJSON([]byte(full+tail), &in); !errors.As(err, &br) || br.code != "invalid_json" || br.status != http.StatusBadRequest {
			t.Errorf("body followed by %q: %v, want a 400 invalid_json", tail, err)
		}
	}
	var in screening.ContentInput
	if err := decodeJSON([]byte(full+" \n\t"), &in); err != nil {
		t.Errorf("trailing whitespace refused: %v", err)
	}
}

func FuzzDecodeJSONMatchesDecoder(f *testing.F) {
	for _, s := range []string{`{"post":{"mentions":[{"acct":7}]}}`, `{"author":{"createdAt":"x"}}`, `{}]`, `{"post":{"text":"a"}} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(sameDecode)
}

func BenchmarkDecodeJSON(b *testing.B) {
	body := benchContentCheck
	for _, impl := range []struct {
		name string
		f    func([]byte, any) error
	}{{"unmarshal", decodeJSON}, {"decoder", decodeJSONWithDecoder}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var in screening.ContentInput
				if err := impl.f(body, &in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReadAll: the body reader sized by Content-Length reads exactly what
// io.ReadAll reads, whether the declared length is right, short, long,
// absent or beyond what is sized ahead.
func TestReadAll(t *testing.T) {
	big := strings.Repeat("x", 70<<10)
	for _, tc := range []struct {
		body     string
		declared int64
	}{
		{"", 0}, {"{}", 2}, {"{}", -1}, {"hello", 3}, {"hello", 50}, {big, int64(len(big))}, {strings.Repeat("y", 4096), 4096},
	} {
		got, err := readAll(iotest.OneByteReader(strings.NewReader(tc.body)), tc.declared)
		if err != nil || string(got) != tc.body {
			t.Errorf("declared %d, %d bytes: got %d bytes, %v", tc.declared, len(tc.body), len(got), err)
		}
		got, err = readAll(strings.NewReader(tc.body), tc.declared)
		if err != nil || string(got) != tc.body {
			t.Errorf("declared %d, %d bytes (one read): got %d bytes, %v", tc.declared, len(tc.body), len(got), err)
		}
	}
	if _, err := readAll(iotest.ErrReader(errors.New("boom")), 10); err == nil || err.Error() != "boom" {
		t.Errorf("read error not returned: %v", err)
	}
}
