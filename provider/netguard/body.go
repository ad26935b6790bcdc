package netguard

import (
	"errors"
	"fmt"
	"io"
)

// ErrBodyTooLarge is returned by a response body read that goes past
// Options.MaxBodyBytes, so a hostile server cannot exhaust memory.
var ErrBodyTooLarge = errors.New("netguard: response body too large")

// limitedBody lets through up to limit bytes and fails loudly after that,
// rather than silently truncating (a truncated JSON document could still
// parse and mislead).
type limitedBody struct {
	rc        io.ReadCloser
	remaining int64
	limit     int64
	exceeded  bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.exceeded {
		return 0, b.tooLarge()
	}
	if int64(len(p)) > b.remaining+1 {
		p = p[:b.remaining+1] // one byte more than allowed tells "exactly the limit" from "over"
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.remaining {
		n = int(b.remaining)
		b.remaining = 0
		b.exceeded = true
		return n, b.tooLarge()
	}
	b.remaining -= int64(n)
	return n, err
}

func (b *limitedBody) tooLarge() error {
	return fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, b.limit)
}

func (b *limitedBody) Close() error { return b.rc.Close() }
