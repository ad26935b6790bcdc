package handlers_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// nodeSign asks the independent npm http-message-signatures implementation
// (provider/msgsig/testdata/interop) to sign a request.
func nodeSign(t *testing.T, in map[string]any) map[string]string {
	t.Helper()
	dir, _ := filepath.Abs("../provider/msgsig/testdata/interop")
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "http-message-signatures"))
	if err != nil || modErr != nil {
		if os.Getenv("BREAKWATER_TEST_REQUIRE_NODE") == "1" {
			t.Fatalf("node interop harness unavailable (node: %v, node_modules: %v)", err, modErr)
		}
		t.Skip("node or the interop node_modules are missing; run npm ci in provider/msgsig/testdata/interop")
	}
	b, _ := json.Marshal(in)
	cmd := exec.Command(node, filepath.Join(dir, "interop.mjs"), "sign-request")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(b)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node sign-request: %v\n%s", err, stderr.String())
	}
	var headers map[string]string
	if err := json.Unmarshal(out.Bytes(), &headers); err != nil {
		t.Fatalf("node output %q: %v", out.String(), err)
	}
	return headers
}

// TestIndependentImplementationInterop: a request signed by an independent
// RFC 9421 implementation is accepted through the real router; the same
// request with one body byte changed, a stale created, an unknown keyid, or
// replayed is rejected with 401.
func TestIndependentImplementationInterop(t *testing.T) {
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{})
	m := handlertest.NewMastodon(t)
	_, p := app.Register(t, m)
	app.Activate(t, m, p, "callback")
	der, err := x509.MarshalPKCS8PrivateKey(p.ServerPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	keyPem := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	url := app.URL + "/debug/v0/callback/logs"
	body := `{"hello":"node"}`
	sign := func(keyid string, created time.Time) map[string]string {
		return nodeSign(t, map[string]any{"privateKeyPem": keyPem, "keyid": keyid, "created": created.Unix(),
			"method": "POST", "url": url, "body": body,
			"headers": map[string]string{"content-type": "application/json", "accept": "application/json"}})
	}
	do := func(h map[string]string, b string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", url, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		status, out, _ := send(t, req, []byte(b))
		return status, out
	}
	fresh := sign(p.ServerID, time.Now())
	if status, out := do(fresh, body); status != 201 {
		t.Fatalf("node-signed request: %d %v, want 201", status, out)
	}
	cases := []struct {
		name    string
		headers map[string]string
		body    string
		cause   string
	}{
		{"replayed", fresh, body, "replayed"},
		{"one body byte changed", sign(p.ServerID, time.Now()), `{"hello":"nodE"}`, "bad_digest"},
		{"stale created", sign(p.ServerID, time.Now().Add(-6*time.Minute)), body, "expired"},
		{"unknown keyid", sign("01unknownkeyid000000000000", time.Now()), body, "unknown_keyid"},
	}
	for _, tc := range cases {
		if status, out := do(tc.headers, tc.body); status != 401 || out["error"] != tc.cause {
			t.Errorf("%s: %d %v, want 401 %s", tc.name, status, out, tc.cause)
		}
	}
}
