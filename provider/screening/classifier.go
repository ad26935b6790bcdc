package screening

import (
	"math"
	"sync"
)

// Classifier thresholds: it says nothing until it has seen enough of both
// kinds, network-wide.
const (
	minClassExamples = 20
	classSpam        = 0
	classHam         = 1
)

// bayes is a multinomial naive Bayes text model over keyed token ids (each
// distinct token counted once per post), trained from moderators' feedback
// on every server, with Laplace smoothing. It stores no text: only token
// ids and counts.
type bayes struct {
	mu    sync.RWMutex
	docs  [2]int
	total [2]int // token occurrences per class
	tok   map[uint32]*[2]uint32
}

func newBayes() *bayes { return &bayes{tok: map[uint32]*[2]uint32{}} }

// train adds (delta=+1) or removes (delta=-1) one labelled post. Removal
// never drives a count below zero, so undoing a label that was never
// applied is harmless.
func (b *bayes) train(ids []uint32, class, delta int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.docs[class] = max(0, b.docs[class]+delta)
	for _, id := range ids {
		c := b.tok[id]
		if c == nil {
			if delta < 0 {
				continue
			}
			c = &[2]uint32{}
			b.tok[id] = c
		}
		switch {
		case delta > 0:
			c[class]++
			b.total[class]++
		case c[class] > 0:
			c[class]--
			b.total[class] = max(0, b.total[class]-1)
		}
		if c[0] == 0 && c[1] == 0 {
			delete(b.tok, id)
		}
	}
}

// classify returns the log-odds that the post is spam rather than ham,
// from the tokens the model has seen (unseen tokens carry no evidence), with
// equal priors so that labelling more spam than ham does not bias every
// post. ready is false until both classes have minClassExamples posts.
func (b *bayes) classify(ids []uint32) (float64, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.docs[classSpam] < minClassExamples || b.docs[classHam] < minClassExamples {
		return 0, false
	}
	v := float64(len(b.tok))
	ds := math.Log(float64(b.total[classSpam]) + v)
	dh := math.Log(float64(b.total[classHam]) + v)
	lo := 0.0
	for _, id := range ids {
		c := b.tok[id]
		if c == nil {
			continue
		}
		lo += math.Log(float64(c[classSpam])+1) - ds - (math.Log(float64(c[classHam])+1) - dh)
	}
	return lo, true
}
