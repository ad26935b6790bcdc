package handlers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// adminOverview is the dashboard: decisions per hour and per day, top
// reasons, sign-ups beside posts.
func (h *Handlers) adminOverview(c echo.Context) error {
	ov, err := h.svc.Overview(c.Request().Context(), h.serverID(c))
	if err != nil {
		return err
	}
	cat := h.web(c).cat
	return h.render(c, http.StatusOK, "overview.html", map[string]any{
		"Title": "overview.title", "Overview": ov,
		"Hourly": decisionChart(cat, ov.Hourly, 3, "15:00", "2006-01-02 15:00"),
		"Daily":  decisionChart(cat, ov.Daily, 5, "01-02", "2006-01-02"),
		"Gates":  gateChart(cat, ov.Gates),
	})
}

// checkQuery reads the check log's search form.
func checkQuery(c echo.Context) provider.CheckQuery {
	return provider.CheckQuery{Decision: c.QueryParam("decision"), Gate: c.QueryParam("gate"),
		Verdict: c.QueryParam("verdict"), Text: c.QueryParam("q"), Before: c.QueryParam("before")}
}

// checksIndex is the searchable, paginated check log.
func (h *Handlers) checksIndex(c echo.Context) error {
	q := checkQuery(c)
	data := map[string]any{"Title": "checks.title", "Query": q}
	page, err := h.svc.SearchChecks(c.Request().Context(), h.serverID(c), q)
	if err != nil {
		return h.formFailed(c, "checks.html", data, err)
	}
	data["Page"] = page
	return h.render(c, http.StatusOK, "checks.html", data)
}

// adminCheckShow is one check with every reason and the verdict buttons.
func (h *Handlers) adminCheckShow(c echo.Context) error {
	rec, err := h.svc.GetCheck(c.Request().Context(), h.serverID(c), c.Param("id"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "check.html", map[string]any{"Title": "check.title", "Check": rec})
}

// checkFeedback records spam or ham, the same feedback as the API's.
func (h *Handlers) checkFeedback(c echo.Context) error {
	id := c.Param("id")
	err := h.svc.RecordFeedback(c.Request().Context(), h.serverID(c), provider.FeedbackInput{
		CheckID: id, Verdict: c.FormValue("verdict"), Note: c.FormValue("note"),
	})
	if err != nil {
		return err
	}
	return redirectDone(c, localPath(c.FormValue("next"), "/admin/checks/"+id), "feedback_"+c.FormValue("verdict"))
}

// debugIndex is the debug capability's required log of calls.
func (h *Handlers) debugIndex(c echo.Context) error {
	calls, err := h.svc.DebugCalls(c.Request().Context(), h.serverID(c), 100)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "debug.html", map[string]any{"Title": "debug.title", "Calls": calls})
}

// setupShow is the registration's key fingerprint, completion link and the
// steps to finish on the server; the page registration leads to.
func (h *Handlers) setupShow(c echo.Context) error {
	srv, err := h.svc.GetServer(c.Request().Context(), h.serverID(c))
	if err != nil {
		return err
	}
	var current *provider.ServerKeyInfo
	if len(srv.Keys) > 0 {
		current = &srv.Keys[0]
	}
	return h.render(c, http.StatusOK, "setup.html", map[string]any{"Title": "setup.title", "Server": srv, "Key": current})
}

// keysRotate registers a new key pair with the server; the admin confirms
// it there while the old key keeps working for the grace period.
func (h *Handlers) keysRotate(c echo.Context) error {
	if _, err := h.svc.RotateKey(c.Request().Context(), h.serverID(c)); err != nil {
		return h.formFailed(c, "error_form.html", map[string]any{"Title": "setup.title", "Back": "/admin/setup"}, err)
	}
	return redirectDone(c, "/admin/setup", "rotated")
}

// usageDays is how far back the usage page and its export go.
const usageDays = 90

// usageIndex is the server's usage by day and capability, and its quota.
func (h *Handlers) usageIndex(c echo.Context) error {
	rows, err := h.svc.Usage(c.Request().Context(), h.serverID(c), usageDays)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "usage.html", map[string]any{"Title": "usage.title", "Days": usageTable(rows), "Span": usageDays})
}

// usageCSV exports the same usage as CSV.
func (h *Handlers) usageCSV(c echo.Context) error {
	rows, err := h.svc.Usage(c.Request().Context(), h.serverID(c), usageDays)
	if err != nil {
		return err
	}
	return writeUsageCSV(c, "breakwater-usage.csv", []string{"day", "capability", "checks"}, func(w *csv.Writer) error {
		for _, r := range rows {
			if err := w.Write([]string{r.Day, r.Capability, strconv.FormatInt(r.Count, 10)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// usageDay is one row of the usage table.
type usageDay struct {
	Day              string
	Signups, Content int64
	Other            int64
}

func usageTable(rows []provider.UsageRow) []usageDay {
	var out []usageDay
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].Day != r.Day {
			out = append(out, usageDay{Day: r.Day})
		}
		d := &out[len(out)-1]
		switch r.Capability {
		case provider.CapSignupScreening:
			d.Signups += r.Count
		case provider.CapContentScreening:
			d.Content += r.Count
		default:
			d.Other += r.Count
		}
	}
	// newest first, as people read usage
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func writeUsageCSV(c echo.Context, filename string, header []string, rows func(*csv.Writer) error) error {
	resp := c.Response()
	resp.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	resp.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", filename))
	resp.WriteHeader(http.StatusOK)
	w := csv.NewWriter(resp)
	if err := w.Write(header); err != nil {
		return err
	}
	if err := rows(w); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// mastodonShow is the server's Mastodon connection (admin webhooks in,
// Admin API actions out), read-only: it is set up with the operator's
// 'breakwater mastodon connect'.
func (h *Handlers) mastodonShow(c echo.Context) error {
	st, err := h.svc.MastodonStatus(c.Request().Context(), h.serverID(c))
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		return err
	}
	return h.render(c, http.StatusOK, "mastodon.html", map[string]any{"Title": "mastodon.title", "Status": st})
}

// alertsShow is where the server's campaign alerts go (a signed webhook,
// e-mail) and the alerts sent so far with their deliveries.
func (h *Handlers) alertsShow(c echo.Context) error {
	data, err := h.alertsData(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "alerts.html", data)
}

func (h *Handlers) alertsData(c echo.Context) (map[string]any, error) {
	set, err := h.svc.AlertSettings(c.Request().Context(), h.serverID(c))
	if err != nil {
		return nil, err
	}
	sent, err := h.svc.Alerts(c.Request().Context(), h.serverID(c), 50)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Title": "alerts.title", "Settings": set, "Alerts": sent}, nil
}

// alertsUpdate stores the webhook URL and e-mail address for alerts.
func (h *Handlers) alertsUpdate(c echo.Context) error {
	_, err := h.svc.SetAlertSettings(c.Request().Context(), h.serverID(c), provider.AlertSettings{
		WebhookURL: c.FormValue("webhookUrl"), Email: c.FormValue("email"),
	})
	if err != nil {
		data, derr := h.alertsData(c)
		if derr != nil {
			return derr
		}
		return h.formFailed(c, "alerts.html", data, err)
	}
	return redirectDone(c, "/admin/alerts", "alerts_saved")
}

// alertsTest queues a test alert through the same queue as real ones.
func (h *Handlers) alertsTest(c echo.Context) error {
	if _, err := h.svc.TestAlert(c.Request().Context(), h.serverID(c)); err != nil {
		data, derr := h.alertsData(c)
		if derr != nil {
			return derr
		}
		return h.formFailed(c, "alerts.html", data, err)
	}
	return redirectDone(c, "/admin/alerts", "alert_test")
}
