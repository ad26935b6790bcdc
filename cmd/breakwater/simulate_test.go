package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSimulateReduced runs the three waves at a tenth of their length with
// a fifth of the ordinary traffic on eight servers, on the simulated clock,
// and checks the targets on the run it writes: at least 99% of
// attack posts after the first 20 held or rejected, no ordinary check
// rejected and at most 0.1% reviewed, a campaign within 60 simulated
// seconds of each wave.
func TestSimulateReduced(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real Breakwater through three scenarios")
	}
	out := filepath.Join(t.TempDir(), "run.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"simulate", "--servers", "8", "--warmup", "20m", "--scale", "0.1", "--ordinary", "0.2",
		"--cooldown", "1m", "--seed", "7", "--bootstrap", "0", "--json", out, "--data-dir", t.TempDir()}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("simulate exited %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "spam caught over time") || !strings.Contains(stdout.String(), "may2023") {
		t.Fatalf("table missing:\n%s", stdout.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r simRun
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Scenarios) != 3 {
		t.Fatalf("%d scenarios", len(r.Scenarios))
	}
	for _, s := range r.Scenarios {
		t.Logf("%s: %d attack posts, %d/%d after the first 20 caught, %d ordinary (%d reviews, %d rejects), campaign after %.0fs, %d requests in %.1fs",
			s.Scenario, s.AttackPosts, s.AfterFirst20Caught, s.AfterFirst20, s.Ordinary, s.OrdinaryReviews, s.OrdinaryRejects,
			s.DetectionSeconds, s.Requests, s.WallSeconds)
		switch {
		case s.Errors != 0:
			t.Errorf("%s: %d requests failed", s.Scenario, s.Errors)
		case s.AfterFirst20 < 50:
			t.Errorf("%s: only %d attack posts after the first 20", s.Scenario, s.AfterFirst20)
		case float64(s.AfterFirst20Caught) < 0.99*float64(s.AfterFirst20):
			t.Errorf("%s: %d of %d attack posts after the first 20 caught", s.Scenario, s.AfterFirst20Caught, s.AfterFirst20)
		case s.OrdinaryRejects != 0 || float64(s.OrdinaryReviews) > 0.001*float64(s.Ordinary):
			t.Errorf("%s: ordinary traffic %d reviews, %d rejects of %d", s.Scenario, s.OrdinaryReviews, s.OrdinaryRejects, s.Ordinary)
		case s.DetectionSeconds < 0 || s.DetectionSeconds > 60:
			t.Errorf("%s: campaign after %.0f simulated seconds", s.Scenario, s.DetectionSeconds)
		case s.Ordinary < 200:
			t.Errorf("%s: only %d ordinary checks", s.Scenario, s.Ordinary)
		case !s.Pass:
			t.Errorf("%s: %v", s.Scenario, s.Failures)
		}
		for _, c := range s.Campaigns {
			if c.OpenedAfterSeconds < 0 {
				t.Errorf("%s: campaign %s (%s) opened on ordinary traffic before the wave", s.Scenario, c.ID, c.Label)
			}
		}
	}
}

// TestSimulateRunReproducible: two runs of a seed decide alike, check for
// check (the secret, and so every fingerprint, and the hour the simulated
// clock starts on are fixed by the seed).
func TestSimulateRunReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real Breakwater twice")
	}
	var runs []simResult
	for i := 0; i < 2; i++ {
		out := filepath.Join(t.TempDir(), "run.json")
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"simulate", "--scenarios", "feb2024", "--servers", "8", "--warmup", "10m", "--scale", "0.1",
			"--ordinary", "0.2", "--cooldown", "30s", "--seed", "11", "--bootstrap", "0", "--json", out, "--data-dir", t.TempDir()},
			strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("simulate exited %d: %s", code, stderr.String())
		}
		b, _ := os.ReadFile(out)
		var r simRun
		if err := json.Unmarshal(b, &r); err != nil || len(r.Scenarios) != 1 {
			t.Fatalf("run: %v", err)
		}
		s := r.Scenarios[0]
		s.WallSeconds = 0
		for i := range s.Campaigns {
			s.Campaigns[i].ID = ""
		}
		runs = append(runs, s)
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatalf("two runs of one seed differ:\n%+v\n%+v", runs[0], runs[1])
	}
}

// TestSimulatePlanReproducible: the same seed gives the same traffic, a
// different seed different traffic.
func TestSimulatePlanReproducible(t *testing.T) {
	spec := simSpec{seed: 3, servers: 8, warmup: 10 * time.Minute, scale: 0.1, ordinary: 0.2, cooldown: time.Minute}
	start := time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC)
	for _, name := range scenarioNames {
		a, err := planScenario(spec, name, start)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := planScenario(spec, name, start)
		if len(a.events) < 100 || !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: %d events, same seed differs: %v", name, len(a.events), !reflect.DeepEqual(a, b))
		}
		other := spec
		other.seed = 4
		c, _ := planScenario(other, name, start)
		if reflect.DeepEqual(a.events, c.events) {
			t.Fatalf("%s: another seed gives the same traffic", name)
		}
		attack := 0
		for _, e := range a.events {
			if e.attack {
				attack++
			}
			if e.at < 0 || e.at >= a.total || e.server < 0 || e.server >= spec.servers || (e.signup == nil) == (e.content == nil) {
				t.Fatalf("%s: bad event %+v", name, e)
			}
		}
		if attack == 0 || attack == len(a.events) {
			t.Fatalf("%s: %d attack events of %d", name, attack, len(a.events))
		}
	}
	if _, err := planScenario(spec, "dec2025", start); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}
