package handlers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

const specDir = "../spec/spam_detection/v0.1"
const schemaBase = "https://breakwater.example/spec/spam_detection/v0.1/schemas/"

// specSchemas compiles the spec's JSON Schemas, so tests check real
// responses against the published contract.
func specSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join(specDir, "schemas", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in %s: %v", specDir, err)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource(schemaBase+filepath.Base(f), doc); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, f := range files {
		s, err := c.Compile(schemaBase + filepath.Base(f))
		if err != nil {
			t.Fatalf("compile %s: %v", f, err)
		}
		out[filepath.Base(f)] = s
	}
	return out
}

func mustValidate(t *testing.T, schemas map[string]*jsonschema.Schema, name string, body []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: response is not JSON: %v: %s", name, err, body)
	}
	if err := schemas[name].Validate(v); err != nil {
		t.Errorf("response does not match %s: %v\n%s", name, err, body)
	}
}

// screeningApp is an app with one registered server that activated both
// screening capabilities.
func screeningApp(t *testing.T, tg testdb.Target) (*handlertest.App, *handlertest.Mastodon, *handlertest.FaspProvider) {
	app := handlertest.NewApp(t, tg, handlertest.Config{})
	m := handlertest.NewMastodon(t)
	_, p := app.Register(t, m)
	app.Activate(t, m, p, "signup_screening", "content_screening")
	return app, m, p
}

// TestSpecInvalidVectors sends every invalid request of the spec and checks
// status, error code and the field named.
func TestSpecInvalidVectors(t *testing.T) {
	app, m, p := screeningApp(t, testdb.SQLite(t))
	schemas := specSchemas(t)
	files, _ := filepath.Glob(filepath.Join(specDir, "examples", "invalid-*.json"))
	if len(files) < 20 {
		t.Fatalf("only %d invalid vectors found", len(files))
	}
	sort.Strings(files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			var v struct {
				Method, Path, BodyText, Error, Field string
				Body                                 json.RawMessage
				Status                               int
			}
			b, _ := os.ReadFile(f)
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			body := []byte(v.BodyText)
			if v.Body != nil {
				body = v.Body
			}
			req, _ := http.NewRequest(v.Method, app.URL+v.Path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			r := m.Do(t, p, signWithBody(t, p, req, body), body)
			if r.Status != v.Status {
				t.Fatalf("status %d %s, want %d", r.Status, r.Body, v.Status)
			}
			var out map[string]any
			_ = json.Unmarshal(r.Body, &out)
			if out["error"] != v.Error || (v.Field != "" && out["field"] != v.Field) {
				t.Errorf("error %v field %v, want %q %q (%s)", out["error"], out["field"], v.Error, v.Field, out["message"])
			}
			mustValidate(t, schemas, "error.json", r.Body)
		})
	}
}

func signWithBody(t *testing.T, p *handlertest.FaspProvider, req *http.Request, body []byte) *http.Request {
	t.Helper()
	time.Sleep(time.Millisecond) // distinct created seconds are not needed: bodies differ per vector
	if err := signRequest(req, body, p); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestSpecExchanges sends the requests of the spec's exchange vectors for
// the screening endpoints and validates the real answers against the
// schemas (shapes, not scores, which depend on state).
func TestSpecExchanges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		app, m, p := screeningApp(t, tg)
		schemas := specSchemas(t)
		files, _ := filepath.Glob(filepath.Join(specDir, "examples", "*.json"))
		n := 0
		for _, f := range files {
			base := filepath.Base(f)
			if !strings.HasPrefix(base, "signup-") && !strings.HasPrefix(base, "content-") {
				continue
			}
			var v struct {
				Request struct {
					Method, Path string
					Body         json.RawMessage
				}
			}
			b, _ := os.ReadFile(f)
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(v.Request.Method, app.URL+v.Request.Path, bytes.NewReader(v.Request.Body))
			req.Header.Set("Content-Type", "application/json")
			r := m.Do(t, p, signWithBody(t, p, req, v.Request.Body), v.Request.Body)
			if r.Status != 200 {
				t.Errorf("%s: %d %s", base, r.Status, r.Body)
				continue
			}
			mustValidate(t, schemas, "check-response.json", r.Body)
			var res struct {
				CheckID string `json:"checkId"`
			}
			_ = json.Unmarshal(r.Body, &res)
			g := m.Call(t, p, "GET", "/spam_detection/v0/checks/"+res.CheckID, nil)
			if g.Status != 200 {
				t.Errorf("%s: GET check %d", base, g.Status)
			}
			mustValidate(t, schemas, "check-record.json", g.Body)
			n++
		}
		if n < 5 {
			t.Fatalf("only %d exchanges exercised", n)
		}
		pi := m.Call(t, p, "GET", "/provider_info", nil)
		mustValidate(t, schemas, "provider-info.json", pi.Body)
	})
}
