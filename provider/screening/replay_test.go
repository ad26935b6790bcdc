package screening

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// persisted is what the check store keeps per check.
type persisted struct {
	Server  string
	Outcome json.RawMessage
}

// checkStream is a mixed, deterministic stream of checks: ordinary traffic
// plus a sign-up wave and a content wave, some private mentions and media.
type checkStream struct {
	g *traffic
	i int
}

func (s *checkStream) next(e *Engine, clk *clock) (string, Outcome) {
	s.i++
	clk.Advance(15 * time.Second)
	srv := servers[s.i%3]
	p := DefaultPolicy()
	switch s.i % 7 {
	case 0:
		return srv, e.ScreenSignup(bg, srv, p, s.g.ordinarySignup())
	case 1:
		return srv, e.ScreenSignup(bg, srv, p, s.g.botSignup())
	case 2:
		text := fmt.Sprintf(`<p>%s <a href="https://promo%d.example/x">promo</a></p>`, s.g.spamText(), s.i%4)
		in := post(fmt.Sprintf("w%d", s.i), 3*time.Hour, clk.Now(), text, media(fmt.Sprintf("%064x", s.i%5), "c3e1f0f0d8c88c0e"))
		return srv, e.ScreenContent(bg, srv, p, in)
	case 3:
		in := post(fmt.Sprintf("dm%d", s.i%9), 2*time.Hour, clk.Now(), "<p>claim your investment credit now</p>", mentions(3, &no), visibility("direct"))
		return srv, e.ScreenContent(bg, srv, p, in)
	default:
		return srv, e.ScreenContent(bg, srv, p, s.g.ordinaryPost(clk.Now()))
	}
}

func sameTime(o Outcome) Outcome {
	o.At = o.At.UTC()
	return o
}

func TestObserveReplayGivesIdenticalDecisions(t *testing.T) {
	clkA := newClock()
	a := newEngine(t, clkA)
	stream := &checkStream{g: newTraffic(9)}
	var log []persisted
	decisions := map[string]int{}
	for range 1500 {
		srv, o := stream.next(a, clkA)
		raw, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, persisted{srv, raw})
		decisions[o.Decision]++
	}
	if decisions[Review] == 0 || decisions[Reject] == 0 || decisions[Allow] == 0 {
		t.Fatalf("stream should exercise every decision: %v", decisions)
	}

	replay := func(order []persisted) *Engine {
		clkB := &clock{t: clkA.Now()}
		b := newEngine(t, clkB)
		for _, rec := range order {
			var o Outcome
			if err := json.Unmarshal(rec.Outcome, &o); err != nil {
				t.Fatal(err)
			}
			b.Observe(rec.Server, o.Features, o.At, o.Decision)
		}
		return b
	}
	shuffled := append([]persisted(nil), log...)
	rand.New(rand.NewPCG(5, 5)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

	for name, order := range map[string][]persisted{"in order": log, "shuffled": shuffled} {
		t.Run(name, func(t *testing.T) {
			// Both engines screen the same next checks at the same times.
			a2 := newEngine(t, &clock{t: clkA.Now()})
			for _, rec := range log {
				var o Outcome
				_ = json.Unmarshal(rec.Outcome, &o)
				a2.Observe(rec.Server, o.Features, o.At, o.Decision)
			}
			b := replay(order)
			clk := &clock{t: clkA.Now()}
			a2.now, b.now = clk.Now, clk.Now
			sa, sb := &checkStream{g: newTraffic(77), i: stream.i}, &checkStream{g: newTraffic(77), i: stream.i}
			for k := range 200 {
				clkCopy := &clock{t: clk.Now()}
				_, oa := sa.next(a2, clk)
				_, ob := sb.next(b, clkCopy)
				if !reflect.DeepEqual(sameTime(oa), sameTime(ob)) {
					t.Fatalf("check %d differs:\n original %s %d %v\n replayed %s %d %v", k, oa.Decision, oa.Score, codes(oa), ob.Decision, ob.Score, codes(ob))
				}
			}
		})
	}

	// The original engine itself (not a replay) agrees with a replay too,
	// even though it prunes now and then and the replay never does.
	b := replay(log)
	clk := &clock{t: clkA.Now()}
	b.now = clk.Now
	sa, sb := &checkStream{g: newTraffic(78), i: stream.i}, &checkStream{g: newTraffic(78), i: stream.i}
	for k := range 300 {
		if k%37 == 0 {
			a.Prune()
		}
		_, oa := sa.next(a, clkA)
		_, ob := sb.next(b, clk)
		if !reflect.DeepEqual(sameTime(oa), sameTime(ob)) {
			t.Fatalf("check %d: original %s %d %v, replayed %s %d %v", k, oa.Decision, oa.Score, codes(oa), ob.Decision, ob.Score, codes(ob))
		}
	}
}

func TestFeaturesArePrivacySafe(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	o := e.ScreenSignup(bg, servers[0], DefaultPolicy(), signup("alice_w", "alice.wonder+x@gmail.com", "203.0.113.77", withReason("I love rabbit holes and tea parties")))
	raw, _ := json.Marshal(o)
	for _, secret := range []string{"alice.wonder", "alicewonder", "203.0.113", "rabbit", "gmail"} {
		if contains(raw, secret) {
			t.Errorf("sign-up outcome leaks %q: %s", secret, raw)
		}
	}
	o = e.ScreenContent(bg, servers[0], DefaultPolicy(), post("bob", time.Hour, clk.Now(), "<p>my secret sourdough recipe is at https://bread.example/s</p>", visibility("direct"), mentions(1, &no)))
	raw, _ = json.Marshal(o)
	for _, secret := range []string{"sourdough", "recipe", "user0"} {
		if contains(raw, secret) {
			t.Errorf("content outcome leaks %q: %s", secret, raw)
		}
	}
	if !contains(raw, "bread.example") {
		t.Errorf("link domains are kept for link signals: %s", raw)
	}
}

func contains(b []byte, s string) bool { return stringsContains(string(b), s) }
