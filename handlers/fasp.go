package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// providerInfo serves GET /provider_info.
func (h *Handlers) providerInfo(c echo.Context) error {
	return c.JSON(http.StatusOK, h.svc.Info())
}

// activationCreate serves POST /capabilities/:id/:version/activation. The
// body may be empty: Mastodon sends none.
func (h *Handlers) activationCreate(c echo.Context) error {
	if err := h.svc.SetActivation(c.Request().Context(), caller(c), c.Param("id"), c.Param("version"), true); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// activationDelete serves DELETE /capabilities/:id/:version/activation.
func (h *Handlers) activationDelete(c echo.Context) error {
	if err := h.svc.SetActivation(c.Request().Context(), caller(c), c.Param("id"), c.Param("version"), false); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// debugLogCreate serves POST /debug/v0/callback/logs: log, answer 201, call back.
func (h *Handlers) debugLogCreate(c echo.Context) error {
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	if err := h.svc.DebugLog(c.Request().Context(), caller(c), c.RealIP(), body); err != nil {
		return err
	}
	return c.NoContent(http.StatusCreated)
}

func (h *Handlers) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (h *Handlers) readyz(c echo.Context) error {
	if err := h.svc.Ready(c.Request().Context()); err != nil {
		h.log.WarnContext(c.Request().Context(), "not ready", "error", err)
		c.Response().Header().Set("Retry-After", "5")
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}

func (h *Handlers) logPanic(c echo.Context, err error, stack []byte) error {
	h.log.ErrorContext(c.Request().Context(), "panic", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"route", c.Path(), "error", err, "stack", string(stack))
	return err
}
