// Package similarity holds the pure text, e-mail and fingerprint primitives
// Breakwater's screening engine is built on: Mastodon-HTML text extraction,
// Unicode normalisation, a CJK-aware tokeniser, keyed SipHash, 64-bit SimHash,
// a banded LSH index with time-bucketed expiry, canonical e-mail addresses and
// username shape metrics.
//
// Nothing here keeps raw personal data: callers hash what they store. The
// package has no I/O and no clock of its own; times are passed in.
package similarity
