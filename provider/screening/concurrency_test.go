package screening

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentUse drives every public method from several goroutines at
// once; run with -race to check the locking.
func TestConcurrentUse(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	p := DefaultPolicy()
	p.Rules = []Rule{{ID: "r", Pattern: "crypto", Weight: 10}}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newTraffic(uint64(100 + w))
			for i := range 300 {
				srv := servers[(i+w)%3]
				var o Outcome
				switch i % 4 {
				case 0:
					o = e.ScreenSignup(bg, srv, p, g.botSignup())
				case 1:
					o = e.ScreenSignup(bg, srv, p, g.ordinarySignup())
				case 2:
					o = e.ScreenContent(bg, srv, p, post(fmt.Sprintf("w%d", i), time.Hour, clk.Now(), "<p>"+g.spamText()+"</p>", media(fmt.Sprintf("%064x", i%3), "c3e1f0f0d8c88c0e")))
				default:
					o = e.ScreenContent(bg, srv, p, g.ordinaryPost(clk.Now()))
				}
				e.Observe("replica.example", o.Features, o.At, o.Decision)
				if i%7 == 0 {
					_ = e.Learn(srv, o.Features, VerdictSpam, "")
				}
				if i%50 == 0 {
					e.Prune()
					if _, err := e.ExportLearning(); err != nil {
						t.Error(err)
					}
				}
				if w == 0 {
					clk.Advance(time.Second)
				}
			}
		}()
	}
	wg.Wait()
}
