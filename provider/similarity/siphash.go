package similarity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// Hasher is a keyed SipHash-2-4 function. Token ids and shingle hashes are
// keyed so that a stored fingerprint cannot be checked against guessed text
// (private mentions are screened too) without the deployment's secret, while
// staying fast enough to hash every token of every post.
type Hasher struct {
	k0, k1 uint64
}

// NewHasher derives a Hasher from an arbitrary-length secret. The label
// separates independent uses of the same secret.
func NewHasher(secret []byte, label string) Hasher {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("breakwater/similarity/siphash/"))
	m.Write([]byte(label))
	sum := m.Sum(nil)
	return HasherFromKey([16]byte(sum[:16]))
}

// HasherFromKey builds a Hasher from a raw 128-bit SipHash key, as in the
// SipHash reference test vectors.
func HasherFromKey(key [16]byte) Hasher {
	return Hasher{
		k0: binary.LittleEndian.Uint64(key[0:8]),
		k1: binary.LittleEndian.Uint64(key[8:16]),
	}
}

// Sum64 hashes a string without copying it.
func (h Hasher) Sum64(s string) uint64 { return sipHash(h, s) }

// Sum64Bytes hashes a byte slice. b does not escape, so callers can hash
// from a buffer on their stack.
//
// It is kept out of line on purpose: inlined into another package, the
// call to the generic sipHash's shape instance is analysed as leaking b
// (that package sees no escape information for the instance), which moves
// the caller's buffer to the heap.
//
//go:noinline
func (h Hasher) Sum64Bytes(b []byte) uint64 { return sipHash(h, b) }

// Sum64Parts hashes the parts as if joined with a 0x00 separator, so callers
// can key on (server, account) pairs without building a string.
func (h Hasher) Sum64Parts(parts ...string) uint64 {
	acc := h.Sum64(parts[0])
	for _, p := range parts[1:] {
		acc = Mix64(acc ^ h.Sum64(p)*0x9e3779b97f4a7c15)
	}
	return acc
}

// Mix64 is the splitmix64 finaliser: a fast bijective scrambler for values
// that are already hashes, used to combine two hashes into one.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func load64[T ~string | ~[]byte](b T, i int) uint64 {
	return uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
		uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
}

func sipHash[T ~string | ~[]byte](h Hasher, b T) uint64 {
	v0 := h.k0 ^ 0x736f6d6570736575
	v1 := h.k1 ^ 0x646f72616e646f6d
	v2 := h.k0 ^ 0x6c7967656e657261
	v3 := h.k1 ^ 0x7465646279746573
	n := len(b)
	i := 0
	for ; i+8 <= n; i += 8 {
		m := load64(b, i)
		v3 ^= m
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0 ^= m
	}
	last := uint64(n) << 56
	for j := 0; i+j < n; j++ {
		last |= uint64(b[i+j]) << (8 * j)
	}
	v3 ^= last
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= last
	v2 ^= 0xff
	for range 4 {
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	}
	return v0 ^ v1 ^ v2 ^ v3
}

func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13)
	v1 ^= v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16)
	v3 ^= v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21)
	v3 ^= v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17)
	v1 ^= v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}
