package mastodon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestVerifySignature(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef01234567") // SecureRandom.hex(20) shape
	body := []byte(`{"event":"account.created","created_at":"2025-03-14T09:26:53.412Z","object":{"id":"1"}}`)
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	good := hex.EncodeToString(mac.Sum(nil))

	tests := []struct {
		name   string
		header string
		secret []byte
		body   []byte
		cause  string // "" means accepted
	}{
		{"valid", "sha256=" + good, secret, body, ""},
		{"valid upper-case hex", "sha256=" + strings.ToUpper(good), secret, body, ""},
		{"valid with surrounding space", "  sha256=" + good + " ", secret, body, ""},
		{"missing", "", secret, body, CauseMissingSignature},
		{"blank", "   ", secret, body, CauseMissingSignature},
		{"wrong digest", "sha256=" + strings.Repeat("0", 64), secret, body, CauseBadSignature},
		{"wrong secret", Sign([]byte("another-secret-entirely"), body), secret, body, CauseBadSignature},
		{"body changed", "sha256=" + good, secret, append([]byte(nil), append(body, ' ')...), CauseBadSignature},
		{"truncated", "sha256=" + good[:40], secret, body, CauseBadSignature},
		{"one digit short", "sha256=" + good[:63], secret, body, CauseBadSignature},
		{"too long", "sha256=" + good + "00", secret, body, CauseBadSignature},
		{"no prefix", good, secret, body, CauseBadSignature},
		{"sha1 prefix", "sha1=" + good, secret, body, CauseBadSignature},
		{"sha512 prefix", "sha512=" + good, secret, body, CauseBadSignature},
		{"upper-case prefix", "SHA256=" + good, secret, body, CauseBadSignature},
		{"not hex", "sha256=" + strings.Repeat("zz", 32), secret, body, CauseBadSignature},
		{"hex secret decoded by mistake", signWithDecodedSecret(secret, body), secret, body, CauseBadSignature},
		{"no secret configured", "sha256=" + good, nil, body, CauseBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySignature(tc.secret, tc.header, tc.body)
			if tc.cause == "" {
				if err != nil {
					t.Fatalf("refused a valid signature: %v", err)
				}
				return
			}
			var se *SignatureError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SignatureError with cause %s", err, tc.cause)
			}
			if se.Cause != tc.cause {
				t.Errorf("cause %q, want %q", se.Cause, tc.cause)
			}
			if strings.Contains(se.Message, good) {
				t.Errorf("the error reveals the expected digest: %q", se.Message)
			}
		})
	}
}

// signWithDecodedSecret is the classic mistake of treating Mastodon's hex
// secret as bytes: Mastodon uses the ASCII string as the HMAC key.
func signWithDecodedSecret(secret, body []byte) string {
	raw, _ := hex.DecodeString(string(secret))
	return Sign(raw, body)
}

func TestSignMatchesMastodon(t *testing.T) {
	// OpenSSL::HMAC.hexdigest('sha256', 'secret-secret-secret', '{}')
	got := Sign([]byte("secret-secret-secret"), []byte("{}"))
	mac := hmac.New(sha256.New, []byte("secret-secret-secret"))
	mac.Write([]byte("{}"))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if err := VerifySignature([]byte("secret-secret-secret"), got, []byte("{}")); err != nil {
		t.Fatal(err)
	}
}

func TestNewSecretAndCheckSecret(t *testing.T) {
	s := NewSecret()
	if len(s) != 40 {
		t.Fatalf("secret %d characters, want 40 like Mastodon's", len(s))
	}
	if s == NewSecret() {
		t.Fatal("two secrets are equal")
	}
	if err := CheckSecret(s); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "short", "has a space in it!", strings.Repeat("x", 256), "tab\tinside-secret"} {
		if err := CheckSecret(bad); !errors.Is(err, ErrSecretFormat) {
			t.Errorf("CheckSecret(%q) = %v, want ErrSecretFormat", bad, err)
		}
	}
}
