package e2e

import (
	"encoding/json"
	"testing"

	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// TestLoadtestCommand: `breakwater loadtest --ceiling --rounds 2` registers
// its simulated servers through the ordinary path, loads the bare
// signature-verifying ceiling and a running service alternately in one run,
// and reports figures with no errors, every answer correctly signed, and
// the ratio of the totals over the rounds.
func TestLoadtestCommand(t *testing.T) {
	addr := freeAddr(t)
	e := baseEnv(t, testdb.SQLite(t).URL).at(addr)
	serve(t, "serve", e, addr)
	out := cli(t, e, "loadtest", "--ceiling", "--json", "--duration", "1s", "--rounds", "2", "--concurrency", "4", "--servers", "2")
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
		Ratio  float64
		Rounds []struct {
			Ratio            float64
			Service, Ceiling struct {
				Throughput float64 `json:"throughputPerSecond"`
			}
		}
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
	if len(res.Rounds) != 2 {
		t.Fatalf("%d rounds reported, want 2", len(res.Rounds))
	}
	var ceil, svc float64
	for _, r := range res.Rounds {
		ceil, svc = ceil+r.Ceiling.Throughput, svc+r.Service.Throughput
	}
	if want := svc / ceil; res.Ratio < want-1e-9 || res.Ratio > want+1e-9 {
		t.Errorf("ratio %.4f, want the rounds' totals' %.4f", res.Ratio, want)
	}
	if d := res.Service.Decisions; d["allow"]+d["review"]+d["reject"] != res.Service.Status["200"] {
		t.Errorf("decisions %v do not add up to the answers", d)
	}
}
