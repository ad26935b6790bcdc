package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// waveText is long enough to be fingerprinted, and not ordinary chatter.
const waveText = "Claim your free crypto airdrop today only, verify your wallet at the official portal before the bonus pool runs out, limited seats"

// reasonCodes lists the reason codes of a check answer.
func reasonCodes(a *answer) []string {
	var codes []string
	rs, _ := a.JSON()["reasons"].([]any)
	for _, r := range rs {
		if m, ok := r.(map[string]any); ok {
			codes = append(codes, fmt.Sprint(m["code"]))
		}
	}
	return codes
}

// TestReplicasDecideAsOne runs two `breakwater serve` replicas on one
// PostgreSQL behind one public URL and splits a near-duplicate wave between
// them: the checks made on replica 1 change replica 2's decisions within a
// second (the shared windows), a campaign opened on one is applied by the
// other within a second (when the binary has campaigns), and a signature
// used on one replica is refused as a replay by the other.
func TestReplicasDecideAsOne(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	tg := testdb.Postgres(t)
	addr1, addr2 := freeAddr(t), freeAddr(t)
	e := baseEnv(t, tg.URL).with("BREAKWATER_PUBLIC_URL", "http://"+addr1) // the address behind the "load balancer"
	r1 := serve(t, "replica-1", e, addr1)
	r2 := serve(t, "replica-2", e, addr2)

	fa, fb := newFediverse(t, "127.0.0.2"), newFediverse(t, "127.0.0.3")
	a := register(t, e, fa, r1.URL, "content_screening")
	b := register(t, e, fb, r2.URL, "content_screening")

	check := func(s *fedServer, r *proc, acct string) *answer {
		t.Helper()
		ans, err := s.call(ctx, r.URL, http.MethodPost, "/spam_detection/v0/content_screening/checks", post(acct, waveText))
		if err != nil || ans.Status != http.StatusOK {
			t.Fatalf("check on %s: %v %s", r.name, err, ans)
		}
		return ans
	}

	// Two accounts of server A post the text through replica 1.
	for _, acct := range []string{"wave1", "wave2"} {
		if codes := reasonCodes(check(a, r1, acct)); slices.Contains(codes, "near_duplicate_text") {
			t.Fatalf("replica 1 flagged the wave before it was one: %v", codes)
		}
	}
	// Server B's account posts it through replica 2 until replica 2 sees
	// the two posts it never screened itself.
	stored := time.Now()
	var seenAfter time.Duration
	for {
		ans := check(b, r2, "wave3")
		if slices.Contains(reasonCodes(ans), "near_duplicate_text") {
			seenAfter = time.Since(stored)
			t.Logf("replica 2 applied replica 1's checks %s after they were answered (decision %v)", seenAfter.Round(time.Millisecond), ans.JSON()["decision"])
			break
		}
		if time.Since(stored) > time.Second {
			t.Fatalf("replica 2 did not apply replica 1's checks within 1s: reasons %v", reasonCodes(ans))
		}
		time.Sleep(25 * time.Millisecond)
	}

	// Campaigns: when this build has them (the server feed exists), the
	// wave opens one, and both replicas must apply it within a second of
	// the first answer that carried it.
	if status, _ := get(r1.URL + "/feeds/servers.csv"); status != http.StatusNotFound {
		first := map[string]time.Time{}
		var id string
		until := time.Now().Add(10 * time.Second)
		for n := 0; len(first) < 2; n++ {
			if time.Now().After(until) {
				t.Fatalf("campaign %q reached only %v within 10s", id, first)
			}
			s, r := a, r1
			if n%2 == 1 {
				s, r = b, r2
			}
			got, _ := check(s, r, fmt.Sprintf("wave%d", 10+n)).JSON()["campaignId"].(string)
			switch {
			case got == "":
			case id == "":
				id = got
				first[r.name] = time.Now()
			case got != id:
				t.Fatalf("replicas disagree on the campaign: %s answered %s, the other %s", r.name, got, id)
			default:
				if _, ok := first[r.name]; !ok {
					first[r.name] = time.Now()
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		lag := first["replica-1"].Sub(first["replica-2"]).Abs()
		t.Logf("campaign %s applied by both replicas; the second applied it %s after the first", id, lag.Round(time.Millisecond))
		if lag > time.Second {
			t.Errorf("the second replica applied the campaign %s after the first, want ≤ 1s", lag)
		}
	} else {
		t.Log("this build has no campaigns (no /feeds/servers.csv): only the shared windows are shown")
	}

	// A signature used on replica 1 is a replay on replica 2.
	sr, err := a.sign(http.MethodPost, "/spam_detection/v0/content_screening/checks", ordinaryPost(1))
	if err != nil {
		t.Fatal(err)
	}
	if ans, err := a.send(ctx, r1.URL, sr); err != nil || ans.Status != http.StatusOK {
		t.Fatalf("first use on replica 1: %v %s", err, ans)
	}
	for _, r := range []*proc{r2, r1} {
		ans, err := a.send(ctx, r.URL, sr)
		if err != nil || ans.Status != http.StatusUnauthorized || ans.JSON()["error"] != "replayed" {
			t.Errorf("replay to %s: %v %s, want 401 replayed", r.name, err, ans)
		}
	}
}
