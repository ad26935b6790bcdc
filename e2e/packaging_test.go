package e2e

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated flag table in docs/operations.md")

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile("../" + path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parseRepoYAML(t *testing.T, path string) any {
	t.Helper()
	doc, err := parseYAML(readRepoFile(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// TestDockerfile: a static binary, in a distroless image, as a non-root
// user, with a health check that needs no shell.
func TestDockerfile(t *testing.T) {
	df := readRepoFile(t, "Dockerfile")
	for _, want := range []struct{ what, re string }{
		{"a static build (no cgo)", `CGO_ENABLED=0 [^\n]*go build`},
		{"a final image without a libc or shell", `(?m)^FROM gcr\.io/distroless/static[^\s]*`},
		{"a non-root user", `(?m)^USER (65532|nonroot)`},
		{"a health check through the binary", `(?m)^HEALTHCHECK [^\n]*\n?[^\n]*"breakwater", "healthcheck"\]|CMD \["/usr/local/bin/breakwater", "healthcheck"\]`},
		{"the data directory as a volume", `(?m)^VOLUME \["/data"\]`},
	} {
		if !regexp.MustCompile(want.re).MatchString(df) {
			t.Errorf("Dockerfile lacks %s (/%s/)", want.what, want.re)
		}
	}
	if regexp.MustCompile(`(?m)^USER (0|root)\b`).MatchString(df) {
		t.Error("Dockerfile runs as root")
	}
}

// TestComposeFile checks deploy/compose.yaml's structure: Breakwater and
// PostgreSQL 15, secrets from the env file only, health checks, restart
// policies, volumes, and Breakwater waiting for a healthy database.
func TestComposeFile(t *testing.T) {
	doc := parseRepoYAML(t, "deploy/compose.yaml")
	pg, bw := yget(doc, "services", "postgres"), yget(doc, "services", "breakwater")
	if pg == nil || bw == nil {
		t.Fatalf("services postgres and breakwater are required: %v", yget(doc, "services"))
	}
	if img, _ := yget(pg, "image").(string); !strings.HasPrefix(img, "postgres:15") {
		t.Errorf("postgres image %q, want postgres:15", img)
	}
	for name, svc := range map[string]any{"postgres": pg, "breakwater": bw} {
		if r := yget(svc, "restart"); r != "unless-stopped" && r != "always" {
			t.Errorf("%s restart policy %v", name, r)
		}
		if test, _ := yget(svc, "healthcheck", "test").([]any); len(test) < 2 {
			t.Errorf("%s has no health check", name)
		}
		if files, _ := yget(svc, "env_file").([]any); !slices.Contains(files, any("breakwater.env")) {
			t.Errorf("%s does not read breakwater.env: %v", name, yget(svc, "env_file"))
		}
		if vols, _ := yget(svc, "volumes").([]any); len(vols) == 0 {
			t.Errorf("%s has no volume", name)
		}
	}
	if test := fmt.Sprint(yget(bw, "healthcheck", "test")); !strings.Contains(test, "healthcheck") {
		t.Errorf("breakwater health check %s does not use 'breakwater healthcheck'", test)
	}
	if c := yget(bw, "depends_on", "postgres", "condition"); c != "service_healthy" {
		t.Errorf("breakwater starts before PostgreSQL is healthy: %v", c)
	}
	if env := yget(bw, "environment"); env != nil {
		for k, v := range env.(map[string]any) {
			if strings.Contains(k, "SECRET") || strings.Contains(k, "PASSWORD") || strings.Contains(fmt.Sprint(v), "postgres://") {
				t.Errorf("a secret in compose.yaml itself: %s (it belongs in breakwater.env)", k)
			}
		}
	}
	for _, vol := range []string{"pgdata", "bwdata"} {
		if yget(doc, "volumes", vol) == nil {
			t.Errorf("volume %s not declared", vol)
		}
	}
	if ports := fmt.Sprint(yget(bw, "ports")); !strings.Contains(ports, "127.0.0.1:") {
		t.Errorf("breakwater's port %s is published beyond the host: TLS terminates at the proxy", ports)
	}
	example := readRepoFile(t, "deploy/breakwater.env.example")
	for _, k := range []string{"POSTGRES_PASSWORD=", "BREAKWATER_DATABASE_URL=", "BREAKWATER_SECRET_KEY=", "BREAKWATER_PUBLIC_URL="} {
		if !strings.Contains(example, "\n"+k) {
			t.Errorf("breakwater.env.example lacks %s", k)
		}
	}
}

var metricNameRe = regexp.MustCompile(`\b(breakwater_[a-z_]+|process_[a-z_]+|go_[a-z_]+|probe_success|up)\b`)

// TestPrometheusRules checks deploy/prometheus-rules.yaml's structure and
// that every metric and label its expressions use is one a running serve
// exposes.
func TestPrometheusRules(t *testing.T) {
	doc := parseRepoYAML(t, "deploy/prometheus-rules.yaml")
	groups, _ := yget(doc, "groups").([]any)
	if len(groups) == 0 {
		t.Fatal("no groups")
	}
	// A service to ask which metrics exist: one check, one refused call.
	addr := freeAddr(t)
	e := baseEnv(t, "").at(addr)
	p := serve(t, "serve", e, addr)
	f := newFediverse(t, "127.0.0.14")
	s := register(t, e, f, p.URL, "content_screening")
	if ans, err := s.call(deadline(t, 30*time.Second), p.URL, http.MethodPost, "/spam_detection/v0/content_screening/checks", ordinaryPost(1)); err != nil || ans.Status != 200 {
		t.Fatalf("check: %v %s", err, ans)
	}
	if status, _ := get(p.URL + "/nope"); status != http.StatusNotFound {
		t.Fatalf("404 probe: %d", status)
	}
	resp, err := http.Post(p.URL+"/spam_detection/v0/content_screening/checks", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, exposed := get(p.URL + "/metrics")

	seen := map[string]bool{}
	var alerts []string
	for gi, g := range groups {
		if name, _ := yget(g, "name").(string); name == "" {
			t.Errorf("group %d has no name", gi)
		}
		rules, _ := yget(g, "rules").([]any)
		if len(rules) == 0 {
			t.Errorf("group %d has no rules", gi)
		}
		for _, r := range rules {
			alert, _ := yget(r, "alert").(string)
			expr, _ := yget(r, "expr").(string)
			if !regexp.MustCompile(`^Breakwater[A-Z][A-Za-z0-9]+$`).MatchString(alert) || seen[alert] {
				t.Errorf("alert name %q missing, malformed or repeated", alert)
			}
			seen[alert] = true
			alerts = append(alerts, alert)
			if strings.Count(expr, "(") != strings.Count(expr, ")") || strings.Count(expr, "{") != strings.Count(expr, "}") || strings.TrimSpace(expr) == "" {
				t.Errorf("%s: expression unbalanced or empty: %s", alert, expr)
			}
			if d, _ := yget(r, "for").(string); d != "" {
				if _, err := time.ParseDuration(d); err != nil {
					t.Errorf("%s: for %q: %v", alert, d, err)
				}
			}
			if sev := yget(r, "labels", "severity"); sev != "critical" && sev != "warning" && sev != "info" {
				t.Errorf("%s: severity %v", alert, sev)
			}
			for _, a := range []string{"summary", "description"} {
				if v, _ := yget(r, "annotations", a).(string); v == "" {
					t.Errorf("%s: no %s", alert, a)
				}
			}
			for _, m := range metricNameRe.FindAllString(expr, -1) {
				if m == "up" || m == "probe_success" { // Prometheus's and the blackbox exporter's own
					continue
				}
				if !regexp.MustCompile(`(?m)^` + m + `[{ ]`).MatchString(exposed) {
					t.Errorf("%s uses %s, which serve does not expose", alert, m)
				}
			}
			for _, l := range regexp.MustCompile(`\b(code|route|cause)\s*[=~!]`).FindAllStringSubmatch(expr, -1) {
				if !strings.Contains(exposed, l[1]+`="`) {
					t.Errorf("%s uses label %s, which no exposed series has", alert, l[1])
				}
			}
		}
	}
	for _, need := range []string{"BreakwaterDown", "BreakwaterNotReady", "BreakwaterDatabaseUnavailable", "BreakwaterHigh5xxRate",
		"BreakwaterSlowChecks", "BreakwaterSignatureFailures", "BreakwaterSignatureFailureSpike", "BreakwaterShedding"} {
		if !seen[need] {
			t.Errorf("no %s alert", need)
		}
	}
	t.Logf("%d alerts: %s", len(alerts), strings.Join(alerts, ", "))
}

// serveFlag is one option from `breakwater serve --help`.
type serveFlag struct {
	name, env, def, help string
}

var (
	flagLineRe = regexp.MustCompile(`^  -([a-z0-9-]+)(?: (\w+))?$`)
	envRe      = regexp.MustCompile(`\s*\(\$(BREAKWATER_[A-Z0-9_]+)\)`)
	defaultRe  = regexp.MustCompile(`\s*\(default ([^()]*(?:\([^()]*\))?[^()]*)\)`)
)

// serveFlags runs the built binary's `serve --help` with no BREAKWATER_*
// variables set, so the defaults are the built-in ones.
func serveFlags(t *testing.T) []serveFlag {
	t.Helper()
	_, help, err := cliResult(env{}, "", "serve", "--help")
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, help)
	}
	var flags []serveFlag
	lines := strings.Split(help, "\n")
	for i := 0; i < len(lines); i++ {
		m := flagLineRe.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		f := serveFlag{name: m[1]}
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "    \t") {
			i++
			f.help = strings.TrimSpace(f.help + " " + strings.TrimSpace(lines[i]))
		}
		if e := envRe.FindStringSubmatch(f.help); e != nil {
			f.env = e[1]
		}
		if d := defaultRe.FindStringSubmatch(f.help); d != nil {
			f.def = strings.Trim(d[1], `"`)
		}
		f.help = strings.TrimSpace(defaultRe.ReplaceAllString(envRe.ReplaceAllString(f.help, ""), ""))
		flags = append(flags, f)
	}
	if len(flags) < 20 {
		t.Fatalf("only %d flags parsed from serve --help:\n%s", len(flags), help)
	}
	return flags
}

const (
	flagsBegin = "<!-- BEGIN serve flags: generated from `breakwater serve --help` by `go test ./e2e -run TestOperationsDocFlags -update` -->"
	flagsEnd   = "<!-- END serve flags -->"
)

func flagTable(flags []serveFlag) string {
	var b strings.Builder
	b.WriteString("| flag | variable | default | meaning |\n| --- | --- | --- | --- |\n")
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, f := range flags {
		def := "empty"
		if f.def != "" {
			def = "`" + cell(f.def) + "`"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s |\n", f.name, f.env, def, cell(f.help))
	}
	return b.String()
}

// TestOperationsDocFlags: every option of `breakwater serve`, flag and
// variable, appears in docs/operations.md. The table there is generated
// from --help; run the test with -update to regenerate it after adding or
// changing an option.
func TestOperationsDocFlags(t *testing.T) {
	flags := serveFlags(t)
	doc := readRepoFile(t, "docs/operations.md")
	if *updateDocs {
		start, end := strings.Index(doc, flagsBegin), strings.Index(doc, flagsEnd)
		if start < 0 || end < start {
			t.Fatalf("docs/operations.md lacks the markers %q ... %q", flagsBegin, flagsEnd)
		}
		doc = doc[:start+len(flagsBegin)] + "\n" + flagTable(flags) + doc[end:]
		if err := os.WriteFile("../docs/operations.md", []byte(doc), 0o644); err != nil { //nolint:gosec // a documentation file
			t.Fatal(err)
		}
		t.Logf("rewrote the table of %d flags", len(flags))
	}
	for _, f := range flags {
		if f.env == "" {
			t.Errorf("--%s has no BREAKWATER_* variable in its help", f.name)
		}
		if !strings.Contains(doc, "`--"+f.name+"`") || !strings.Contains(doc, "`"+f.env+"`") {
			t.Errorf("docs/operations.md does not document --%s ($%s); run go test ./e2e -run TestOperationsDocFlags -update", f.name, f.env)
		}
	}
}
