package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// The server feed: origin servers currently emitting confirmed campaigns,
// for signed customers (JSON) and for everyone (Mastodon's CSV import).

// screeningActive refuses callers with neither spam_detection capability
// (403 capability_inactive), before the rate limit as the spec orders it.
func (h *Handlers) screeningActive(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := h.svc.RequireScreening(caller(c)); err != nil {
			return err
		}
		return next(c)
	}
}

// serversIndex is GET /spam_detection/v0/servers.
func (h *Handlers) serversIndex(c echo.Context) error {
	f, err := h.svc.ListCampaignServers(c.Request().Context(), caller(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=60")
	return c.JSON(http.StatusOK, f)
}

// feedCSV is the public GET /feeds/servers.csv: cacheable for a minute
// and revalidated with its entity tag.
func (h *Handlers) feedCSV(c echo.Context) error {
	body, etag, err := h.svc.ServerFeedCSV(c.Request().Context())
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", "public, max-age=60")
	hdr.Set("Content-Disposition", `inline; filename="servers.csv"`)
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", body)
}

// etagMatches applies If-None-Match (a list of tags, or *), weakly.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
