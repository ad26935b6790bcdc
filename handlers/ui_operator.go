package handlers

import (
	"encoding/csv"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	dto "github.com/prometheus/client_model/go"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// operatorServers lists waiting registrations and registered servers.
func (h *Handlers) operatorServers(c echo.Context) error {
	board, err := h.svc.ServerBoard(c.Request().Context())
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "operator_servers.html", map[string]any{"Title": "op.servers.title", "Board": board, "Mode": h.svc.RegistrationMode()})
}

// formFailedBoard shows the server list again with the problem on top.
func (h *Handlers) formFailedBoard(c echo.Context, cause error) error {
	board, err := h.svc.ServerBoard(c.Request().Context())
	if err != nil {
		return err
	}
	return h.formFailed(c, "operator_servers.html", map[string]any{"Title": "op.servers.title", "Board": board, "Mode": h.svc.RegistrationMode()}, cause)
}

// registrationApprove makes the FASP registration call for a waiting request.
func (h *Handlers) registrationApprove(c echo.Context) error {
	if _, err := h.svc.ApproveRegistration(c.Request().Context(), c.Param("id"), h.mailComposer("mail.approved")); err != nil {
		return h.formFailedBoard(c, err)
	}
	return redirectDone(c, "/operator", "approved")
}

// registrationReject declines a waiting request.
func (h *Handlers) registrationReject(c echo.Context) error {
	if err := h.svc.RejectRegistration(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return redirectDone(c, "/operator", "rejected")
}

// operatorServer is one server: status, keys, usage, quota, admins.
func (h *Handlers) operatorServer(c echo.Context) error {
	d, err := h.svc.ServerDetail(c.Request().Context(), c.Param("id"), 30)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "operator_server.html", map[string]any{"Title": "op.server.title", "Detail": d, "Days": usageTable(d.Usage)})
}

// serverSuspend suspends (suspend=yes) or reinstates a server.
func (h *Handlers) serverSuspend(c echo.Context) error {
	id := c.Param("id")
	suspend := c.FormValue("suspend") == "yes"
	if err := h.svc.SuspendServer(c.Request().Context(), id, suspend); err != nil {
		return err
	}
	done := "reinstated"
	if suspend {
		done = "suspended"
	}
	return redirectDone(c, "/operator/servers/"+id, done)
}

// serverDelete removes a server and its admins, after a ticked confirmation.
func (h *Handlers) serverDelete(c echo.Context) error {
	id := c.Param("id")
	if c.FormValue("confirm") != "yes" {
		return h.serverFormFailed(c, id, provider.FieldErrors{fault.Invalid("confirm", "tick the box to confirm the deletion")})
	}
	if err := h.svc.RemoveServer(c.Request().Context(), id); err != nil {
		return err
	}
	return redirectDone(c, "/operator", "deleted")
}

// serverQuota sets the monthly quota (0 or empty: unlimited).
func (h *Handlers) serverQuota(c echo.Context) error {
	id := c.Param("id")
	raw := strings.TrimSpace(strings.ReplaceAll(c.FormValue("quota"), ",", ""))
	quota, perr := strconv.ParseInt(raw, 10, 64)
	if raw == "" {
		quota, perr = 0, nil
	}
	if perr != nil {
		return h.serverFormFailed(c, id, provider.FieldErrors{fault.Invalid("quota", "must be a whole number")})
	}
	if err := h.svc.SetQuota(c.Request().Context(), id, quota); err != nil {
		return h.serverFormFailed(c, id, err)
	}
	return redirectDone(c, "/operator/servers/"+id, "quota_saved")
}

func (h *Handlers) serverFormFailed(c echo.Context, id string, cause error) error {
	d, err := h.svc.ServerDetail(c.Request().Context(), id, 30)
	if err != nil {
		return err
	}
	return h.formFailed(c, "operator_server.html", map[string]any{"Title": "op.server.title", "Detail": d, "Days": usageTable(d.Usage)}, cause)
}

// operatorUsage is every server's usage this month against its quota.
func (h *Handlers) operatorUsage(c echo.Context) error {
	rows, err := h.svc.NetworkUsage(c.Request().Context())
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "operator_usage.html", map[string]any{"Title": "op.usage.title", "Rows": rows})
}

// operatorUsageCSV exports the same as CSV.
func (h *Handlers) operatorUsageCSV(c echo.Context) error {
	rows, err := h.svc.NetworkUsage(c.Request().Context())
	if err != nil {
		return err
	}
	return writeUsageCSV(c, "breakwater-network-usage.csv", []string{"server_id", "domain", "status", "checks_this_month", "monthly_quota", "percent"},
		func(w *csv.Writer) error {
			for _, r := range rows {
				if err := w.Write([]string{r.ServerID, r.Domain, r.Status, strconv.FormatInt(r.Quota.Used, 10),
					strconv.FormatInt(r.Quota.Limit, 10), strconv.Itoa(r.Quota.Percent)}); err != nil {
					return err
				}
			}
			return nil
		})
}

// operatorHealth shows the database, the background queue and request rates.
func (h *Handlers) operatorHealth(c echo.Context) error {
	health := h.svc.Health(c.Request().Context())
	rates := h.pages.rates.sample(h.metrics, time.Now())
	return h.render(c, http.StatusOK, "operator_health.html", map[string]any{"Title": "op.health.title", "Health": health, "Rates": rates})
}

// rateSampler turns the request counters of the metrics registry into
// rates: each look at the health page keeps a snapshot, and the rate is
// measured against the oldest snapshot of the last 15 minutes (or the
// process start).
type rateSampler struct {
	mu    sync.Mutex
	start time.Time
	snaps []rateSnap
}

type rateSnap struct {
	at     time.Time
	counts map[string]float64
}

// routeRate is one route's request rate.
type routeRate struct {
	Route     string
	PerSecond float64
	Errors    float64 // 5xx per second
}

// rateReport is what the health page shows.
type rateReport struct {
	Since  time.Time
	Total  float64
	Errors float64
	Routes []routeRate
}

func (r *rateSampler) sample(m *metrics, now time.Time) rateReport {
	counts := requestCounts(m)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.start.IsZero() {
		r.start = now
	}
	base := rateSnap{at: r.start, counts: map[string]float64{}}
	kept := r.snaps[:0]
	for _, s := range r.snaps {
		if now.Sub(s.at) <= 15*time.Minute {
			kept = append(kept, s)
		}
	}
	r.snaps = kept
	if len(r.snaps) > 0 && now.Sub(r.snaps[0].at) >= 10*time.Second {
		base = r.snaps[0]
	}
	if len(r.snaps) == 0 || now.Sub(r.snaps[len(r.snaps)-1].at) >= 10*time.Second {
		r.snaps = append(r.snaps, rateSnap{at: now, counts: counts})
	}
	secs := now.Sub(base.at).Seconds()
	if secs < 1 {
		secs = 1
	}
	rep := rateReport{Since: base.at}
	byRoute := map[string]*routeRate{}
	for key, v := range counts {
		route, code, _ := strings.Cut(key, "\x00")
		d := (v - base.counts[key]) / secs
		if d <= 0 {
			continue
		}
		rr := byRoute[route]
		if rr == nil {
			rr = &routeRate{Route: route}
			byRoute[route] = rr
		}
		rr.PerSecond += d
		rep.Total += d
		if strings.HasPrefix(code, "5") {
			rr.Errors += d
			rep.Errors += d
		}
	}
	for _, rr := range byRoute {
		rep.Routes = append(rep.Routes, *rr)
	}
	sort.Slice(rep.Routes, func(i, j int) bool { return rep.Routes[i].PerSecond > rep.Routes[j].PerSecond })
	if len(rep.Routes) > 15 {
		rep.Routes = rep.Routes[:15]
	}
	return rep
}

// requestCounts reads breakwater_http_requests_total by route and code.
func requestCounts(m *metrics) map[string]float64 {
	out := map[string]float64{}
	families, err := m.reg.Gather()
	if err != nil {
		return out
	}
	for _, f := range families {
		if f.GetName() != "breakwater_http_requests_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			out[label(mt, "route")+"\x00"+label(mt, "code")] += mt.GetCounter().GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
