package msgsig

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/dunglas/httpsfv"
)

// ContentDigest returns the RFC 9530 Content-Digest value for body in exactly
// the form "sha-256=:<standard padded base64>:". Mastodon compares the whole
// header string with this form (mastodon-interop.md §1.6), so no other member,
// parameter or whitespace may appear.
func ContentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	var b strings.Builder
	b.Grow(len("sha-256=::") + base64.StdEncoding.EncodedLen(len(sum)))
	b.WriteString("sha-256=:")
	b.WriteString(base64.StdEncoding.EncodeToString(sum[:]))
	b.WriteString(":")
	return b.String()
}

// CheckContentDigest checks an incoming Content-Digest header against the body
// that was actually read. The header is parsed as an RFC 8941 dictionary, as
// RFC 9530 defines it, so peers that add other algorithms or whitespace still
// pass; only the sha-256 member is required and checked (FASP mandates
// SHA-256), and it is compared in constant time. Failures are *Error with
// CauseMissingDigest (empty header, no sha-256 member) or CauseBadDigest
// (unparsable, wrong type or length, mismatch).
func CheckContentDigest(header string, body []byte) error {
	if strings.TrimSpace(header) == "" {
		return fail(CauseMissingDigest, "Content-Digest header is missing")
	}
	dict, err := httpsfv.UnmarshalDictionary([]string{header})
	if err != nil {
		return fail(CauseBadDigest, "Content-Digest is not a valid structured-field dictionary")
	}
	m, ok := dict.Get("sha-256")
	if !ok {
		return fail(CauseMissingDigest, "Content-Digest has no sha-256 member")
	}
	item, ok := m.(httpsfv.Item)
	if !ok {
		return fail(CauseBadDigest, "Content-Digest sha-256 member is not a byte sequence")
	}
	got, ok := item.Value.([]byte)
	if !ok {
		return fail(CauseBadDigest, "Content-Digest sha-256 member is not a byte sequence")
	}
	want := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return fail(CauseBadDigest, "Content-Digest sha-256 does not match the body")
	}
	return nil
}

// joinedHeader returns a field value as one string,
// joining repeated field lines as RFC 9110 allows for list-based fields.
func joinedHeader(values []string) string {
	switch len(values) {
	case 0:
		return ""
	case 1:
		return values[0]
	}
	return strings.Join(values, ", ")
}
