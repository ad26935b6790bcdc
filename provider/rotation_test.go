package provider

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
	"github.com/breakwater-fasp/breakwater/provider/screening"
	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// Secrets of a rotation: the service ran with oldSecret, then with
// "newSecret,oldSecret"; strangerSecret was never configured.
const (
	oldSecret      = "old-secret-key-0123456789abcdefghijklmnopqrs"
	newSecret      = "new-secret-key-0123456789abcdefghijklmnopqrs"
	strangerSecret = "stranger-secret-0123456789abcdefghijklmnopqr"
)

func mustBox(t *testing.T, secret string) *sealbox.Box {
	t.Helper()
	b, err := sealbox.Load(secret, "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openDB opens and migrates a fresh database on tg.
func openDB(t *testing.T, tg testdb.Target) *models.DB {
	t.Helper()
	db, err := models.Open(context.Background(), models.Options{URL: tg.URL, SQLitePath: tg.Path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// newTestService builds a Service on db with box, the way `serve` does
// (the engine keyed from the box), without starting its jobs. Close it to
// flush its check writer.
func newTestService(t *testing.T, db *models.DB, box *sealbox.Box) *Service {
	t.Helper()
	engine, err := screening.New(screening.Options{HashKey: []byte(box.Hash("engine-hash-key", "v1"))})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := url.Parse("https://breakwater.test")
	svc, err := New(Options{PublicURL: pub}, db, box, netguard.New(netguard.Options{}), engine)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	return svc
}

// addServer stores a server with a key pair sealed by svc's primary key and
// returns the private key.
func addServer(t *testing.T, svc *Service, id string) ed25519.PrivateKey {
	t.Helper()
	row, priv, err := svc.newKeyRow()
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.db.CreateServer(context.Background(), &models.Server{ID: id, Domain: id + ".example",
		Status: models.ServerActive, CreatedAt: time.Now().UTC()}, row); err != nil {
		t.Fatal(err)
	}
	return priv
}

// TestErasureAfterKeyRotation: an erasure request made after a secret-key
// rotation finds the person's checks stored before it (subject hashed
// under the old key) as well as after it, by e-mail across servers and by
// account on its server, and nobody else's.
func TestErasureAfterKeyRotation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := openDB(t, tg)
		signup := func(svc *Service, server, user, email string) string {
			t.Helper()
			res, err := svc.ScreenSignupFor(ctx, server, screening.SignupInput{
				Account: screening.SignupAccount{Username: user, Email: email}, IP: "198.51.100.7"})
			if err != nil {
				t.Fatal(err)
			}
			return res.CheckID
		}
		post := func(svc *Service, server, acct, text string) string {
			t.Helper()
			res, err := svc.ScreenContentFor(ctx, server, screening.ContentInput{
				Post:   screening.Post{Text: text, Visibility: "public", Mentions: []screening.Mention{}},
				Author: screening.Author{Acct: acct, Local: true, CreatedAt: time.Now().Add(-100 * 24 * time.Hour)}})
			if err != nil {
				t.Fatal(err)
			}
			return res.CheckID
		}

		before := newTestService(t, db, mustBox(t, oldSecret))
		addServer(t, before, "a")
		addServer(t, before, "b")
		erinOldA := signup(before, "a", "erin", "erin@posteo.de")
		erinOldB := signup(before, "b", "erin_b", "Erin@Posteo.de")
		aliceOld := post(before, "a", "alice", "first post, before the rotation")
		bystanders := []string{
			signup(before, "a", "frank", "frank@posteo.de"),
			post(before, "b", "alice", "another server's alice is another person"),
		}
		if err := before.Close(ctx); err != nil {
			t.Fatal(err)
		}

		after := newTestService(t, db, mustBox(t, newSecret+","+oldSecret))
		erinNew := signup(after, "a", "erin2", "erin@posteo.de")
		aliceNew := post(after, "a", "@alice", "second post, after the rotation")
		bystanders = append(bystanders, signup(after, "b", "frank", "frank@posteo.de"))

		n, err := after.EraseEmail(ctx, " ERIN@posteo.de")
		if err != nil || n != 3 {
			t.Fatalf("erasure by e-mail after the rotation: %d checks (%v), want 3 (two from before it, one after)", n, err)
		}
		n, err = after.EraseAccount(ctx, "a", "alice")
		if err != nil || n != 2 {
			t.Fatalf("erasure by account after the rotation: %d checks (%v), want 2 (one from before it, one after)", n, err)
		}
		for _, c := range []struct {
			server, id string
			erased     bool
		}{
			{"a", erinOldA, true}, {"b", erinOldB, true}, {"a", erinNew, true},
			{"a", aliceOld, true}, {"a", aliceNew, true},
			{"a", bystanders[0], false}, {"b", bystanders[1], false}, {"b", bystanders[2], false},
		} {
			row, err := db.GetCheck(ctx, c.server, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if gone := row.Erased && row.SubjectKey == "" && row.Features == ""; gone != c.erased {
				t.Errorf("check %s on %s: erased=%v subject=%q, want erased %v", c.id, c.server, row.Erased, row.SubjectKey, c.erased)
			}
		}
	})
}

// TestResealSecrets: after a rotation, the re-sealing job turns every
// sealed value (server keys, Mastodon tokens, webhook secrets, queued
// event bodies) over to the new key, so that a service with only the new
// key opens them all; it leaves values already under the new key alone,
// reports a value no configured key opens without touching it, and a
// second run re-seals nothing.
func TestResealSecrets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, tg testdb.Target) {
		ctx := context.Background()
		db := openDB(t, tg)
		oldBox, stranger := mustBox(t, oldSecret), mustBox(t, strangerSecret)
		before := newTestService(t, db, oldBox)
		seal := func(box *sealbox.Box, purpose, plain string) string {
			t.Helper()
			v, err := box.Seal(purpose, []byte(plain))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		privs := map[string]ed25519.PrivateKey{}
		for i := range 3 {
			id := fmt.Sprintf("old%d", i)
			privs[id] = addServer(t, before, id)
		}
		now := time.Now().UTC()
		for _, id := range []string{"old0", "old1"} {
			if err := db.SaveMastodonConnection(ctx, &models.MastodonConnection{ServerID: id, APIURL: "https://" + id + ".example",
				AccessToken: seal(oldBox, sealMastodonToken, "token-"+id), WebhookSecret: seal(oldBox, sealMastodonSecret, "secret-"+id),
				CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		events := map[string]string{"e1": seal(oldBox, sealMastodonEvent, `{"event":"e1"}`), "e2": "",
			"e3": seal(oldBox, sealMastodonEvent, `{"event":"e3"}`),
			"e4": seal(stranger, sealMastodonEvent, `{"event":"e4"}`)} // sealed with a key nobody configured
		for _, key := range []string{"e1", "e2", "e3", "e4"} {
			if _, err := db.InsertMastodonEvent(ctx, &models.MastodonEvent{ServerID: "old0", EventType: "account.created",
				ObjectKey: key, ObjectID: key, Payload: events[key], State: models.MastodonPending, NextAttemptAt: now, ReceivedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if err := before.Close(ctx); err != nil {
			t.Fatal(err)
		}

		rotated := newTestService(t, db, mustBox(t, newSecret+","+oldSecret))
		privs["new0"] = addServer(t, rotated, "new0") // sealed with the new key from the start

		want := []ResealCount{
			{Kind: sealPurposeServerKey, Resealed: 3, Current: 1},
			{Kind: sealMastodonToken, Resealed: 2},
			{Kind: sealMastodonSecret, Resealed: 2},
			{Kind: sealMastodonEvent, Resealed: 2, Failed: 1, FailedRows: []string{"4"}},
		}
		got, err := rotated.ResealSecrets(ctx, ResealOptions{Batch: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !equalCounts(got, want) {
			t.Fatalf("first run: %+v\nwant %+v", got, want)
		}

		// Only the new key now: everything opens, with what was sealed.
		newOnly := mustBox(t, newSecret)
		open := func(purpose, sealed string) string {
			t.Helper()
			b, err := newOnly.Open(purpose, sealed)
			if err != nil {
				t.Fatalf("%s value does not open with the new key alone: %v", purpose, err)
			}
			return string(b)
		}
		for id, priv := range privs {
			keys, err := db.AllKeys(ctx, id)
			if err != nil || len(keys) != 1 {
				t.Fatalf("keys of %s: %v %v", id, keys, err)
			}
			if seed := open(sealPurposeServerKey, keys[0].PrivateKey); seed != string(priv.Seed()) {
				t.Errorf("server %s: the re-sealed private key is not the one stored", id)
			}
		}
		for _, id := range []string{"old0", "old1"} {
			c, err := db.GetMastodonConnection(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if open(sealMastodonToken, c.AccessToken) != "token-"+id || open(sealMastodonSecret, c.WebhookSecret) != "secret-"+id {
				t.Errorf("connection %s: wrong token or secret after re-sealing", id)
			}
		}
		var stored []models.MastodonEvent
		if err := db.WithContext(ctx).Order("id").Find(&stored).Error; err != nil || len(stored) != 4 {
			t.Fatalf("events: %d %v", len(stored), err)
		}
		for _, e := range stored {
			switch e.ObjectKey {
			case "e1", "e3":
				if open(sealMastodonEvent, e.Payload) != `{"event":"`+e.ObjectKey+`"}` {
					t.Errorf("event %s: wrong body after re-sealing", e.ObjectKey)
				}
			default:
				if e.Payload != events[e.ObjectKey] {
					t.Errorf("event %s was changed although no key opens it (or it was empty)", e.ObjectKey)
				}
			}
		}
		if n, err := newTestService(t, db, newOnly).CheckSecretKey(ctx); err != nil || n != 4 {
			t.Errorf("a service with the new key alone opened %d server keys (%v), want 4", n, err)
		}

		// A second run finds everything current; the stranger is still reported.
		want = []ResealCount{
			{Kind: sealPurposeServerKey, Current: 4},
			{Kind: sealMastodonToken, Current: 2},
			{Kind: sealMastodonSecret, Current: 2},
			{Kind: sealMastodonEvent, Current: 2, Failed: 1, FailedRows: []string{"4"}},
		}
		if got, err = rotated.ResealSecrets(ctx, ResealOptions{}); err != nil || !equalCounts(got, want) {
			t.Fatalf("second run: %+v %v\nwant %+v", got, err, want)
		}
	})
}

func equalCounts(a, b []ResealCount) bool {
	return slices.EqualFunc(a, b, func(x, y ResealCount) bool {
		return x.Kind == y.Kind && x.Resealed == y.Resealed && x.Current == y.Current && x.Failed == y.Failed &&
			x.Changed == y.Changed && slices.Equal(x.FailedRows, y.FailedRows)
	})
}

// TestSealPurposeCoversEveryColumn: the re-sealing job knows the purpose of
// every sealed column, so a new one cannot be skipped silently.
func TestSealPurposeCoversEveryColumn(t *testing.T) {
	seen := map[string]bool{}
	for _, col := range models.SealedColumns() {
		p, ok := sealPurpose(col)
		if !ok || seen[p] {
			t.Errorf("sealed column %d: purpose %q (known %v, seen before %v)", col, p, ok, seen[p])
		}
		seen[p] = true
	}
}
