package e2e

import (
	"encoding/json"
	"testing"

	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// TestLoadtestCommand: `breakwater loadtest --ceiling` registers its
// simulated servers through the ordinary path, loads a running service and
// the bare signature-verifying ceiling in one run, and reports figures with
// no errors and every answer correctly signed.
func TestLoadtestCommand(t *testing.T) {
	addr := freeAddr(t)
	e := baseEnv(t, testdb.SQLite(t).URL).at(addr)
	serve(t, "serve", e, addr)
	out := cli(t, e, "loadtest", "--ceiling", "--json", "--duration", "2s", "--concurrency", "4", "--servers", "2")
	var res struct {
		Service, Ceiling struct {
			Requests   int            `json:"requests"`
			Throughput float64        `json:"throughputPerSecond"`
			Status     map[string]int `json:"status"`
			Errors     int            `json:"errors"`
			Unsigned   int            `json:"unsignedAnswers"`
			Decisions  map[string]int `json:"decisions"`
			MemAfter   struct {
				RSS float64 `json:"rssBytes"`
			} `json:"memoryAfter"`
		}
		Ratio float64
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("loadtest --json output: %v\n%s", err, out)
	}
	for name, r := range map[string]struct {
		req, ok, errs int
	}{
		"service": {res.Service.Requests, res.Service.Status["200"], res.Service.Errors + res.Service.Unsigned},
		"ceiling": {res.Ceiling.Requests, res.Ceiling.Status["200"], res.Ceiling.Errors + res.Ceiling.Unsigned},
	} {
		if r.req == 0 || r.ok != r.req || r.errs != 0 {
			t.Errorf("%s: %d requests, %d answered 200, %d errors", name, r.req, r.ok, r.errs)
		}
	}
	if res.Ratio <= 0 || res.Ratio >= 1 || res.Service.MemAfter.RSS == 0 {
		t.Errorf("ratio %.2f, service memory %v: the comparison was not measured", res.Ratio, res.Service.MemAfter.RSS)
	}
	if d := res.Service.Decisions; d["allow"]+d["review"]+d["reject"] != res.Service.Status["200"] {
		t.Errorf("decisions %v do not add up to the answers", d)
	}
}
