package handlers

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	sigFailures *prometheus.CounterVec
	decisions   *prometheus.CounterVec
	shed        prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "breakwater_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "breakwater_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		sigFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "breakwater_signature_failures_total", Help: "Rejected request signatures by cause.",
		}, []string{"cause"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "breakwater_decisions_total", Help: "Screening decisions by gate and decision.",
		}, []string{"gate", "decision"}),
	}
	m.shed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "breakwater_shed_total", Help: "Signed API requests refused with 429 because the service was at capacity.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.sigFailures, m.decisions, m.shed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry exposes the registry so other components can add collectors.
func (h *Handlers) Registry() *prometheus.Registry { return h.metrics.reg }

func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(c.Response().Status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		return nil
	}
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}
