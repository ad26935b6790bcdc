package provider

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestIDSet: an id is new once; the set remembers the last n ids and
// forgets older ones, and its storage does not grow past n.
func TestIDSet(t *testing.T) {
	s := newIDSet(100)
	if !s.add("a") || s.add("a") {
		t.Fatal("an id must be new exactly once")
	}
	for i := range 99 {
		if !s.add(fmt.Sprint(i)) {
			t.Fatalf("id %d seen before it was added", i)
		}
	}
	if s.add("a") {
		t.Fatal("the 100th most recent id was forgotten")
	}
	for i := 99; i < 300; i++ {
		s.add(fmt.Sprint(i))
	}
	if !s.add("a") {
		t.Fatal("an id 200 adds old is still remembered")
	}
	held := 0
	for _, h := range s.table {
		if h != 0 {
			held++
		}
	}
	if held != 100 {
		t.Fatalf("%d ids held, want 100", held)
	}
}

// TestIDSetMatchesMap: under a long stream of ids, with repeats, the set
// answers exactly as a map of the last n ids would, and holds n ids.
func TestIDSetMatchesMap(t *testing.T) {
	const n = 1000
	s := newIDSet(n)
	ref := map[string]bool{}
	var ring []string
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200_000 {
		id := fmt.Sprint(r.IntN(5 * n)) // about a fifth are repeats of a kept id
		want := !ref[id]
		if got := s.add(id); got != want {
			t.Fatalf("step %d, id %s: new = %v, want %v", i, id, got, want)
		}
		if want {
			ref[id] = true
			ring = append(ring, id)
			if len(ring) > n {
				delete(ref, ring[0])
				ring = ring[1:]
			}
		}
	}
	held := 0
	for _, h := range s.table {
		if h != 0 {
			held++
		}
	}
	if held != n {
		t.Fatalf("%d ids held, want %d", held, n)
	}
}
