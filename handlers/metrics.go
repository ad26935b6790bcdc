package handlers

import (
	"database/sql"
	"regexp"
	"strconv"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/campaigns"
	"github.com/breakwater-fasp/breakwater/provider/screening"
	"github.com/breakwater-fasp/breakwater/provider/similarity"
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
		// The live heap after the last GC (go_gc_heap_live_bytes) is what a
		// soak watches: heap in use saw-tooths with every collection.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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

// dbCollector exposes the database pool (open, in use, waits), so an
// exhausted pool or a database outage shows on dashboards.
type dbCollector struct {
	svc                          interface{ DBStats() (sql.DBStats, bool) }
	open, inUse, waitCount, wait *prometheus.Desc
}

func newDBCollector(svc interface{ DBStats() (sql.DBStats, bool) }) *dbCollector {
	return &dbCollector{svc: svc,
		open:      prometheus.NewDesc("breakwater_db_open_connections", "Open database connections.", nil, nil),
		inUse:     prometheus.NewDesc("breakwater_db_in_use_connections", "Database connections in use.", nil, nil),
		waitCount: prometheus.NewDesc("breakwater_db_wait_total", "Times a request waited for a database connection.", nil, nil),
		wait:      prometheus.NewDesc("breakwater_db_wait_seconds_total", "Time spent waiting for database connections.", nil, nil),
	}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.inUse
	ch <- c.waitCount
	ch <- c.wait
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.svc.DBStats()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(st.OpenConnections))
	ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(st.InUse))
	ch <- prometheus.MustNewConstMetric(c.waitCount, prometheus.CounterValue, float64(st.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, st.WaitDuration.Seconds())
}

// engineCollector exposes the screening engine's memory: what its windows
// and near-duplicate indexes hold, and what keeping within
// BREAKWATER_ENGINE_MEMORY has cost (evicted keys, dropped generations:
// both mean shorter windows than configured).
type engineCollector struct {
	svc                                      engineStatser
	series, seriesBytes, evictions           *prometheus.Desc
	indexEntries, indexDropped, indexRefused *prometheus.Desc
	candidates, candEvicted                  *prometheus.Desc
}

// engineStatser is what the collector reads (the provider's Service).
type engineStatser interface {
	EngineStats() screening.Stats
	CampaignStats() (campaigns.Stats, bool)
}

func newEngineCollector(svc engineStatser) *engineCollector {
	index := []string{"index"}
	return &engineCollector{svc: svc,
		candidates: prometheus.NewDesc("breakwater_campaign_candidates", "Candidate clusters the campaign tracker holds, by kind.", []string{"kind"}, nil),
		candEvicted: prometheus.NewDesc("breakwater_campaign_candidates_evicted_total",
			"Exact-key candidate clusters evicted to stay within the memory budget.", nil, nil),
		series:       prometheus.NewDesc("breakwater_engine_series", "Per-key window series held by the screening engine.", nil, nil),
		seriesBytes:  prometheus.NewDesc("breakwater_engine_series_bytes", "Estimated bytes of the evictable window series.", nil, nil),
		evictions:    prometheus.NewDesc("breakwater_engine_series_evictions_total", "Window series evicted to stay within the engine's memory budget.", nil, nil),
		indexEntries: prometheus.NewDesc("breakwater_engine_index_entries", "Fingerprints held by a near-duplicate index.", index, nil),
		indexDropped: prometheus.NewDesc("breakwater_engine_index_dropped_generations_total", "Index generations dropped early to stay within the memory budget.", index, nil),
		indexRefused: prometheus.NewDesc("breakwater_engine_index_refused_total", "New fingerprints not indexed because the index was full.", index, nil),
	}
}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.series, c.seriesBytes, c.evictions, c.indexEntries, c.indexDropped, c.indexRefused,
		c.candidates, c.candEvicted} {
		ch <- d
	}
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.svc.EngineStats()
	ch <- prometheus.MustNewConstMetric(c.series, prometheus.GaugeValue, float64(st.Series))
	ch <- prometheus.MustNewConstMetric(c.seriesBytes, prometheus.GaugeValue, float64(st.SeriesBytes))
	ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(st.SeriesEvictions))
	for _, ix := range []struct {
		name string
		st   similarity.LSHStats
	}{{"text", st.Text}, {"media", st.Media}, {"reasons", st.Reasons}} {
		ch <- prometheus.MustNewConstMetric(c.indexEntries, prometheus.GaugeValue, float64(ix.st.Entries), ix.name)
		ch <- prometheus.MustNewConstMetric(c.indexDropped, prometheus.CounterValue, float64(ix.st.Dropped), ix.name)
		ch <- prometheus.MustNewConstMetric(c.indexRefused, prometheus.CounterValue, float64(ix.st.Refused), ix.name)
	}
	cs, ok := c.svc.CampaignStats()
	if !ok {
		return
	}
	for _, k := range []struct {
		kind string
		n    int64
	}{{"text", cs.Text.Entries}, {"phash", cs.PHash.Entries}, {"media", int64(cs.Media)}, {"link", int64(cs.Links)}, {"signup", int64(cs.Signups)}} {
		ch <- prometheus.MustNewConstMetric(c.candidates, prometheus.GaugeValue, float64(k.n), k.kind)
	}
	ch <- prometheus.MustNewConstMetric(c.candEvicted, prometheus.CounterValue, float64(cs.EvictedCandidates))
}
