package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// TestCampaignStore: opening is deduplicated, hits add up with earliest
// first and latest last seen on both databases, feedback moves counts
// without going negative, and the per-server listing is scoped.
func TestCampaignStore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := migrated(t, tg)
		t0 := time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)
		c := &models.Campaign{ID: "cmp_a", Kind: "text", Status: "active", Evidence: `{"texts":[1]}`, OpenedAt: t0, LastHitAt: t0, Hits: 3, UpdatedAt: t0}
		servers := []models.CampaignServer{{CampaignID: "cmp_a", ServerID: "s1", FirstSeen: t0, LastSeen: t0, Hits: 3, Accounts: 3, Samples: `["c1"]`}}
		origins := []models.CampaignOrigin{{CampaignID: "cmp_a", Domain: "spam.example", FirstSeen: t0, LastSeen: t0, Hits: 3, Accounts: 3, Samples: `[]`}}
		none := func([]models.Campaign) string { return "" }
		if got, err := db.OpenCampaign(ctx, c, servers, origins, none, `{"id":"cmp_a"}`); err != nil || got != "" {
			t.Fatalf("open: %q %v", got, err)
		}
		// A second replica proposing the same campaign finds the first.
		c2 := &models.Campaign{ID: "cmp_b", Kind: "text", Status: "active", OpenedAt: t0, LastHitAt: t0}
		var seen []string
		got, err := db.OpenCampaign(ctx, c2, nil, nil, func(active []models.Campaign) string {
			for _, a := range active {
				seen = append(seen, a.ID)
			}
			return "cmp_a"
		}, "")
		if err != nil || got != "cmp_a" || len(seen) != 1 {
			t.Fatalf("dedupe: %q %v %v", got, seen, err)
		}
		if _, _, _, err := db.GetCampaign(ctx, "cmp_b"); err == nil {
			t.Fatal("the duplicate was stored")
		}

		// Hits from two flushes, out of order in time.
		t1, t2 := t0.Add(-time.Minute), t0.Add(time.Hour)
		for _, h := range []models.CampaignHits{
			{CampaignID: "cmp_a", Hits: 2, LastHitAt: t2, Evidence: `{"texts":[1,2]}`,
				Servers: []models.CampaignServer{{CampaignID: "cmp_a", ServerID: "s1", FirstSeen: t1, LastSeen: t2, Hits: 2, Accounts: 5, Samples: `["c1","c2"]`},
					{CampaignID: "cmp_a", ServerID: "s2", FirstSeen: t2, LastSeen: t2, Hits: 2, Accounts: 2, Samples: `["c9"]`}},
				Origins: []models.CampaignOrigin{{CampaignID: "cmp_a", Domain: "spam.example", FirstSeen: t2, LastSeen: t2, Hits: 2, Accounts: 4, Source: true, SourceAt: &t2, Samples: `[]`}}},
			{CampaignID: "cmp_a", Hits: 1, LastHitAt: t0.Add(time.Minute),
				Servers: []models.CampaignServer{{CampaignID: "cmp_a", ServerID: "s1", FirstSeen: t0, LastSeen: t0.Add(time.Minute), Hits: 1, Accounts: 1, Samples: `["c1"]`}}},
		} {
			if err := db.RecordCampaignHits(ctx, []models.CampaignHits{h}, t2); err != nil {
				t.Fatal(err)
			}
		}
		row, srv, org, err := db.GetCampaign(ctx, "cmp_a")
		if err != nil {
			t.Fatal(err)
		}
		if row.Hits != 6 || !row.LastHitAt.Equal(t2) || row.Evidence != `{"texts":[1,2]}` {
			t.Fatalf("campaign = %+v", row)
		}
		if len(srv) != 2 || srv[0].Hits != 6 || !srv[0].FirstSeen.Equal(t1) || !srv[0].LastSeen.Equal(t2) || srv[0].Accounts != 5 {
			t.Fatalf("servers = %+v", srv)
		}
		if len(org) != 1 || org[0].Hits != 5 || !org[0].Source || org[0].SourceAt == nil || !org[0].FirstSeen.Equal(t0) || !org[0].LastSeen.Equal(t2) {
			t.Fatalf("origins = %+v", org)
		}

		// Feedback: spam, then changed to ham, on a server without hits.
		if err := db.AddCampaignFeedback(ctx, "cmp_a", "s3", 1, 0, t2); err != nil {
			t.Fatal(err)
		}
		if err := db.AddCampaignFeedback(ctx, "cmp_a", "s3", -1, 1, t2); err != nil {
			t.Fatal(err)
		}
		if err := db.AddCampaignFeedback(ctx, "cmp_a", "s3", -1, 0, t2); err != nil {
			t.Fatal(err)
		}
		_, srv, _, _ = db.GetCampaign(ctx, "cmp_a")
		if len(srv) != 3 || srv[2].ServerID != "s3" || srv[2].Spam != 0 || srv[2].Ham != 1 {
			t.Fatalf("feedback rows = %+v", srv)
		}

		// Scoped listing: s2 sees its own row only; s9 nothing.
		camps, rows, err := db.CampaignsForServer(ctx, "s2", 10)
		if err != nil || len(camps) != 1 || len(rows) != 1 || rows[0].ServerID != "s2" {
			t.Fatalf("s2: %+v %+v %v", camps, rows, err)
		}
		if camps, _, _ := db.CampaignsForServer(ctx, "s9", 10); len(camps) != 0 {
			t.Fatalf("another server sees %+v", camps)
		}

		// Expiry is conditional on the stored last hit.
		if ids, err := db.ExpireCampaigns(ctx, []string{"cmp_a"}, t0, t2); err != nil || len(ids) != 0 {
			t.Fatalf("expired a campaign hit after the horizon: %v %v", ids, err)
		}
		if ids, err := db.ExpireCampaigns(ctx, []string{"cmp_a"}, t2.Add(time.Second), t2.Add(time.Hour)); err != nil || len(ids) != 1 {
			t.Fatalf("expire: %v %v", ids, err)
		}
		if ids, _ := db.CampaignsChangedSince(ctx, t2.Add(time.Hour)); len(ids) != 1 {
			t.Fatalf("changed since = %v", ids)
		}
	})
}

// TestAlertQueue: an alert is recorded once per dedupe key, at most perHour
// an hour, and its deliveries are claimed by one worker at a time.
func TestAlertQueue(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := migrated(t, tg)
		t0 := time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)
		insert := func(id, key string, at time.Time) string {
			t.Helper()
			out, err := db.InsertAlert(ctx, &models.Alert{ID: id, ServerID: "s1", DedupeKey: key, Kind: "campaign", Payload: "{}", CreatedAt: at},
				[]models.AlertDelivery{{ServerID: "s1", Channel: "webhook", Target: "https://hooks.example/", Status: models.DeliveryPending, NextAttemptAt: at, CreatedAt: at}}, 2)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := insert("a1", "campaign:x", t0); got != models.AlertCreated {
			t.Fatal(got)
		}
		if got := insert("a2", "campaign:x", t0.Add(time.Minute)); got != models.AlertDuplicate {
			t.Fatal(got)
		}
		if got := insert("a3", "campaign:y", t0.Add(time.Minute)); got != models.AlertCreated {
			t.Fatal(got)
		}
		if got := insert("a4", "campaign:z", t0.Add(2*time.Minute)); got != models.AlertRateLimited {
			t.Fatal(got)
		}
		if got := insert("a5", "campaign:z", t0.Add(2*time.Hour)); got != models.AlertCreated {
			t.Fatal(got)
		}
		claim := func(worker string, now time.Time) []models.AlertDelivery {
			d, err := db.ClaimAlertDeliveries(ctx, models.Claim{Worker: worker, Now: now, Lease: time.Minute, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		got := claim("w1", t0.Add(time.Minute))
		if len(got) != 2 {
			t.Fatalf("due at t0+1m: %d", len(got))
		}
		if again := claim("w2", t0.Add(time.Minute)); len(again) != 0 {
			t.Fatalf("leased deliveries claimed twice: %d", len(again))
		}
		got[0].Status, got[0].Attempts = models.DeliveryDelivered, 1
		got[1].Status, got[1].Attempts, got[1].NextAttemptAt = models.DeliveryPending, 1, t0.Add(10*time.Minute)
		for i := range got {
			if err := db.FinishAlertDelivery(ctx, &got[i]); err != nil {
				t.Fatal(err)
			}
		}
		if later := claim("w2", t0.Add(5*time.Minute)); len(later) != 0 {
			t.Fatalf("retry claimed before its time: %d", len(later))
		}
		if later := claim("w2", t0.Add(11*time.Minute)); len(later) != 1 || later[0].ID != got[1].ID {
			t.Fatalf("retry not claimed: %+v", later)
		}
		alerts, deliveries, err := db.ListAlerts(ctx, "s1", 10)
		if err != nil || len(alerts) != 3 || len(deliveries) != 3 {
			t.Fatalf("list: %d alerts %d deliveries %v", len(alerts), len(deliveries), err)
		}
		if a, _, _ := db.ListAlerts(ctx, "s2", 10); len(a) != 0 {
			t.Fatal("another server's alerts listed")
		}
		if n, err := db.PruneAlerts(ctx, t0.Add(time.Hour)); err != nil || n != 2 {
			t.Fatalf("prune: %d %v", n, err)
		}
		if a, d, _ := db.ListAlerts(ctx, "s1", 10); len(a) != 1 || len(d) != 1 {
			t.Fatalf("after prune: %d alerts %d deliveries", len(a), len(d))
		}
	})
}
