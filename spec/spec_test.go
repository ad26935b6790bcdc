package spec_test

// These tests keep the spam_detection v0.1 specification consistent with
// itself: schemas compile, examples validate against the schemas that
// openapi.yaml names for their endpoint, invalid examples fail on exactly the
// field they name, every $ref resolves, and the code tables in README.md match
// codes.json. They read files only; nothing here imports project code.
//
// openapi.yaml is parsed with a small parser for the plain block-YAML subset
// the file is written in (gopkg.in/yaml.v3 is not in go.sum, and go.mod is not
// to be edited for a test). As a second line of defence every `$ref:` line is
// also found by a regexp scan and checked.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

const (
	specDir    = "spam_detection/v0.1"
	schemaBase = "https://breakwater.example/spec/spam_detection/v0.1/schemas/"
	draft2020  = "https://json-schema.org/draft/2020-12/schema"

	// Default policy thresholds (screening.DefaultPolicy); the examples assume them.
	defaultReviewAt = 65
	defaultRejectAt = 85
)

// wantSchemas is the set of schema files the specification promises.
var wantSchemas = []string{
	"check-record.json",
	"check-response.json",
	"content-check-request.json",
	"error.json",
	"feedback-request.json",
	"provider-info.json",
	"reason.json",
	"servers-response.json",
	"signup-check-request.json",
}

// ---------------------------------------------------------------------------
// Loading

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(specDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func globNames(t *testing.T, dir, pattern string) []string {
	t.Helper()
	ms, err := filepath.Glob(filepath.Join(specDir, dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = filepath.Base(m)
	}
	sort.Strings(names)
	return names
}

// compileSchemas compiles every file in schemas/ under its $id and returns
// them by file name.
func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	names := globNames(t, "schemas", "*.json")
	for _, name := range names {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(readFile(t, "schemas/"+name)))
		if err != nil {
			t.Fatalf("schemas/%s: %v", name, err)
		}
		if err := c.AddResource(schemaBase+name, doc); err != nil {
			t.Fatalf("schemas/%s: %v", name, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range names {
		sch, err := c.Compile(schemaBase + name)
		if err != nil {
			t.Fatalf("schemas/%s does not compile: %v", name, err)
		}
		out[name] = sch
	}
	return out
}

func instance(t *testing.T, raw []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("instance: %v", err)
	}
	return v
}

type codeTables struct {
	Description string `json:"description"`
	ReasonCodes []struct {
		Code    string `json:"code"`
		Gate    string `json:"gate"`
		Trust   bool   `json:"trust"`
		Meaning string `json:"meaning"`
	} `json:"reasonCodes"`
	ErrorCodes []struct {
		Code    string `json:"code"`
		Status  int    `json:"status"`
		Meaning string `json:"meaning"`
	} `json:"errorCodes"`
}

func loadCodes(t *testing.T) codeTables {
	t.Helper()
	var c codeTables
	dec := json.NewDecoder(bytes.NewReader(readFile(t, "codes.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("codes.json: %v", err)
	}
	return c
}

// ---------------------------------------------------------------------------
// Schemas

func TestSchemasCompile(t *testing.T) {
	names := globNames(t, "schemas", "*.json")
	if !slices.Equal(names, wantSchemas) {
		t.Fatalf("schemas/ holds %v, want %v", names, wantSchemas)
	}
	for _, name := range names {
		var m map[string]any
		if err := json.Unmarshal(readFile(t, "schemas/"+name), &m); err != nil {
			t.Fatalf("schemas/%s: %v", name, err)
		}
		if m["$schema"] != draft2020 {
			t.Errorf("schemas/%s: $schema = %v, want %s", name, m["$schema"], draft2020)
		}
		if m["$id"] != schemaBase+name {
			t.Errorf("schemas/%s: $id = %v, want %s", name, m["$id"], schemaBase+name)
		}
		for _, k := range []string{"title", "description"} {
			if s, _ := m[k].(string); s == "" {
				t.Errorf("schemas/%s: no %s", name, k)
			}
		}
		// Responses are explicit: every object in a response schema closes
		// its members. Requests stay open for extensions.
		if !strings.HasSuffix(name, "-request.json") {
			walkJSON(m, "", func(p string, obj map[string]any) {
				if obj["type"] == "object" && obj["additionalProperties"] != false {
					t.Errorf("schemas/%s%s: response object without additionalProperties: false", name, p)
				}
			})
		}
	}
	compileSchemas(t)
}

func walkJSON(v any, p string, fn func(string, map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(p, x)
		for k, c := range x {
			walkJSON(c, p+"/"+k, fn)
		}
	case []any:
		for i, c := range x {
			walkJSON(c, p+"/"+strconv.Itoa(i), fn)
		}
	}
}

// Boundaries of every stated limit, one past and exactly at, built from the
// minimal examples. Lengths are code points: multi-byte characters are used on
// purpose.
func TestSchemaLimits(t *testing.T) {
	schemas := compileSchemas(t)
	minSignup := exampleRequestBody(t, "signup-allow-minimal.json")
	minContent := exampleRequestBody(t, "content-allow-minimal.json")
	email320 := strings.Repeat("a", 64) + "@" + strings.Join([]string{
		strings.Repeat("b", 63), strings.Repeat("c", 63), strings.Repeat("d", 63), strings.Repeat("e", 63)}, ".")
	if n := len([]rune(email320)); n != 320 {
		t.Fatalf("test setup: email is %d characters", n)
	}
	many := func(n int, f func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	cases := []struct {
		name   string
		schema string
		base   map[string]any
		ptr    string
		ok     any
		tooBig any
	}{
		{"username", "signup-check-request.json", minSignup, "/account/username", strings.Repeat("ö", 64), strings.Repeat("ö", 65)},
		{"displayName", "signup-check-request.json", minSignup, "/account/displayName", strings.Repeat("名", 256), strings.Repeat("名", 257)},
		{"email", "signup-check-request.json", minSignup, "/account/email", email320, "f" + email320},
		{"reason", "signup-check-request.json", minSignup, "/account/reason", strings.Repeat("é", 5000), strings.Repeat("é", 5001)},
		{"userAgent", "signup-check-request.json", minSignup, "/userAgent", strings.Repeat("u", 1024), strings.Repeat("u", 1025)},
		{"text", "content-check-request.json", minContent, "/post/text", strings.Repeat("é", 100000), strings.Repeat("é", 100001)},
		{"mentions", "content-check-request.json", minContent, "/post/mentions",
			many(500, func(i int) any { return map[string]any{"acct": fmt.Sprintf("u%d@x.example", i)} }),
			many(501, func(i int) any { return map[string]any{"acct": fmt.Sprintf("u%d@x.example", i)} })},
		{"links", "content-check-request.json", minContent, "/post/links",
			many(100, func(i int) any { return fmt.Sprintf("https://l%d.example/", i) }),
			many(101, func(i int) any { return fmt.Sprintf("https://l%d.example/", i) })},
		{"media", "content-check-request.json", minContent, "/post/media",
			many(20, func(i int) any { return map[string]any{"size": i} }),
			many(21, func(i int) any { return map[string]any{"size": i} })},
		{"feedback note", "feedback-request.json", map[string]any{"checkId": "chk_1", "verdict": "ham"}, "/note",
			strings.Repeat("n", 1000), strings.Repeat("n", 1001)},
	}
	for _, tc := range cases {
		for _, big := range []bool{false, true} {
			v := tc.ok
			if big {
				v = tc.tooBig
			}
			doc := deepCopy(t, tc.base)
			setPointer(t, doc, tc.ptr, v)
			err := schemas[tc.schema].Validate(instance(t, mustJSON(t, doc)))
			switch {
			case !big && err != nil:
				t.Errorf("%s at the limit is rejected: %v", tc.name, err)
			case big && err == nil:
				t.Errorf("%s one past the limit is accepted", tc.name)
			case big:
				if leaves := errorLeaves(err); !slices.Contains(leaves, tc.ptr) {
					t.Errorf("%s one past the limit fails at %v, want %s", tc.name, leaves, tc.ptr)
				}
			}
		}
	}

	// A body with 100,000 two-byte characters still fits the 256 KiB limit.
	doc := deepCopy(t, minContent)
	setPointer(t, doc, "/post/text", strings.Repeat("é", 100000))
	if n := len(mustJSON(t, doc)); n > 256*1024 {
		t.Errorf("a maximal two-byte text makes a %d byte body, over 256 KiB", n)
	}

	// Response rules: a review or reject needs reasons; campaignId and a
	// campaign reason come together.
	bad := []map[string]any{
		{"checkId": "chk_1", "decision": "review", "score": 70, "reasons": []any{}},
		{"checkId": "chk_1", "decision": "allow", "score": 0, "reasons": []any{}, "campaignId": "cmp_1"},
		{"checkId": "chk_1", "decision": "reject", "score": 90, "reasons": []any{
			map[string]any{"code": "campaign", "message": "m", "weight": 90}}},
		{"checkId": "chk_1", "decision": "allow", "score": 101, "reasons": []any{}},
		{"checkId": "chk/1", "decision": "allow", "score": 0, "reasons": []any{}},
		{"checkId": "chk_1", "decision": "allow", "score": 0, "reasons": []any{}, "extra": true},
	}
	for i, b := range bad {
		if schemas["check-response.json"].Validate(instance(t, mustJSON(t, b))) == nil {
			t.Errorf("bad check response %d is accepted: %s", i, mustJSON(t, b))
		}
	}
	if err := schemas["error.json"].Validate(instance(t, []byte(`{"error":"invalid_field","message":"m"}`))); err == nil {
		t.Error("invalid_field without field is accepted")
	}
}

// ---------------------------------------------------------------------------
// OpenAPI

type openAPI struct {
	doc map[string]any
}

func loadOpenAPI(t *testing.T) openAPI {
	t.Helper()
	v, err := parseYAML(string(readFile(t, "openapi.yaml")))
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatal("openapi.yaml: top level is not a mapping")
	}
	return openAPI{doc: m}
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

type operation struct {
	method, path string
	op           map[string]any
}

func (o openAPI) operations(t *testing.T) []operation {
	t.Helper()
	paths, ok := o.doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("openapi.yaml: no paths")
	}
	var ops []operation
	for p, item := range paths {
		im, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("path %s is not a mapping", p)
		}
		for _, m := range httpMethods {
			if op, ok := im[m].(map[string]any); ok {
				ops = append(ops, operation{strings.ToUpper(m), p, op})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

// find returns the operation whose path template matches a concrete path.
func (o openAPI) find(t *testing.T, method, concrete string) (operation, bool) {
	t.Helper()
	for _, op := range o.operations(t) {
		if op.method == method && templateMatch(op.path, concrete) {
			return op, true
		}
	}
	return operation{}, false
}

func templateMatch(tmpl, concrete string) bool {
	ts, cs := strings.Split(tmpl, "/"), strings.Split(concrete, "/")
	if len(ts) != len(cs) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}") {
			if cs[i] == "" {
				return false
			}
			continue
		}
		if ts[i] != cs[i] {
			return false
		}
	}
	return true
}

// deref follows internal $refs ("#/...") until it reaches an object without one.
func (o openAPI) deref(t *testing.T, v any) map[string]any {
	t.Helper()
	for i := 0; i < 10; i++ {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("expected a mapping, got %T", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#") {
			return m
		}
		r, err := jsonPointer(o.doc, strings.TrimPrefix(ref, "#"))
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		v = r
	}
	t.Fatal("$ref chain too long")
	return nil
}

// schemaFile returns the schemas/ file a media type object's schema refers to.
func schemaFile(content map[string]any, mediaType string) (string, bool) {
	mt, ok := content[mediaType].(map[string]any)
	if !ok {
		return "", false
	}
	sch, _ := mt["schema"].(map[string]any)
	ref, _ := sch["$ref"].(string)
	if !strings.HasPrefix(ref, "schemas/") {
		return "", false
	}
	return strings.TrimPrefix(ref, "schemas/"), true
}

func (o openAPI) requestSchema(t *testing.T, op operation) (file string, required, has bool) {
	rb, ok := op.op["requestBody"]
	if !ok {
		return "", false, false
	}
	m := o.deref(t, rb)
	required, _ = m["required"].(bool)
	content, _ := m["content"].(map[string]any)
	file, _ = schemaFile(content, "application/json")
	return file, required, true
}

func (o openAPI) response(t *testing.T, op operation, status int) (map[string]any, bool) {
	rs, _ := op.op["responses"].(map[string]any)
	r, ok := rs[strconv.Itoa(status)]
	if !ok {
		return nil, false
	}
	return o.deref(t, r), true
}

func TestOpenAPI(t *testing.T) {
	raw := string(readFile(t, "openapi.yaml"))
	o := loadOpenAPI(t)
	if o.doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", o.doc["openapi"])
	}
	if o.doc["jsonSchemaDialect"] != draft2020 {
		t.Errorf("jsonSchemaDialect = %v", o.doc["jsonSchemaDialect"])
	}

	// Every $ref the parser found resolves, and the regexp scan finds the same set.
	parsed := map[string]bool{}
	walkAny(o.doc, func(m map[string]any) {
		if ref, ok := m["$ref"].(string); ok {
			parsed[ref] = true
		}
	})
	scanned := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(?:-\s+)?\$ref:\s*['"]?([^'"\s]+)['"]?\s*$`).FindAllStringSubmatch(raw, -1) {
		scanned[m[1]] = true
	}
	if n := strings.Count(raw, "$ref:"); n == 0 || len(scanned) == 0 {
		t.Fatal("no $ref found in openapi.yaml")
	}
	if !mapsEqual(parsed, scanned) {
		t.Errorf("parsed $refs %v differ from scanned $refs %v", keys(parsed), keys(scanned))
	}
	for ref := range scanned {
		if err := resolveRef(o.doc, ref); err != nil {
			t.Errorf("$ref %s: %v", ref, err)
		}
	}
	for _, name := range wantSchemas {
		if name != "reason.json" && !scanned["schemas/"+name] {
			t.Errorf("openapi.yaml never refers to schemas/%s", name)
		}
	}

	// Security: signatures everywhere except the public CSV feed.
	if sec, _ := o.doc["security"].([]any); len(sec) != 1 {
		t.Error("top-level security must name the signature scheme")
	}
	schemes, _ := o.deref(t, o.doc["components"])["securitySchemes"].(map[string]any)
	if s, _ := schemes["httpSignature"].(map[string]any); s["type"] != "apiKey" || s["in"] != "header" || s["name"] != "Signature" {
		t.Errorf("httpSignature scheme = %v", s)
	}

	ids := map[string]bool{}
	wantOps := map[string]bool{
		"GET /provider_info":                               true,
		"POST /capabilities/{id}/{major}/activation":       true,
		"DELETE /capabilities/{id}/{major}/activation":     true,
		"POST /debug/v0/callback/logs":                     true,
		"POST /spam_detection/v0/signup_screening/checks":  true,
		"POST /spam_detection/v0/content_screening/checks": true,
		"GET /spam_detection/v0/checks/{checkId}":          true,
		"DELETE /spam_detection/v0/checks/{checkId}":       true,
		"POST /spam_detection/v0/feedback":                 true,
		"GET /spam_detection/v0/servers":                   true,
		"GET /feeds/servers.csv":                           true,
	}
	for _, op := range o.operations(t) {
		key := op.method + " " + op.path
		if !wantOps[key] {
			t.Errorf("unexpected operation %s", key)
		}
		delete(wantOps, key)
		id, _ := op.op["operationId"].(string)
		if id == "" || ids[id] {
			t.Errorf("%s: missing or duplicate operationId %q", key, id)
		}
		ids[id] = true

		// FASP path rule: spec id, then v<major>, then capability or common path.
		if strings.HasPrefix(op.path, "/spam_detection/") {
			segs := strings.Split(op.path, "/")
			if segs[2] != "v0" {
				t.Errorf("%s: second segment must be v0", key)
			}
			if strings.HasSuffix(op.path, "/checks") && segs[3] != "signup_screening" && segs[3] != "content_screening" {
				t.Errorf("%s: capability endpoint without capability segment", key)
			}
		}

		sec, hasSec := op.op["security"]
		switch op.path {
		case "/feeds/servers.csv":
			if s, _ := sec.([]any); !hasSec || len(s) != 0 {
				t.Errorf("%s must be public (security: [])", key)
			}
		case "/provider_info":
			// Signed, or unsigned: [{httpSignature: []}, {}].
			if s, _ := sec.([]any); len(s) != 2 {
				t.Errorf("%s: security must be signature-or-none", key)
			}
		default:
			if hasSec {
				t.Errorf("%s must not override the signature requirement", key)
			}
		}

		rs, _ := op.op["responses"].(map[string]any)
		success := 0
		for code, r := range rs {
			n, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response key %q is not a status code", key, code)
				continue
			}
			resp := o.deref(t, r)
			if d, _ := resp["description"].(string); d == "" {
				t.Errorf("%s %s: no description", key, code)
			}
			content, _ := resp["content"].(map[string]any)
			if n >= 200 && n < 300 {
				success++
			}
			if n >= 400 {
				if f, ok := schemaFile(content, "application/json"); !ok || f != "error.json" {
					t.Errorf("%s %s: error response without schemas/error.json", key, code)
				}
			}
			if n == 429 || n == 503 {
				if h, _ := resp["headers"].(map[string]any); h["Retry-After"] == nil {
					t.Errorf("%s %s: no Retry-After header", key, code)
				}
			}
			if content != nil {
				if _, ok := content["application/json"]; ok {
					if _, ok := schemaFile(content, "application/json"); !ok {
						t.Errorf("%s %s: JSON response without a $ref into schemas/", key, code)
					}
				}
			}
			if op.path != "/feeds/servers.csv" && n < 300 {
				h, _ := resp["headers"].(map[string]any)
				for _, hn := range []string{"Content-Digest", "Signature-Input", "Signature"} {
					if h[hn] == nil {
						t.Errorf("%s %s: signed response without %s header", key, code, hn)
					}
				}
			}
		}
		if success == 0 {
			t.Errorf("%s: no 2xx response", key)
		}
		if op.path != "/feeds/servers.csv" {
			for _, code := range []string{"401", "429", "503"} {
				if rs[code] == nil {
					t.Errorf("%s: no %s response", key, code)
				}
			}
		}
		if file, _, has := o.requestSchema(t, op); has && strings.HasPrefix(op.path, "/spam_detection/") {
			if file == "" {
				t.Errorf("%s: request body without a $ref into schemas/", key)
			}
			for _, code := range []string{"400", "413", "415", "422"} {
				if rs[code] == nil {
					t.Errorf("%s: request body but no %s response", key, code)
				}
			}
		}
	}
	for k := range wantOps {
		t.Errorf("openapi.yaml lacks %s", k)
	}
}

func walkAny(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walkAny(c, fn)
		}
	case []any:
		for _, c := range x {
			walkAny(c, fn)
		}
	}
}

// resolveRef checks one $ref of openapi.yaml: an internal pointer, or a file
// relative to openapi.yaml with an optional fragment pointer.
func resolveRef(doc map[string]any, ref string) error {
	file, frag, _ := strings.Cut(ref, "#")
	if file == "" {
		_, err := jsonPointer(doc, frag)
		return err
	}
	if strings.Contains(file, "://") || path.IsAbs(file) {
		return fmt.Errorf("not a relative reference")
	}
	b, err := os.ReadFile(filepath.Join(specDir, filepath.FromSlash(path.Clean(file))))
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	_, err = jsonPointer(v, frag)
	return err
}

func jsonPointer(v any, p string) (any, error) {
	if p == "" {
		return v, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("bad pointer %q", p)
	}
	for _, tok := range strings.Split(p[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := v.(type) {
		case map[string]any:
			c, ok := x[tok]
			if !ok {
				return nil, fmt.Errorf("%q not found", tok)
			}
			v = c
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("index %q out of range", tok)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("cannot descend into %T at %q", v, tok)
		}
	}
	return v, nil
}

// ---------------------------------------------------------------------------
// Examples

type exchange struct {
	Description string `json:"description"`
	Request     struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		Body   json.RawMessage `json:"body"`
	} `json:"request"`
	Response struct {
		Status   int               `json:"status"`
		Headers  map[string]string `json:"headers"`
		Body     json.RawMessage   `json:"body"`
		BodyText *string           `json:"bodyText"`
	} `json:"response"`
}

type invalidVector struct {
	Description string          `json:"description"`
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	Body        json.RawMessage `json:"body"`
	BodyText    *string         `json:"bodyText"`
	Status      int             `json:"status"`
	Error       string          `json:"error"`
	Field       string          `json:"field"`
}

func decodeStrict(t *testing.T, name string, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("examples/%s: %v", name, err)
	}
}

func exampleRequestBody(t *testing.T, name string) map[string]any {
	t.Helper()
	var ex exchange
	decodeStrict(t, name, readFile(t, "examples/"+name), &ex)
	var m map[string]any
	if err := json.Unmarshal(ex.Request.Body, &m); err != nil {
		t.Fatalf("examples/%s: request body: %v", name, err)
	}
	return m
}

func TestExamples(t *testing.T) {
	schemas := compileSchemas(t)
	o := loadOpenAPI(t)
	codes := loadCodes(t)
	reasonGate := map[string]string{}
	trust := map[string]bool{}
	for _, r := range codes.ReasonCodes {
		reasonGate[r.Code] = r.Gate
		trust[r.Code] = r.Trust
	}
	errorStatus := map[string]int{}
	for _, e := range codes.ErrorCodes {
		errorStatus[e.Code] = e.Status
	}
	covered := map[string]bool{}
	invalidFor := map[string]int{}

	names := globNames(t, "examples", "*.json")
	if len(names) == 0 {
		t.Fatal("no examples")
	}
	for _, name := range names {
		raw := readFile(t, "examples/"+name)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			if strings.HasPrefix(name, "invalid-") {
				var iv invalidVector
				decodeStrict(t, name, raw, &iv)
				op, ok := o.find(t, iv.Method, iv.Path)
				if !ok {
					t.Fatalf("no operation %s %s in openapi.yaml", iv.Method, iv.Path)
				}
				invalidFor[op.method+" "+op.path]++
				checkInvalid(t, o, op, schemas, errorStatus, iv)
				return
			}
			var ex exchange
			decodeStrict(t, name, raw, &ex)
			if ex.Description == "" {
				t.Error("no description")
			}
			op, ok := o.find(t, ex.Request.Method, ex.Request.Path)
			if !ok {
				t.Fatalf("no operation %s %s in openapi.yaml", ex.Request.Method, ex.Request.Path)
			}
			covered[op.method+" "+op.path] = true
			checkExchange(t, o, op, schemas, reasonGate, trust, errorStatus, ex)
		})
	}
	for _, op := range o.operations(t) {
		key := op.method + " " + op.path
		if !covered[key] {
			t.Errorf("no example exchange for %s", key)
		}
		if file, _, has := o.requestSchema(t, op); has && file != "" && invalidFor[key] == 0 {
			t.Errorf("no invalid example for %s", key)
		}
	}
}

func checkExchange(t *testing.T, o openAPI, op operation, schemas map[string]*jsonschema.Schema,
	reasonGate map[string]string, trust map[string]bool, errorStatus map[string]int, ex exchange) {
	t.Helper()
	// Request.
	file, required, has := o.requestSchema(t, op)
	hasBody := len(ex.Request.Body) > 0
	switch {
	case hasBody && !has:
		t.Errorf("%s %s takes no body", op.method, op.path)
	case !hasBody && required:
		t.Errorf("%s %s needs a body", op.method, op.path)
	case hasBody && file != "":
		if err := schemas[file].Validate(instance(t, ex.Request.Body)); err != nil {
			t.Errorf("request body is not valid against %s: %v", file, err)
		}
	}
	if !templateMatch(op.path, ex.Request.Path) {
		t.Errorf("path %s does not match %s", ex.Request.Path, op.path)
	}

	// Response.
	status := ex.Response.Status
	resp, ok := o.response(t, op, status)
	if !ok {
		t.Fatalf("%s %s has no %d response in openapi.yaml", op.method, op.path, status)
	}
	content, _ := resp["content"].(map[string]any)
	hasRespBody := len(ex.Response.Body) > 0
	switch {
	case content == nil:
		if hasRespBody || ex.Response.BodyText != nil {
			t.Errorf("%d response has no body in openapi.yaml", status)
		}
	case content["text/csv"] != nil:
		if ex.Response.BodyText == nil {
			t.Fatal("CSV response needs bodyText")
		}
		checkCSV(t, *ex.Response.BodyText)
		if ct := ex.Response.Headers["Content-Type"]; !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("CSV Content-Type = %q", ct)
		}
	default:
		f, ok := schemaFile(content, "application/json")
		if !ok {
			t.Fatalf("%d response has no JSON schema", status)
		}
		if !hasRespBody {
			t.Fatalf("%d response needs a body (%s)", status, f)
		}
		if err := schemas[f].Validate(instance(t, ex.Response.Body)); err != nil {
			t.Errorf("response body is not valid against %s: %v", f, err)
		}
		switch f {
		case "check-response.json", "check-record.json":
			gate := ""
			switch {
			case strings.Contains(op.path, "signup_screening"):
				gate = "signup"
			case strings.Contains(op.path, "content_screening"):
				gate = "content"
			}
			checkDecision(t, ex.Response.Body, gate, reasonGate, trust)
		case "error.json":
			var e struct{ Error string }
			_ = json.Unmarshal(ex.Response.Body, &e)
			if want, ok := errorStatus[e.Error]; !ok {
				t.Errorf("error code %q is not in codes.json", e.Error)
			} else if want != status {
				t.Errorf("error code %q goes with status %d, not %d", e.Error, want, status)
			}
		}
	}
	if status == 429 || status == 503 {
		n, err := strconv.Atoi(ex.Response.Headers["Retry-After"])
		if err != nil || n < 1 {
			t.Errorf("%d response needs Retry-After in seconds, got %q", status, ex.Response.Headers["Retry-After"])
		}
	}
}

// checkDecision checks what a schema cannot: score = clamp(sum of weights),
// the decision under the default thresholds, known codes for the right gate,
// and negative weights for trust codes.
func checkDecision(t *testing.T, raw []byte, gate string, reasonGate map[string]string, trust map[string]bool) {
	t.Helper()
	var d struct {
		Kind     string
		Decision string
		Score    int
		Erased   bool
		Reasons  []struct {
			Code   string
			Weight int
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.Erased {
		// The reasons are gone; the outcome stays.
		if len(d.Reasons) != 0 {
			t.Error("an erased check has reasons")
		}
		return
	}
	if gate == "" {
		gate = d.Kind
	}
	sum := 0
	for _, r := range d.Reasons {
		sum += r.Weight
		g, ok := reasonGate[r.Code]
		if !ok {
			t.Errorf("reason code %q is not in codes.json", r.Code)
			continue
		}
		if gate != "" && g != "both" && g != gate {
			t.Errorf("reason code %q belongs to %s, not %s", r.Code, g, gate)
		}
		if trust[r.Code] && r.Weight >= 0 {
			t.Errorf("trust reason %q has weight %d, want negative", r.Code, r.Weight)
		}
	}
	if want := min(max(sum, 0), 100); d.Score != want {
		t.Errorf("score %d, but the weights sum to %d (clamped %d)", d.Score, sum, want)
	}
	want := "allow"
	switch {
	case d.Score >= defaultRejectAt:
		want = "reject"
	case d.Score >= defaultReviewAt:
		want = "review"
	}
	if d.Decision != want {
		t.Errorf("score %d gives %s under the default thresholds, example says %s", d.Score, want, d.Decision)
	}
}

func checkCSV(t *testing.T, text string) {
	t.Helper()
	lines := strings.SplitN(text, "\n", 2)
	if lines[0] != "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate" {
		t.Errorf("CSV header = %q", lines[0])
	}
	r := csv.NewReader(strings.NewReader(text))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	if len(recs) < 2 {
		t.Error("CSV example has no rows")
	}
	for i, rec := range recs[1:] {
		if len(rec) != 6 {
			t.Errorf("CSV row %d has %d columns", i+1, len(rec))
			continue
		}
		if rec[1] != "silence" && rec[1] != "suspend" {
			t.Errorf("CSV row %d: severity %q", i+1, rec[1])
		}
		if rec[2] != "true" || rec[3] != "false" || rec[5] != "false" {
			t.Errorf("CSV row %d: reject_media/reject_reports/obfuscate = %s/%s/%s", i+1, rec[2], rec[3], rec[5])
		}
	}
}

func checkInvalid(t *testing.T, o openAPI, op operation, schemas map[string]*jsonschema.Schema, errorStatus map[string]int, iv invalidVector) {
	t.Helper()
	if iv.Description == "" {
		t.Error("no description")
	}
	if want, ok := errorStatus[iv.Error]; !ok || want != iv.Status {
		t.Errorf("error %q with status %d does not match codes.json", iv.Error, iv.Status)
	}
	if _, ok := o.response(t, op, iv.Status); !ok {
		t.Errorf("%s %s has no %d response in openapi.yaml", op.method, op.path, iv.Status)
	}
	file, _, _ := o.requestSchema(t, op)
	if file == "" {
		t.Fatalf("%s %s has no request schema", op.method, op.path)
	}
	// The error body the provider is expected to send must itself be valid.
	errBody := map[string]any{"error": iv.Error, "message": "example"}
	if iv.Field != "" {
		errBody["field"] = iv.Field
	}
	if err := schemas["error.json"].Validate(instance(t, mustJSON(t, errBody))); err != nil {
		t.Errorf("expected error body is not valid against error.json: %v", err)
	}

	switch iv.Status {
	case 400:
		if iv.Field != "" {
			t.Error("a 400 names no field")
		}
		if iv.BodyText != nil {
			if json.Valid([]byte(*iv.BodyText)) {
				t.Error("bodyText of an invalid_json vector is valid JSON")
			}
			return
		}
		err := schemas[file].Validate(instance(t, iv.Body))
		if err == nil || !slices.Contains(errorLeaves(err), "") {
			t.Errorf("body should fail at the top level (not an object), got %v", err)
		}
	case 422:
		if iv.BodyText != nil || len(iv.Body) == 0 {
			t.Fatal("a 422 vector needs a JSON body")
		}
		if iv.Field == "" {
			t.Fatal("a 422 vector names a field")
		}
		err := schemas[file].Validate(instance(t, iv.Body))
		if err == nil {
			t.Fatalf("body is valid against %s, want a failure at %s", file, iv.Field)
		}
		ptr := fieldToPointer(iv.Field)
		leaves := errorLeaves(err)
		if !slices.Contains(leaves, ptr) {
			t.Errorf("body fails at %v, want %s (%s)", leaves, ptr, iv.Field)
		}
		for _, l := range leaves {
			if l != ptr && !strings.HasPrefix(l, ptr+"/") {
				t.Errorf("body also fails at %s: a vector must break exactly one field", l)
			}
		}
	default:
		t.Errorf("invalid vectors are 400 or 422, not %d", iv.Status)
	}
}

// fieldToPointer turns account.email or post.mentions[3].acct into a JSON pointer.
func fieldToPointer(field string) string {
	var b strings.Builder
	for _, part := range strings.Split(field, ".") {
		name, idx, _ := strings.Cut(part, "[")
		b.WriteString("/" + name)
		for idx != "" {
			var n string
			n, idx, _ = strings.Cut(idx, "]")
			b.WriteString("/" + n)
			idx = strings.TrimPrefix(idx, "[")
		}
	}
	return b.String()
}

// errorLeaves lists the instance locations (JSON pointers) of the innermost
// validation errors. A missing required member is located at the member
// itself, which is how the provider's field names it.
func errorLeaves(err error) []string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []string{"?"}
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		loc := ""
		for _, s := range e.InstanceLocation {
			loc += "/" + s
		}
		if r, ok := e.ErrorKind.(*kind.Required); ok {
			for _, m := range r.Missing {
				out = append(out, loc+"/"+m)
			}
			return
		}
		out = append(out, loc)
	}
	walk(ve)
	slices.Sort(out)
	return slices.Compact(out)
}

// ---------------------------------------------------------------------------
// README

var (
	reasonRow = regexp.MustCompile("^\\| `([a-z_]+)` \\| (sign-up|content|both) \\| (.+) \\|$")
	errorRow  = regexp.MustCompile("^\\| ([0-9]{3}) \\| `([a-z_]+)` \\| (.+) \\|$")
	schemaTag = regexp.MustCompile(`^<!-- schema: ([a-z-]+\.json) -->$`)
)

func TestReadme(t *testing.T) {
	schemas := compileSchemas(t)
	codes := loadCodes(t)
	lines := strings.Split(string(readFile(t, "README.md")), "\n")
	reasonGate := map[string]string{}
	trust := map[string]bool{}
	for _, r := range codes.ReasonCodes {
		reasonGate[r.Code] = r.Gate
		trust[r.Code] = r.Trust
	}

	reasons := map[string]string{}
	errs := map[string]int{}
	blocks, tagged := 0, 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := reasonRow.FindStringSubmatch(line); m != nil {
			if _, dup := reasons[m[1]]; dup {
				t.Errorf("README: reason %s listed twice", m[1])
			}
			reasons[m[1]] = strings.Replace(m[2], "sign-up", "signup", 1)
		}
		if m := errorRow.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			errs[m[2]] = n
		}
		if strings.TrimSpace(line) != "```json" {
			continue
		}
		blocks++
		var body []string
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, lines[j])
		}
		raw := []byte(strings.Join(body, "\n"))
		if !json.Valid(raw) {
			t.Errorf("README line %d: JSON block does not parse", i+1)
		}
		// A "<!-- schema: x.json -->" line just before the block names its schema.
		if i > 0 {
			if m := schemaTag.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				tagged++
				sch, ok := schemas[m[1]]
				if !ok {
					t.Errorf("README line %d: unknown schema %s", i, m[1])
				} else if err := sch.Validate(instance(t, raw)); err != nil {
					t.Errorf("README line %d: block is not valid against %s: %v", i+1, m[1], err)
				} else if m[1] == "check-response.json" || m[1] == "check-record.json" {
					checkDecision(t, raw, "", reasonGate, trust)
				}
			}
		}
		i = j
	}
	if blocks == 0 || tagged == 0 {
		t.Errorf("README: %d JSON blocks, %d tagged with a schema", blocks, tagged)
	}

	want := map[string]string{}
	for _, r := range codes.ReasonCodes {
		want[r.Code] = r.Gate
	}
	if !mapsEqual(reasons, want) {
		t.Errorf("README reason table %v differs from codes.json %v", reasons, want)
	}
	wantErr := map[string]int{}
	for _, e := range codes.ErrorCodes {
		wantErr[e.Code] = e.Status
	}
	if !mapsEqual(errs, wantErr) {
		t.Errorf("README error table %v differs from codes.json %v", errs, wantErr)
	}
}

// ---------------------------------------------------------------------------
// Helpers

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deepCopy(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(mustJSON(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func setPointer(t *testing.T, doc map[string]any, ptr string, v any) {
	t.Helper()
	toks := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	cur := doc
	for _, tok := range toks[:len(toks)-1] {
		next, ok := cur[tok].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[tok] = next
		}
		cur = next
	}
	cur[toks[len(toks)-1]] = v
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------------------
// A parser for the block-YAML subset openapi.yaml is written in: block
// mappings and sequences, plain, single- and double-quoted scalars, literal
// (|) and folded (>) block scalars, one-line flow sequences of scalars ([a, b])
// and the empty flow collections [] and {}, full-line comments. Anything else
// (tabs, anchors, aliases, tags, multi-line flow collections, duplicate keys)
// is an error, so the file stays within what this parser understands.

type yamlParser struct {
	lines []string
	i     int
}

func parseYAML(src string) (any, error) {
	if strings.Contains(src, "\t") {
		return nil, fmt.Errorf("tab characters are not allowed")
	}
	p := &yamlParser{lines: strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")}
	p.skip()
	if p.i >= len(p.lines) {
		return nil, fmt.Errorf("empty document")
	}
	v, err := p.node(indentOf(p.lines[p.i]))
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i < len(p.lines) {
		return nil, fmt.Errorf("line %d: unexpected content %q", p.i+1, p.lines[p.i])
	}
	return v, nil
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

func isSkippable(s string) bool {
	t := strings.TrimSpace(s)
	return t == "" || strings.HasPrefix(t, "#") || t == "---"
}

func (p *yamlParser) skip() {
	for p.i < len(p.lines) && isSkippable(p.lines[p.i]) {
		p.i++
	}
}

func isSeqItem(content string) bool { return content == "-" || strings.HasPrefix(content, "- ") }

func (p *yamlParser) node(ind int) (any, error) {
	p.skip()
	if p.i >= len(p.lines) {
		return nil, nil
	}
	if isSeqItem(strings.TrimLeft(p.lines[p.i], " ")) {
		return p.seq(ind)
	}
	return p.mapping(ind)
}

func (p *yamlParser) mapping(ind int) (any, error) {
	m := map[string]any{}
	for {
		p.skip()
		if p.i >= len(p.lines) {
			return m, nil
		}
		line := p.lines[p.i]
		in := indentOf(line)
		if in < ind {
			return m, nil
		}
		if in > ind {
			return nil, fmt.Errorf("line %d: unexpected indentation", p.i+1)
		}
		content := line[in:]
		if isSeqItem(content) {
			return m, nil
		}
		key, rest, ok := splitKey(content)
		if !ok {
			return nil, fmt.Errorf("line %d: expected key: value, got %q", p.i+1, content)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", p.i+1, key)
		}
		p.i++
		v, err := p.value(ind, rest)
		if err != nil {
			return nil, err
		}
		m[key] = v
	}
}

// value parses what follows "key:" or "- " on a line whose indentation is ind.
func (p *yamlParser) value(ind int, rest string) (any, error) {
	switch {
	case rest == "":
		p.skip()
		if p.i >= len(p.lines) {
			return nil, nil
		}
		next := indentOf(p.lines[p.i])
		if next > ind || (next == ind && isSeqItem(p.lines[p.i][next:])) {
			return p.node(next)
		}
		return nil, nil
	case rest == "|" || rest == "|-" || rest == ">" || rest == ">-":
		return p.blockScalar(ind, rest), nil
	default:
		return scalar(rest, p.i)
	}
}

func (p *yamlParser) blockScalar(ind int, style string) string {
	var raw []string
	blockInd := -1
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		if strings.TrimSpace(line) == "" {
			raw = append(raw, "")
			p.i++
			continue
		}
		in := indentOf(line)
		if in <= ind {
			break
		}
		if blockInd < 0 {
			blockInd = in
		}
		if in < blockInd {
			break
		}
		raw = append(raw, line[blockInd:])
		p.i++
	}
	for len(raw) > 0 && raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1]
	}
	var s string
	if strings.HasPrefix(style, ">") {
		var paras []string
		var cur []string
		for _, l := range raw {
			if l == "" {
				paras = append(paras, strings.Join(cur, " "))
				cur = nil
				continue
			}
			cur = append(cur, l)
		}
		paras = append(paras, strings.Join(cur, " "))
		s = strings.Join(paras, "\n")
	} else {
		s = strings.Join(raw, "\n")
	}
	if !strings.HasSuffix(style, "-") && s != "" {
		s += "\n"
	}
	return s
}

func (p *yamlParser) seq(ind int) (any, error) {
	out := []any{}
	for {
		p.skip()
		if p.i >= len(p.lines) {
			return out, nil
		}
		line := p.lines[p.i]
		in := indentOf(line)
		if in < ind {
			return out, nil
		}
		content := line[in:]
		if in > ind || !isSeqItem(content) {
			if in == ind {
				return out, nil
			}
			return nil, fmt.Errorf("line %d: unexpected indentation in sequence", p.i+1)
		}
		item := strings.TrimPrefix(strings.TrimPrefix(content, "-"), " ")
		if isSeqItem(item) {
			// "- - x": a sequence nested in a sequence.
			p.lines[p.i] = strings.Repeat(" ", in+2) + item
			v, err := p.seq(in + 2)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		if _, _, isMap := splitKey(item); isMap {
			// "- key: value": the item is a mapping whose first key sits two
			// columns right of the dash. Re-read the line that way.
			p.lines[p.i] = strings.Repeat(" ", in+2) + item
			v, err := p.mapping(in + 2)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		p.i++
		v, err := p.value(ind, item)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// splitKey splits `key: rest` or `key:`; the key may be quoted.
func splitKey(s string) (key, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	switch s[0] {
	case '\'', '"':
		end := strings.IndexByte(s[1:], s[0])
		if end < 0 {
			return "", "", false
		}
		key, after := s[1:end+1], s[end+2:]
		if after == ":" {
			return key, "", true
		}
		if strings.HasPrefix(after, ": ") {
			return key, strings.TrimSpace(after[2:]), true
		}
		return "", "", false
	case '[', '{', '&', '*', '!', '|', '>', '%', '@', '`':
		return "", "", false
	}
	if strings.HasSuffix(s, ":") && !strings.Contains(s, ": ") {
		return s[:len(s)-1], "", true
	}
	k, r, found := strings.Cut(s, ": ")
	if !found {
		return "", "", false
	}
	return k, strings.TrimSpace(r), true
}

var (
	yamlInt   = regexp.MustCompile(`^-?[0-9]+$`)
	yamlFloat = regexp.MustCompile(`^-?[0-9]+\.[0-9]+$`)
)

func scalar(s string, line int) (any, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("line %d: empty value", line)
	case strings.HasPrefix(s, "'"):
		if len(s) < 2 || !strings.HasSuffix(s, "'") {
			return nil, fmt.Errorf("line %d: unterminated single-quoted string", line)
		}
		inner := s[1 : len(s)-1]
		if strings.Count(inner, "'")%2 != 0 {
			return nil, fmt.Errorf("line %d: stray quote in %s", line, s)
		}
		return strings.ReplaceAll(inner, "''", "'"), nil
	case strings.HasPrefix(s, `"`):
		u, err := strconv.Unquote(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		return u, nil
	case s == "[]":
		return []any{}, nil
	case s == "{}":
		return map[string]any{}, nil
	case strings.HasPrefix(s, "["):
		if !strings.HasSuffix(s, "]") || strings.ContainsAny(s[1:len(s)-1], "[]{}'\"") {
			return nil, fmt.Errorf("line %d: only one-line flow sequences of plain scalars are supported", line)
		}
		var out []any
		for _, part := range strings.Split(s[1:len(s)-1], ",") {
			v, err := scalar(strings.TrimSpace(part), line)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case strings.ContainsAny(s[:1], "{&*!|>%@`"):
		return nil, fmt.Errorf("line %d: unsupported YAML syntax %q", line, s)
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null", "~":
		return nil, nil
	}
	if yamlInt.MatchString(s) {
		n, err := strconv.Atoi(s)
		if err == nil {
			return n, nil
		}
	}
	if yamlFloat.MatchString(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil {
			return f, nil
		}
	}
	return s, nil
}

// TestYAMLSubsetParser pins the parser's behaviour on the constructs the
// OpenAPI file uses.
func TestYAMLSubsetParser(t *testing.T) {
	src := `# comment
a: 1
b: 'it''s: quoted'
c:
  - x
  - k: v
    l: [p, q]
  - - nested
d: |
  line one
    indented

  after blank
e: {}
f: []
'200':
  $ref: '#/x'
g: plain text: with colon
`
	got, err := parseYAML(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a":   1,
		"b":   "it's: quoted",
		"c":   []any{"x", map[string]any{"k": "v", "l": []any{"p", "q"}}, []any{"nested"}},
		"d":   "line one\n  indented\n\nafter blank\n",
		"e":   map[string]any{},
		"f":   []any{},
		"200": map[string]any{"$ref": "#/x"},
		"g":   "plain text: with colon",
	}
	if g, w := string(mustJSON(t, got)), string(mustJSON(t, want)); g != w {
		t.Errorf("parsed\n%s\nwant\n%s", g, w)
	}
	for _, bad := range []string{"a:\n\tb: 1\n", "a: &x 1\n", "a: 1\na: 2\n", "a: [1,\n  2]\n", "a: 'open\n"} {
		if _, err := parseYAML(bad); err == nil {
			t.Errorf("parseYAML(%q) accepted unsupported input", bad)
		}
	}
}
