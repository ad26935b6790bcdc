package models_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func open(t *testing.T, tg testdb.Target) *models.DB {
	t.Helper()
	db, err := models.Open(context.Background(), models.Options{URL: tg.URL, SQLitePath: tg.Path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// migrated opens tg's database with every migration applied.
func migrated(t *testing.T, tg testdb.Target) *models.DB {
	t.Helper()
	db := open(t, tg)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestMigrateKeepsData: migrating is idempotent, and reopening and
// migrating an existing database keeps what it holds.
func TestMigrateKeepsData(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := open(t, tg)
		ran, err := db.Migrate(ctx)
		if err != nil || len(ran) == 0 {
			t.Fatalf("first migrate: %v %v", ran, err)
		}
		now := time.Now().UTC()
		if err := db.CreateServer(ctx, &models.Server{ID: "s1", Domain: "a.example", Status: models.ServerActive, CreatedAt: now},
			&models.ServerKey{PrivateKey: "sealed", PublicKey: "pub", State: models.KeyActive, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
		db = open(t, tg)
		ran, err = db.Migrate(ctx)
		if err != nil || len(ran) != 0 {
			t.Fatalf("second migrate ran %v, %v", ran, err)
		}
		if v, _ := db.SchemaVersion(ctx); v != models.LatestVersion() {
			t.Fatalf("schema version %d, want %d", v, models.LatestVersion())
		}
		if s, err := db.GetServer(ctx, "s1"); err != nil || s.Domain != "a.example" {
			t.Fatalf("data lost across migration: %v %v", s, err)
		}
	})
}

// TestTenantScopedQueries: a query about one server never returns another's rows.
func TestTenantScopedQueries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := migrated(t, tg)
		now := time.Now().UTC()
		for _, id := range []string{"a", "b"} {
			if err := db.CreateServer(ctx, &models.Server{ID: id, Status: models.ServerActive, CreatedAt: now},
				&models.ServerKey{PrivateKey: "x", PublicKey: "y", State: models.KeyActive, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.InsertCheck(ctx, &models.Check{ID: "c1", ServerID: "a", Gate: "signup", Decision: "allow", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetCheck(ctx, "b", "c1"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("server b reads a's check: %v", err)
		}
		if _, _, err := db.SetVerdict(ctx, "b", "c1", "spam", "", now); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("server b labels a's check: %v", err)
		}
		if err := db.EraseCheck(ctx, "b", "c1"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("server b erases a's check: %v", err)
		}
		if list, _ := db.ListChecks(ctx, "b", models.CheckFilter{}); len(list) != 0 {
			t.Errorf("server b lists a's checks: %v", list)
		}
		if c, err := db.GetCheck(ctx, "a", "c1"); err != nil || c.Erased {
			t.Errorf("a's check damaged: %+v %v", c, err)
		}
	})
}

// TestCheckWriterGroupCommit: concurrent writes all land, each caller
// returning only after its row is readable.
func TestCheckWriterGroupCommit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := migrated(t, tg)
		w := models.NewCheckWriter(db, 16, 5*time.Millisecond)
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				id := fmt.Sprintf("c%03d", i)
				if err := w.Write(ctx, &models.Check{ID: id, ServerID: "s", Gate: "content", Decision: "allow", CreatedAt: time.Now().UTC()}); err != nil {
					errs <- err
					return
				}
				if _, err := db.GetCheck(ctx, "s", id); err != nil {
					errs <- fmt.Errorf("%s acknowledged but not readable: %w", id, err)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		// A duplicate id fails alone, not its batch neighbours.
		err := w.Write(ctx, &models.Check{ID: "c000", ServerID: "s", Gate: "content", Decision: "allow", CreatedAt: time.Now().UTC()})
		if err == nil {
			t.Error("duplicate check id accepted")
		}
		w.Close()
		if err := w.Write(ctx, &models.Check{ID: "late", ServerID: "s"}); !errors.Is(err, models.ErrWriterClosed) {
			t.Errorf("write after close: %v", err)
		}
	})
}

// TestCheckWriterStoresWhatInsertCheckStores pins the hand-built batch
// INSERT to gorm's Create: every column, stored in the same form.
func TestCheckWriterStoresWhatInsertCheckStores(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := migrated(t, tg)
		w := models.NewCheckWriter(db, 4, time.Millisecond)
		defer w.Close()
		at := time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.FixedZone("x", 3600))
		verdictAt := at.Add(time.Hour)
		for _, tc := range []struct {
			name string
			c    models.Check
		}{
			{"every column", models.Check{ServerID: "s", Gate: "content", Decision: "reject", Score: 87, Reasons: `[{"code":"a"}]`,
				CampaignID: "camp", Features: `{"f":1}`, SubjectKey: "subj", CreatedAt: at, Verdict: "spam", Note: "n\u00e9'\"",
				VerdictAt: &verdictAt, Erased: true}},
			{"zero values", models.Check{ServerID: "s", Gate: "signup", Decision: "allow", CreatedAt: at.UTC()}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				viaGorm, viaWriter := tc.c, tc.c
				viaGorm.ID, viaWriter.ID = "g-"+tc.c.Gate, "w-"+tc.c.Gate
				if err := db.InsertCheck(ctx, &viaGorm); err != nil {
					t.Fatal(err)
				}
				if err := w.Write(ctx, &viaWriter); err != nil {
					t.Fatal(err)
				}
				type stored struct {
					Check              models.Check
					CreatedAt, Verdict string
				}
				load := func(id string) stored {
					t.Helper()
					got, err := db.GetCheck(ctx, "s", id)
					if err != nil {
						t.Fatal(err)
					}
					var text struct{ CreatedAt, VerdictAt string }
					if err := db.Raw("SELECT CAST(created_at AS TEXT) AS created_at, COALESCE(CAST(verdict_at AS TEXT), '') AS verdict_at FROM checks WHERE id = ?", id).
						Scan(&text).Error; err != nil {
						t.Fatal(err)
					}
					got.ID = ""
					return stored{Check: *got, CreatedAt: text.CreatedAt, Verdict: text.VerdictAt}
				}
				g, wr := load(viaGorm.ID), load(viaWriter.ID)
				if !reflect.DeepEqual(g, wr) {
					t.Errorf("stored differently:\n gorm   %+v\n writer %+v", g, wr)
				}
			})
		}
	})
}

func TestSignatureReplayRecord(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := migrated(t, tg)
		exp := time.Now().Add(time.Minute)
		if fresh, err := db.RememberSignature(ctx, "k1", exp); err != nil || !fresh {
			t.Fatalf("first: %v %v", fresh, err)
		}
		if fresh, err := db.RememberSignature(ctx, "k1", exp); err != nil || fresh {
			t.Fatalf("replay not detected: %v %v", fresh, err)
		}
		if n, err := db.PruneSignatures(ctx, time.Now().Add(2*time.Minute)); err != nil || n != 1 {
			t.Fatalf("prune: %d %v", n, err)
		}
	})
}

// TestSignatureRecorderBatches: concurrent signatures are recorded in
// batches; of identical ones exactly one is fresh, inside or across batches,
// and flushers inserting the same keys in different orders never deadlock
// (rounds of callers arriving in a scrambled key order).
func TestSignatureRecorderBatches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := migrated(t, tg)
		r := models.NewSignatureRecorder(db)
		defer r.Close()
		for round := 0; round < 10; round++ {
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				fresh = map[string]int{}
			)
			for i := 0; i < 300; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					key := fmt.Sprintf("sig-%d-%d", round, (i*37)%100) // every key three times
					ok, err := r.Remember(ctx, key, time.Now().Add(time.Minute))
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						mu.Lock()
						fresh[key]++
						mu.Unlock()
					}
				}(i)
			}
			wg.Wait()
			if t.Failed() {
				t.FailNow()
			}
			if len(fresh) != 100 {
				t.Fatalf("round %d: %d keys fresh, want 100", round, len(fresh))
			}
			for k, n := range fresh {
				if n != 1 {
					t.Errorf("%s fresh %d times", k, n)
				}
			}
		}
	})
}
