package handlers

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// shedder bounds the signed API's requests in flight. Past the bound a
// request waits briefly for a slot and is then refused with 429 and
// Retry-After, before any signature is verified: under a burst far above
// capacity callers get a fast, honest answer instead of a timeout, and the
// service keeps its latency for the requests it accepts.
type shedder struct {
	slots chan struct{}
	wait  time.Duration
}

func newShedder(max int, wait time.Duration) *shedder {
	return &shedder{slots: make(chan struct{}, max), wait: wait}
}

func (h *Handlers) shed(next echo.HandlerFunc) echo.HandlerFunc {
	s := h.shedder
	return func(c echo.Context) error {
		select {
		case s.slots <- struct{}{}:
		default:
			t := time.NewTimer(s.wait)
			select {
			case s.slots <- struct{}{}:
				t.Stop()
			case <-t.C:
				h.metrics.shed.Inc()
				return &fault.RateLimited{Message: "the service is at capacity; retry shortly", RetryAfter: time.Second}
			case <-c.Request().Context().Done():
				t.Stop()
				return c.Request().Context().Err()
			}
		}
		defer func() { <-s.slots }()
		return next(c)
	}
}
