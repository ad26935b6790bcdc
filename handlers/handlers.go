// Package handlers is Breakwater's HTTP layer (echo v4): the FASP API, the
// web pages and operational endpoints. Handlers are thin: bind, call the
// provider, render. routes.go is the one route table; errors.go the one
// error handler.
package handlers

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
)

// Options configures the HTTP layer.
type Options struct {
	// MaxBodyBytes bounds request bodies (default 256 KiB).
	MaxBodyBytes int64
	// MaxInFlight bounds signed API requests being served at once; more
	// wait up to ShedWait for a slot, then get 429 (default 256, 50 ms).
	MaxInFlight int
	ShedWait    time.Duration
	// TrustedProxies are the ranges whose X-Forwarded-For is believed when
	// recording a caller's address; empty means use the direct peer address.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
}

// Handlers serves one provider.Service.
type Handlers struct {
	opts    Options
	svc     *provider.Service
	log     *slog.Logger
	metrics *metrics
	pages   *pages
	shedder *shedder
	// outageLog rate-limits the log of 503s during a database outage.
	outageLog everySecond
}

// New builds the echo router with every route. It is the only constructor of
// the HTTP surface, so tests and serve use the same routes and guards.
func New(svc *provider.Service, opts Options) (*echo.Echo, *Handlers, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 256 << 10
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 256
	}
	if opts.ShedWait <= 0 {
		opts.ShedWait = 50 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	pg, err := newPages()
	if err != nil {
		return nil, nil, err
	}
	h := &Handlers{opts: opts, svc: svc, log: opts.Logger, metrics: newMetrics(), pages: pg,
		shedder: newShedder(opts.MaxInFlight, opts.ShedWait)}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.handleError
	e.IPExtractor = ipExtractor(opts.TrustedProxies)
	h.metrics.reg.MustRegister(newDBCollector(svc), newEngineCollector(svc))
	h.routes(e)
	return e, h, nil
}

func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	var opts []echo.TrustOption
	opts = append(opts, echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(prefixToIPNet(p)))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
