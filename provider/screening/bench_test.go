package screening

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// fillContent replays n synthetic posts spread over the last hour into the
// engine: random text fingerprints (what the near-duplicate index holds),
// distinct authors on 200 servers, a tenth with a link from 5,000 domains,
// a twentieth with an image.
func fillContent(e *Engine, now time.Time, n int) {
	r := rand.New(rand.NewPCG(42, uint64(n)))
	for i := range n {
		f := Features{
			Version:          FeaturesVersion,
			Gate:             GateContent,
			AccountKey:       Key64(r.Uint64() | 1),
			AuthorAgeSeconds: int64(r.IntN(1000 * 86400)),
			Visibility:       "public",
			TextPrint:        Key64(r.Uint64() | 1),
		}
		if i%10 == 0 {
			f.LinkDomains = []string{fmt.Sprintf("site%d.example", r.IntN(5000))}
		}
		if i%20 == 0 {
			f.MediaPHashes = []Key64{Key64(r.Uint64() | 1)}
		}
		at := now.Add(-time.Duration(r.Int64N(int64(59 * time.Minute))))
		e.Observe(fmt.Sprintf("srv%d.example", i%200), f, at, Allow)
	}
}

func benchPosts(now time.Time, n int) []ContentInput {
	g := newTraffic(99)
	out := make([]ContentInput, n)
	for i := range out {
		text := fmt.Sprintf(`<p>%s <a href="https://github.com/org/repo%d">github.com/org/repo%d</a></p>`, g.ordinaryText(), i, i)
		out[i] = post(fmt.Sprintf("author%d", i), time.Duration(i%90)*24*time.Hour, now, text, mentions(2, &yes))
		if i%5 == 0 {
			media(fmt.Sprintf("%064x", i), fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15))(&out[i])
		}
	}
	return out
}

func BenchmarkScreenContent(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		clk := newClock()
		e := newEngine(b, clk)
		fillContent(e, clk.Now(), n)
		posts := benchPosts(clk.Now(), 1000)
		p := DefaultPolicy()
		b.Run(fmt.Sprintf("indexed=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e.ScreenContent(bg, "bench.example", p, posts[i%len(posts)])
				i++
			}
		})
	}
}

func BenchmarkScreenSignup(b *testing.B) {
	clk := newClock()
	e := newEngine(b, clk)
	g := newTraffic(98)
	p := DefaultPolicy()
	// A day of history at 90 sign-ups an hour over three servers.
	for i := range 24 * 90 {
		clk.Advance(40 * time.Second)
		e.ScreenSignup(bg, servers[i%3], p, g.ordinarySignup())
	}
	ins := make([]SignupInput, 1000)
	for i := range ins {
		ins[i] = g.ordinarySignup()
		ins[i].Account.Reason = "I would like to follow people who write about gardening, bread and the local football club"
		ins[i].Account.ReasonRequired = true
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.ScreenSignup(bg, servers[i%3], p, ins[i%len(ins)])
		i++
	}
}
