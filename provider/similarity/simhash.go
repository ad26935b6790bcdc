package similarity

import "math/bits"

// MinFingerprintTokens is the fewest tokens a text needs before it gets a
// SimHash fingerprint: short greetings ("good morning everyone") are posted
// independently by thousands of people and must not look like a campaign.
const MinFingerprintTokens = 8

// SimHash returns the 64-bit Charikar SimHash of a token sequence, over
// features made of every token (unigram) and every pair of consecutive
// tokens (shingle). For CJK, tokens are character bigrams, so pairs are
// trigrams. Texts that share most features get fingerprints a few bits
// apart, which the LSH index finds without scanning.
func SimHash(h Hasher, tokens []string) uint64 {
	if len(tokens) == 0 {
		return 0
	}
	hs := make([]uint64, len(tokens))
	for i, t := range tokens {
		hs[i] = h.Sum64(t)
	}
	return SimHashOf(hs)
}

// SimHashOf is SimHash over tokens that are already hashed (h.Sum64 of
// each token, in order), so a caller that needs the token hashes for other
// purposes hashes each token once.
func SimHashOf(tokenHashes []uint64) uint64 {
	if len(tokenHashes) == 0 {
		return 0
	}
	var acc voteCounter
	prev := uint64(0)
	for i, th := range tokenHashes {
		acc.add(th)
		if i > 0 {
			acc.add(Mix64(prev*0x9e3779b97f4a7c15 ^ th))
		}
		prev = th
	}
	return acc.fingerprint()
}

// spread[b] has byte k set to bit k of b: adding spread values counts, per
// bit position, how many features had that bit set, eight positions per add.
var spread = func() (t [256]uint64) {
	for b := range 256 {
		for k := range 8 {
			if b&(1<<k) != 0 {
				t[b] |= 1 << (8 * k)
			}
		}
	}
	return t
}()

// voteCounter counts set bits per position of 64-bit feature hashes using
// byte lanes, flushing to wide counters before a lane can overflow.
type voteCounter struct {
	lanes   [8]uint64
	pending int
	ones    [64]int32
	n       int32
}

func (v *voteCounter) add(x uint64) {
	for k := range 8 {
		v.lanes[k] += spread[(x>>(8*k))&0xff]
	}
	v.n++
	v.pending++
	if v.pending == 255 {
		v.flush()
	}
}

func (v *voteCounter) flush() {
	for k := range 8 {
		l := v.lanes[k]
		for j := range 8 {
			v.ones[8*k+j] += int32((l >> (8 * j)) & 0xff)
		}
		v.lanes[k] = 0
	}
	v.pending = 0
}

func (v *voteCounter) fingerprint() uint64 {
	v.flush()
	var fp uint64
	for b := range 64 {
		if 2*v.ones[b] > v.n {
			fp |= 1 << uint(b)
		}
	}
	return fp
}

// Hamming is the number of differing bits between two fingerprints.
func Hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }
