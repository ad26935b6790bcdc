// Package fault holds the typed errors the domain returns. The HTTP layer maps
// them to status codes in one place; nothing below handlers knows about HTTP.
package fault

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors that callers compare with errors.Is.
var (
	// ErrNotFound means the object does not exist for this caller. A miss
	// caused by tenant isolation is also ErrNotFound, never a permission error,
	// so that ids of other servers cannot be probed.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request clashes with the current state.
	ErrConflict = errors.New("conflict")
	// ErrSuspended means the calling server has been suspended by the operator.
	ErrSuspended = errors.New("server suspended")
	// ErrUnavailable means a dependency (the database) is down; retry later.
	ErrUnavailable = errors.New("temporarily unavailable")
)

// ValidationError says which field of an input is wrong and why. Its message
// is safe to show to the caller.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Invalid builds a ValidationError with a formatted message.
func Invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Forbidden is a refusal the caller can act on (for example: activate a
// capability first). Its message is safe to show.
type Forbidden struct{ Message string }

func (e *Forbidden) Error() string { return e.Message }

// RateLimited asks the caller to retry after a delay.
type RateLimited struct {
	Message    string
	RetryAfter time.Duration
}

func (e *RateLimited) Error() string { return e.Message }

// Unauthorized is an authentication failure with a stable cause code
// (missing_signature, bad_digest, unknown_keyid, expired, bad_signature,
// replayed, malformed_signature) that is safe to return and to count.
type Unauthorized struct {
	Cause   string
	Message string
}

func (e *Unauthorized) Error() string { return e.Cause + ": " + e.Message }

// Upstream is a failure of a remote fediverse server we called; the message is
// safe to show to the admin who asked for the call.
type Upstream struct {
	Message string
	Err     error
}

func (e *Upstream) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + ": " + e.Err.Error()
}
func (e *Upstream) Unwrap() error { return e.Err }

// Join lists several validation problems as one, keeping the first field.
func Join(errs []*ValidationError) error {
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return &ValidationError{Field: errs[0].Field, Message: strings.Join(msgs, "; ")}
}
