// Package msgsig authenticates FASP traffic: HTTP Message Signatures (the
// RFC 9421 subset FASP uses: Ed25519, one signature, created and keyid)
// with RFC 9530 Content-Digest, plus draft-cavage HTTP Signatures for
// ActivityPub-style peers.
//
// It is written against what Mastodon actually sends and checks
// (shared/reference/mastodon-interop.md §1.5-1.7), so its signatures are
// byte-for-byte what Mastodon's Linzer produces and its checks accept what
// Mastodon sends. It is pure: no I/O, the clock and the key store are passed
// in. Verification failures are *Error with a stable Cause that the HTTP
// layer maps to 401 and to metrics.
package msgsig
