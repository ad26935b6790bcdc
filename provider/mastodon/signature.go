package mastodon

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SignatureHeader is the header Mastodon's Webhooks::DeliveryWorker signs
// deliveries with: "sha256=" + hex(HMAC-SHA256(secret, raw body)).
const SignatureHeader = "X-Hub-Signature"

const signaturePrefix = "sha256="

// Causes of a refused webhook signature; stable, safe to return and count.
const (
	CauseMissingSignature = "missing_webhook_signature"
	CauseBadSignature     = "bad_webhook_signature"
)

// SignatureError says why a delivery's signature was refused without
// revealing anything about the expected value.
type SignatureError struct {
	Cause   string
	Message string
}

func (e *SignatureError) Error() string { return e.Cause + ": " + e.Message }

// Sign computes the X-Hub-Signature value Mastodon sends for body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks an X-Hub-Signature header against the raw body in
// constant time. Mastodon's secret is the ASCII string itself (not decoded
// hex), and the digest is lower-case hex; upper-case hex is accepted, any
// other algorithm prefix is not. Failures are *SignatureError.
func VerifySignature(secret []byte, header string, body []byte) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return &SignatureError{Cause: CauseMissingSignature, Message: "the X-Hub-Signature header is missing"}
	}
	if len(secret) == 0 {
		return &SignatureError{Cause: CauseBadSignature, Message: "no webhook secret is configured"}
	}
	hexSig, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return &SignatureError{Cause: CauseBadSignature, Message: "X-Hub-Signature must be sha256=<hex>"}
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return &SignatureError{Cause: CauseBadSignature, Message: "X-Hub-Signature must carry 64 hexadecimal digits"}
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return &SignatureError{Cause: CauseBadSignature, Message: "X-Hub-Signature does not match the body and the webhook secret"}
	}
	return nil
}

// NewSecret returns a webhook secret in the form Mastodon itself generates
// (SecureRandom.hex(20)): 20 random bytes as 40 hex digits.
func NewSecret() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// Mastodon's Webhook model needs at least 12 characters; its own are 40.
const (
	minSecretLength = 12
	maxSecretLength = 255
)

// ErrSecretFormat is returned by CheckSecret.
var ErrSecretFormat = errors.New("mastodon: webhook secret format")

// CheckSecret validates a secret an admin copied from Mastodon's webhook
// page: printable ASCII without spaces, 12 to 255 characters.
func CheckSecret(s string) error {
	if len(s) < minSecretLength || len(s) > maxSecretLength {
		return fmt.Errorf("%w: must be %d to %d characters (Mastodon shows 40 hex digits)", ErrSecretFormat, minSecretLength, maxSecretLength)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return fmt.Errorf("%w: must be printable ASCII without spaces", ErrSecretFormat)
		}
	}
	return nil
}
