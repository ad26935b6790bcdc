package sealbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	keyA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	keyB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func mustLoad(t *testing.T, secret string) *Box {
	t.Helper()
	b, err := Load(secret, "")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	box := mustLoad(t, Generate())
	for _, plain := range [][]byte{nil, {}, []byte("x"), []byte("mastodon-token-123"), bytes.Repeat([]byte{0, 255}, 5000)} {
		sealed, err := box.Seal("webhook-token", plain)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sealed, "v1:") {
			t.Fatalf("sealed %q lacks the version prefix", sealed)
		}
		if len(plain) > 4 && strings.Contains(sealed, string(plain)) {
			t.Fatal("plaintext visible in sealed value")
		}
		got, err := box.Open("webhook-token", sealed)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, want %q", got, plain)
		}
	}
}

func TestSealIsRandomized(t *testing.T) {
	box := mustLoad(t, keyA)
	a, _ := box.Seal("p", []byte("same"))
	b, _ := box.Seal("p", []byte("same"))
	if a == b {
		t.Fatal("two seals of the same plaintext are equal; nonce reused")
	}
}

func TestOpenFailures(t *testing.T) {
	box := mustLoad(t, keyA)
	sealed, err := box.Seal("webhook-token", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	flip := func(i int) string {
		c := bytes.Clone(raw)
		c[i] ^= 1
		return "v1:" + base64.RawURLEncoding.EncodeToString(c)
	}
	tests := []struct {
		name, purpose, sealed string
		box                   *Box
	}{
		{name: "wrong purpose", purpose: "mastodon-token", sealed: sealed},
		{name: "empty purpose", purpose: "", sealed: sealed},
		{name: "wrong key", purpose: "webhook-token", sealed: sealed, box: mustLoad(t, keyB)},
		{name: "tampered nonce", purpose: "webhook-token", sealed: flip(0)},
		{name: "tampered ciphertext", purpose: "webhook-token", sealed: flip(nonceSize)},
		{name: "tampered tag", purpose: "webhook-token", sealed: flip(len(raw) - 1)},
		{name: "truncated", purpose: "webhook-token", sealed: sealed[:len(sealed)-4]},
		{name: "too short", purpose: "webhook-token", sealed: "v1:AAAA"},
		{name: "no prefix", purpose: "webhook-token", sealed: strings.TrimPrefix(sealed, "v1:")},
		{name: "unknown version", purpose: "webhook-token", sealed: "v2:" + strings.TrimPrefix(sealed, "v1:")},
		{name: "bad base64", purpose: "webhook-token", sealed: "v1:!!!!"},
		{name: "empty", purpose: "webhook-token", sealed: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.box
			if b == nil {
				b = box
			}
			got, err := b.Open(tt.purpose, tt.sealed)
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("Open = %q, %v; want ErrOpen", got, err)
			}
			if got != nil {
				t.Fatal("returned plaintext with an error")
			}
		})
	}
}

func TestRotation(t *testing.T) {
	old := mustLoad(t, keyA)
	sealedOld, _ := old.Seal("p", []byte("from old key"))

	rotated := mustLoad(t, keyB+","+keyA)
	got, err := rotated.Open("p", sealedOld)
	if err != nil || string(got) != "from old key" {
		t.Fatalf("rotated box cannot open old value: %q, %v", got, err)
	}
	sealedNew, _ := rotated.Seal("p", []byte("from new key"))
	if _, err := old.Open("p", sealedNew); !errors.Is(err, ErrOpen) {
		t.Fatalf("new value opened with only the old key: %v", err)
	}
	newOnly := mustLoad(t, keyB)
	if got, err := newOnly.Open("p", sealedNew); err != nil || string(got) != "from new key" {
		t.Fatalf("new key alone: %q, %v", got, err)
	}
	if _, err := newOnly.Open("p", sealedOld); !errors.Is(err, ErrOpen) {
		t.Fatalf("old value opened without the old key: %v", err)
	}
	if rotated.Fingerprint() != mustLoad(t, keyB).Fingerprint() {
		t.Error("fingerprint is not the primary key's")
	}

	t.Run("reseal", func(t *testing.T) {
		resealed, changed, err := rotated.Reseal("p", sealedOld)
		if err != nil || !changed {
			t.Fatalf("Reseal old = %v, %v", changed, err)
		}
		if got, err := mustLoad(t, keyB).Open("p", resealed); err != nil || string(got) != "from old key" {
			t.Fatalf("resealed value with new key alone: %q, %v", got, err)
		}
		same, changed, err := rotated.Reseal("p", sealedNew)
		if err != nil || changed || same != sealedNew {
			t.Fatalf("Reseal of a current value = %v, %v", changed, err)
		}
		if _, _, err := rotated.Reseal("other", sealedNew); !errors.Is(err, ErrOpen) {
			t.Fatalf("Reseal with wrong purpose: %v", err)
		}
	})
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", keyA+"\n")
	rotation := write("rotation", " "+keyB+" , "+keyA+" \n")
	empty := write("empty", "\n")
	short := write("short", "tooshort\n")

	tests := []struct {
		name, secret, file string
		wantErr            string
		wantKeys           int
	}{
		{name: "direct", secret: keyA, wantKeys: 1},
		{name: "generated", secret: Generate(), wantKeys: 1},
		{name: "exactly 32", secret: strings.Repeat("k", 32), wantKeys: 1},
		{name: "file", file: good, wantKeys: 1},
		{name: "rotation list", secret: keyB + "," + keyA, wantKeys: 2},
		{name: "rotation file", file: rotation, wantKeys: 2},
		{name: "none", wantErr: "no secret key"},
		{name: "both", secret: keyA, file: good, wantErr: "only one"},
		{name: "short", secret: "hunter2", wantErr: "secret key 1 of 1 is 7 characters long; need at least 32"},
		{name: "31 chars", secret: strings.Repeat("k", 31), wantErr: "is 31 characters"},
		{name: "short old key", secret: keyA + ",short", wantErr: "secret key 2 of 2 is 5 characters"},
		{name: "trailing comma", secret: keyA + ",", wantErr: "secret key 2 of 2 is 0 characters"},
		{name: "short file", file: short, wantErr: "is 8 characters"},
		{name: "empty file", file: empty, wantErr: "is empty"},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantErr: "read secret key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box, err := Load(tt.secret, tt.file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error = %v, want %q", err, tt.wantErr)
				}
				if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
					t.Fatal("error message contains the secret")
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(box.keys) != tt.wantKeys {
				t.Fatalf("%d keys, want %d", len(box.keys), tt.wantKeys)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	a, b := Generate(), Generate()
	if a == b {
		t.Fatal("Generate repeated itself")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Fatalf("Generate = %q: %d bytes, %v", a, len(raw), err)
	}
	if len(a) < MinSecretLength || strings.ContainsAny(a, ", \n") {
		t.Fatalf("Generate = %q is not a valid secret", a)
	}
}

func TestHash(t *testing.T) {
	box := mustLoad(t, keyA)
	h := box.Hash("email", "alice@example.com")
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("Hash = %q, want 64 hex digits", h)
	}
	if h != mustLoad(t, keyA).Hash("email", "alice@example.com") {
		t.Error("Hash not stable across boxes with the same key (restarts)")
	}
	if h == box.Hash("ip", "alice@example.com") {
		t.Error("Hash not separated by purpose")
	}
	if h == box.Hash("email", "bob@example.com") {
		t.Error("different values hash the same")
	}
	if h == mustLoad(t, keyB).Hash("email", "alice@example.com") {
		t.Error("Hash does not depend on the key")
	}
	if mustLoad(t, keyA+","+keyB).Hash("email", "alice@example.com") != h {
		t.Error("Hash does not use the primary key")
	}
	// Purpose and value must not run together: ("a", "bc") vs ("ab", "c").
	if box.Hash("a", "bc") == box.Hash("ab", "c") {
		t.Error("purpose/value boundary is ambiguous")
	}
}

// TestHashKeyCache pins Hash to its definition, HMAC-SHA256 under the key
// HKDF derives for the purpose, on the first call and on later (cached)
// ones, for several purposes.
func TestHashKeyCache(t *testing.T) {
	box := mustLoad(t, keyA+","+keyB)
	for round := range 2 {
		for _, purpose := range []string{"subject", "email", "ip", ""} {
			mac := hmac.New(sha256.New, derive([]byte(keyA), "hash", purpose, sha256.Size))
			mac.Write([]byte("value"))
			if got, want := box.Hash(purpose, "value"), hex.EncodeToString(mac.Sum(nil)); got != want {
				t.Errorf("round %d, purpose %q: Hash = %s, want %s", round, purpose, got, want)
			}
		}
	}
}

// TestHashes: one hash per configured key, the primary's first, each the
// hash a Box with only that key gives, so that a lookup after a rotation
// finds values hashed before it.
func TestHashes(t *testing.T) {
	const keyC = "ccccccccccccccccccccccccccccccccccccccccccc"
	rotated := mustLoad(t, keyB+","+keyA+","+keyC)
	for round := range 2 { // the second round reads the cached keys
		got := rotated.Hashes("subject", "alice@example.com")
		want := []string{
			mustLoad(t, keyB).Hash("subject", "alice@example.com"),
			mustLoad(t, keyA).Hash("subject", "alice@example.com"),
			mustLoad(t, keyC).Hash("subject", "alice@example.com"),
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("round %d: Hashes = %v, want %v", round, got, want)
		}
		if rotated.Hash("subject", "alice@example.com") != got[0] {
			t.Fatalf("round %d: Hash is not Hashes' first", round)
		}
	}
	if got := mustLoad(t, keyA).Hashes("ip", "192.0.2.1"); len(got) != 1 || got[0] != mustLoad(t, keyA).Hash("ip", "192.0.2.1") {
		t.Fatalf("one key: Hashes = %v", got)
	}
}

func BenchmarkHash(b *testing.B) {
	box, err := Load(keyA, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		box.Hash("subject", "server|alice@example.com")
	}
}

func TestFingerprint(t *testing.T) {
	a, b := mustLoad(t, keyA), mustLoad(t, keyB)
	fa := a.Fingerprint()
	if len(fa) != 16 || fa == b.Fingerprint() || fa != mustLoad(t, keyA).Fingerprint() {
		t.Fatalf("fingerprints %q / %q", fa, b.Fingerprint())
	}
	if strings.Contains(fa, keyA[:8]) {
		t.Fatal("fingerprint reveals the key")
	}
}

func TestBoxDoesNotPrintKeys(t *testing.T) {
	box := mustLoad(t, keyB+","+keyA)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, box)
		if strings.Contains(out, "aaaa") || strings.Contains(out, "bbbb") || strings.Contains(out, "[98 98") {
			t.Errorf("%s prints key material: %s", format, out)
		}
	}
}

func TestSealAndHashKeysAreIndependent(t *testing.T) {
	// Same purpose, different uses must not share a key.
	k := []byte(keyA)
	if bytes.Equal(derive(k, "seal", "p", 32), derive(k, "hash", "p", 32)) {
		t.Fatal("seal and hash keys are equal")
	}
}

func FuzzOpen(f *testing.F) {
	box, err := Load(keyA, "")
	if err != nil {
		f.Fatal(err)
	}
	s, _ := box.Seal("p", []byte("hello"))
	f.Add("p", s)
	f.Add("p", "v1:")
	f.Add("", "v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, purpose, sealed string) {
		plain, err := box.Open(purpose, sealed)
		if err != nil && !errors.Is(err, ErrOpen) {
			t.Fatalf("Open error %v does not match ErrOpen", err)
		}
		if err == nil && (purpose != "p" || string(plain) != "hello") {
			t.Fatalf("Open(%q, %q) = %q: forged value accepted", purpose, sealed, plain)
		}
	})
}
