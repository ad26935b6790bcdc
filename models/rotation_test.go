package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// TestEraseSubjectKeys: an erasure matches any of the subject keys it is
// given (the hashes under each configured secret key), on one server or on
// all; never another subject's checks, never another server's when one is
// named, and never the already erased checks, whose subject key is empty.
func TestEraseSubjectKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := migrated(t, tg)
		now := time.Now().UTC()
		add := func(id, server, subject string) {
			t.Helper()
			if err := db.InsertCheck(ctx, &models.Check{ID: id, ServerID: server, Gate: "signup", Decision: "allow",
				Reasons: `["r"]`, Features: `{"f":1}`, SubjectKey: subject, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		add("new-a", "a", "hash-new")
		add("old-a", "a", "hash-old")
		add("old-b", "b", "hash-old")
		add("other-a", "a", "hash-other")
		add("blank-a", "a", "") // as an erased check has it
		erased := func(id string) bool {
			t.Helper()
			var c models.Check
			if err := db.WithContext(ctx).Where("id = ?", id).Take(&c).Error; err != nil {
				t.Fatal(err)
			}
			return c.Erased
		}

		if n, err := db.EraseSubject(ctx, "a", []string{"hash-new", "hash-old", ""}); err != nil || n != 2 {
			t.Fatalf("erase on server a: %d %v, want new-a and old-a", n, err)
		}
		for id, want := range map[string]bool{"new-a": true, "old-a": true, "old-b": false, "other-a": false, "blank-a": false} {
			if erased(id) != want {
				t.Errorf("after erasing on server a: %s erased = %v, want %v", id, !want, want)
			}
		}
		if n, err := db.EraseSubject(ctx, "", []string{"hash-new", "hash-old"}); err != nil || n != 1 || !erased("old-b") {
			t.Fatalf("erase on every server: %d %v, want old-b", n, err)
		}
		if n, err := db.EraseSubject(ctx, "", []string{""}); err != nil || n != 0 || erased("blank-a") {
			t.Fatalf("an empty subject key erased %d checks (%v)", n, err)
		}
		if n, err := db.EraseSubject(ctx, "", nil); err != nil || n != 0 {
			t.Fatalf("no subject keys: %d %v", n, err)
		}
	})
}

// TestSealedValues: every sealed column pages in key order (numerically for
// numeric ids, so row 10 comes after row 9) and skips empty values; a
// replacement applies only where the row still holds the value read.
func TestSealedValues(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := migrated(t, tg)
		now := time.Now().UTC()
		past := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		for i := range 11 { // ids 1…11
			id := fmt.Sprintf("s%02d", i)
			if err := db.CreateServer(ctx, &models.Server{ID: id, Domain: id + ".example", Status: models.ServerActive, CreatedAt: now},
				&models.ServerKey{PrivateKey: fmt.Sprintf("key-%d", i+1), PublicKey: "pub", State: models.KeyActive, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"s01", "s00"} {
			if err := db.SaveMastodonConnection(ctx, &models.MastodonConnection{ServerID: id, APIURL: "https://" + id + ".example",
				AccessToken: "token-" + id, WebhookSecret: "secret-" + id, CreatedAt: past, UpdatedAt: past}); err != nil {
				t.Fatal(err)
			}
		}
		for i, payload := range []string{"event-1", "", "event-3"} { // the second one processed: payload erased
			if _, err := db.InsertMastodonEvent(ctx, &models.MastodonEvent{ServerID: "s00", EventType: "account.created",
				ObjectKey: fmt.Sprint(i), ObjectID: fmt.Sprint(i), Payload: payload, State: models.MastodonPending,
				NextAttemptAt: now, ReceivedAt: now}); err != nil {
				t.Fatal(err)
			}
		}

		all := func(col models.SealedColumn, batch int) []models.SealedValue {
			t.Helper()
			var out []models.SealedValue
			after := ""
			for range 100 {
				page, err := db.SealedValues(ctx, col, after, batch)
				if err != nil {
					t.Fatalf("column %d after %q: %v", col, after, err)
				}
				out = append(out, page...)
				if len(page) < batch {
					return out
				}
				after = page[len(page)-1].Row
			}
			t.Fatalf("column %d: paging does not end", col)
			return nil
		}
		values := func(vs []models.SealedValue) string {
			s := ""
			for _, v := range vs {
				s += v.Row + "=" + v.Value + " "
			}
			return s
		}
		want := map[models.SealedColumn]string{
			models.SealedServerKeys:             "1=key-1 2=key-2 3=key-3 4=key-4 5=key-5 6=key-6 7=key-7 8=key-8 9=key-9 10=key-10 11=key-11 ",
			models.SealedMastodonTokens:         "s00=token-s00 s01=token-s01 ",
			models.SealedMastodonWebhookSecrets: "s00=secret-s00 s01=secret-s01 ",
			models.SealedMastodonEvents:         "1=event-1 3=event-3 ",
		}
		if len(models.SealedColumns()) != len(want) {
			t.Fatalf("SealedColumns lists %d columns; this test knows %d", len(models.SealedColumns()), len(want))
		}
		for _, col := range models.SealedColumns() {
			for _, batch := range []int{1, 2, 500} {
				if got := values(all(col, batch)); got != want[col] {
					t.Errorf("column %d, batch %d: %s, want %s", col, batch, got, want[col])
				}
			}
		}

		n, err := db.ReplaceSealedValues(ctx, models.SealedServerKeys, []models.SealedChange{
			{Row: "10", Old: "key-10", New: "resealed-10"},
			{Row: "2", Old: "stale", New: "resealed-2"}, // changed since it was read: left alone
		})
		if err != nil || n != 1 {
			t.Fatalf("replace server keys: %d %v, want 1", n, err)
		}
		if n, err := db.ReplaceSealedValues(ctx, models.SealedMastodonWebhookSecrets, []models.SealedChange{
			{Row: "s01", Old: "secret-s01", New: "resealed-s01"}}); err != nil || n != 1 {
			t.Fatalf("replace webhook secret: %d %v", n, err)
		}
		if n, err := db.ReplaceSealedValues(ctx, models.SealedMastodonEvents, []models.SealedChange{
			{Row: "3", Old: "event-3", New: "resealed-3"}}); err != nil || n != 1 {
			t.Fatalf("replace event payload: %d %v", n, err)
		}
		want[models.SealedServerKeys] = "1=key-1 2=key-2 3=key-3 4=key-4 5=key-5 6=key-6 7=key-7 8=key-8 9=key-9 10=resealed-10 11=key-11 "
		want[models.SealedMastodonWebhookSecrets] = "s00=secret-s00 s01=resealed-s01 "
		want[models.SealedMastodonEvents] = "1=event-1 3=resealed-3 "
		for _, col := range models.SealedColumns() {
			if got := values(all(col, 500)); got != want[col] {
				t.Errorf("after replacing, column %d: %s, want %s", col, got, want[col])
			}
		}
		c, err := db.GetMastodonConnection(ctx, "s01")
		if err != nil || c.AccessToken != "token-s01" || !c.UpdatedAt.Equal(past) {
			t.Errorf("re-sealing the webhook secret touched the rest of the row: %+v %v", c, err)
		}
		if _, err := db.SealedValues(ctx, models.SealedColumn(99), "", 10); err == nil {
			t.Error("an unknown column was accepted")
		}
	})
}
