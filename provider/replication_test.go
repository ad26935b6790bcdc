package provider

import (
	"fmt"
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
	if len(s.m) != 100 {
		t.Fatalf("%d ids held, want 100", len(s.m))
	}
}
