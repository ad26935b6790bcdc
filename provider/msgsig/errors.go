package msgsig

import (
	"errors"
	"fmt"
)

// Stable causes carried by *Error. The HTTP layer answers 401
// {"error": cause, "message": …} and counts metrics by cause, so these strings
// are part of the wire contract: never rename one.
const (
	// CauseMissingSignature: no Signature / Signature-Input (or cavage
	// Signature) header at all, so the peer did not try to authenticate.
	CauseMissingSignature = "missing_signature"
	// CauseMalformed: the signature headers are present but cannot be parsed,
	// or lack a required parameter (created, keyid), or name an unsupported
	// algorithm or component form.
	CauseMalformed = "malformed_signature"
	// CauseMissingDigest: no Content-Digest (or cavage Digest) header, or no
	// sha-256 member in it, so the body is not integrity protected.
	CauseMissingDigest = "missing_digest"
	// CauseBadDigest: the digest header is unparsable or does not match the
	// body that was received.
	CauseBadDigest = "bad_digest"
	// CauseUnknownKey: the keyid names no key we know (or one that is not
	// usable, such as an unconfirmed server).
	CauseUnknownKey = "unknown_keyid"
	// CauseExpired: created (or the cavage Date) is older than the allowed
	// age, or the signature's own expires has passed.
	CauseExpired = "expired"
	// CauseFuture: created (or Date) is further in the future than the
	// allowed clock skew.
	CauseFuture = "created_in_future"
	// CauseBadSignature: the cryptographic check failed for every key of the
	// keyid: tampered message, wrong key, or a base we rebuild differently.
	CauseBadSignature = "bad_signature"
	// CauseMissingComponent: a component the policy requires is not covered
	// by the signature, or a covered header is absent from the message.
	CauseMissingComponent = "missing_component"
	// CauseMultipleSignatures: more than one signature label; like Mastodon's
	// Linzer we refuse to guess which one to check.
	CauseMultipleSignatures = "multiple_signatures"
)

// ErrUnknownKey is what a KeyLookup returns (wrapped or not) when it knows no
// key for a keyid, so that verification can report CauseUnknownKey instead of
// treating the lookup failure as an internal error.
var ErrUnknownKey = errors.New("unknown keyid")

// Error is a verification failure. Cause is one of the Cause* constants and
// Message is a human-readable detail; both are safe to return to the peer,
// since they only describe what the peer itself sent. Any error from this
// package that is not an *Error (for example a database failure inside a
// KeyLookup) is an internal error and must not be answered with 401.
type Error struct {
	Cause   string
	Message string
}

// Error formats the failure as "cause: message" for logs.
func (e *Error) Error() string { return e.Cause + ": " + e.Message }

// CauseOf returns the Cause of the *Error in err's chain, or "" when err is
// not a verification failure; it lets metrics and the error mapper avoid
// repeating errors.As boilerplate.
func CauseOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Cause
	}
	return ""
}

func fail(cause, format string, args ...any) *Error {
	return &Error{Cause: cause, Message: fmt.Sprintf(format, args...)}
}
