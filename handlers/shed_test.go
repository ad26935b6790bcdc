package handlers_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers"
	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/models/testdb"
)

// TestBurstBeyondCapacityGets429: past the in-flight bound, callers get a
// fast 429 with Retry-After, never a timeout, and the service answers
// normally again as soon as the burst ends.
func TestBurstBeyondCapacityGets429(t *testing.T) {
	app := handlertest.NewApp(t, testdb.SQLite(t), handlertest.Config{Handlers: func(o *handlers.Options) {
		o.MaxInFlight, o.ShedWait = 1, time.Microsecond
	}})
	m := handlertest.NewMastodon(t)
	_, p := app.Register(t, m)
	app.Activate(t, m, p, "signup_screening")
	var (
		mu     sync.Mutex
		counts = map[int]int{}
		slow   time.Duration
		wg     sync.WaitGroup
	)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := fmt.Appendf(nil, `{"account":{"username":"burst%d","email":"burst%d@posteo.de"},"ip":"198.51.100.%d"}`, i, i, i%250+1)
			req, _ := http.NewRequest("POST", app.URL+"/spam_detection/v0/signup_screening/checks", nil)
			req.Header.Set("Content-Type", "application/json")
			_ = signRequest(req, body, p)
			start := time.Now()
			status, _, hdr := send(t, req, body)
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			counts[status]++
			if status == 429 {
				if hdr.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
				slow = max(slow, d)
			}
		}(i)
	}
	wg.Wait()
	if counts[429] == 0 || counts[200] == 0 || counts[200]+counts[429] != 64 {
		t.Fatalf("burst outcome %v, want some 200 and the rest 429", counts)
	}
	if slow > 2*time.Second {
		t.Errorf("a refusal took %s; it must be fast", slow)
	}
	time.Sleep(1100 * time.Millisecond)
	if r := m.Call(t, p, "POST", "/spam_detection/v0/signup_screening/checks", signupBody("after_burst", "after@posteo.de", "192.0.2.9")); r.Status != 200 {
		t.Fatalf("after the burst: %d %s", r.Status, r.Body)
	}
}
