package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models"
)

// seedCampaign stores a campaign directly, as a running serve would have.
func seedCampaign(t *testing.T, id, serverID string) {
	t.Helper()
	ctx := context.Background()
	db, err := models.Open(ctx, models.Options{SQLitePath: filepath.Join(getenv(t, "BREAKWATER_DATA_DIR"), "breakwater.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Second)
	c := &models.Campaign{ID: id, Kind: "text", Label: "mass-mention posts", Status: "active", Evidence: `{"texts":[12345]}`,
		OpenedAt: now.Add(-time.Hour), LastHitAt: now, Hits: 42, UpdatedAt: now}
	servers := []models.CampaignServer{{CampaignID: id, ServerID: serverID, FirstSeen: now.Add(-time.Hour), LastSeen: now, Hits: 42, Accounts: 9, Samples: `["chk_1"]`}}
	origins := []models.CampaignOrigin{{CampaignID: id, Domain: "spam.example", FirstSeen: now.Add(-time.Hour), LastSeen: now, Hits: 42, Accounts: 9, Source: true, Samples: `[]`}}
	if _, err := db.OpenCampaign(ctx, c, servers, origins, func([]models.Campaign) string { return "" }, ""); err != nil {
		t.Fatal(err)
	}
	rep := []models.OriginReputation{{Domain: "spam.example", Score: 40, ScoreAt: now, FirstSeen: now.Add(-time.Hour), LastSeen: now, Hits: 42, UpdatedAt: now}}
	if err := db.SaveOriginReputations(ctx, rep); err != nil {
		t.Fatal(err)
	}
}

func getenv(t *testing.T, k string) string {
	t.Helper()
	var b bytes.Buffer
	cfg, _, err := parseFlags("test", nil, stdio{out: &b, err: &b}, nil)
	if err != nil || k != "BREAKWATER_DATA_DIR" {
		t.Fatal(err)
	}
	return cfg.DataDir
}

func TestCampaignsCommand(t *testing.T) {
	cliEnv(t)
	m := handlertest.NewMastodon(t)
	reg := registerForCLI(t, m.Server.URL)
	seedCampaign(t, "cmp_cli", reg.ServerID)

	code, out, errOut := runCLI(t, "", "campaigns", "list")
	if code != 0 || !strings.Contains(out, "cmp_cli") || !strings.Contains(out, "mass-mention posts") {
		t.Fatalf("list: %d %s %s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "campaigns", "show", "cmp_cli")
	if code != 0 || !strings.Contains(out, "spam.example") || !strings.Contains(out, reg.ServerID) || !strings.Contains(out, "expires") {
		t.Fatalf("show: %d %s", code, out)
	}
	code, out, errOut = runCLI(t, "", "campaigns", "origins")
	if code != 0 || !strings.Contains(out, "spam.example") || !strings.Contains(out, "cmp_cli") || !strings.Contains(out, "40.0") {
		t.Fatalf("origins: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "campaigns", "confirm", "cmp_cli", "--by", "ops", "--json")
	var d struct {
		Status            string
		OperatorConfirmed bool
		ConfirmedBy       string
	}
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || !d.OperatorConfirmed || d.ConfirmedBy != "ops" {
		t.Fatalf("confirm: %d %s %s", code, out, errOut)
	}
	if code, out, _ = runCLI(t, "", "campaigns", "dismiss", "cmp_cli", "--json"); code != 0 || !strings.Contains(out, `"status": "dismissed"`) {
		t.Fatalf("dismiss: %d %s", code, out)
	}
	if code, _, errOut = runCLI(t, "", "campaigns", "extend", "cmp_cli"); code != 1 || !strings.Contains(errOut, "dismissed") {
		t.Fatalf("extend a dismissed campaign: %d %s", code, errOut)
	}
	if code, out, _ = runCLI(t, "", "campaigns", "list", "--status", "dismissed"); code != 0 || !strings.Contains(out, "cmp_cli") {
		t.Fatalf("list dismissed: %d %s", code, out)
	}
	if code, _, _ = runCLI(t, "", "campaigns", "show", "cmp_nope"); code != 1 {
		t.Fatalf("unknown campaign: exit %d", code)
	}
	if code, _, _ = runCLI(t, "", "campaigns", "frobnicate"); code != 2 {
		t.Fatalf("unknown subcommand: exit %d", code)
	}

	// Where alerts go.
	code, out, errOut = runCLI(t, "", "campaigns", "alerts", reg.ServerID, "--webhook-url", "https://hooks.example/breakwater", "--email", "mods@one.example")
	if code != 0 || !strings.Contains(out, "https://hooks.example/breakwater") || !strings.Contains(out, "mods@one.example") {
		t.Fatalf("alerts: %d %s %s", code, out, errOut)
	}
	if code, _, errOut = runCLI(t, "", "campaigns", "alerts", reg.ServerID, "--email", "Mods <mods@one.example>"); code != 1 || !strings.Contains(errOut, "email") {
		t.Fatalf("bad address: %d %s", code, errOut)
	}
	if code, out, _ = runCLI(t, "", "campaigns", "alerts", reg.ServerID, "--clear", "--test"); code != 0 || !strings.Contains(out, "webhook: (none)") {
		t.Fatalf("clear: %d %s", code, out)
	}
}
