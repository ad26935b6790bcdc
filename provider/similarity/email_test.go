package similarity

import (
	"slices"
	"testing"
)

func TestCanonicalEmail(t *testing.T) {
	cases := []struct{ in, want, domain string }{
		{"J.Doe+spam@GMail.com", "jdoe@gmail.com", "gmail.com"},
		{"j.d.o.e@googlemail.com", "jdoe@gmail.com", "gmail.com"},
		{"first.last+x@outlook.com", "first.last@outlook.com", "outlook.com"},
		{"  Bob@Example.ORG. ", "bob@example.org", "example.org"},
		{"+tag@example.org", "+tag@example.org", "example.org"},
		{"a@b@c.example", "a@b@c.example", "c.example"},
	}
	for _, c := range cases {
		got, dom, ok := CanonicalEmail(c.in)
		if !ok || got != c.want || dom != c.domain {
			t.Errorf("CanonicalEmail(%q) = %q %q %v", c.in, got, dom, ok)
		}
	}
	for _, bad := range []string{"", "nobody", "@x.org", "x@"} {
		if _, _, ok := CanonicalEmail(bad); ok {
			t.Errorf("CanonicalEmail(%q) ok", bad)
		}
	}
}

func TestParentDomains(t *testing.T) {
	got := ParentDomains("a.b.example.com")
	want := []string{"a.b.example.com", "b.example.com", "example.com"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
	if got := ParentDomains("localhost"); !slices.Equal(got, []string{"localhost"}) {
		t.Fatalf("got %q", got)
	}
}
