package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// apiError is the one JSON error shape every endpoint uses.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// RequestID lets an operator find the log line of an internal error.
	RequestID string `json:"requestId,omitempty"`
}

// badRequest is a client error found in the HTTP layer (malformed JSON).
type badRequest struct {
	code, msg, field string
	status           int
}

func (e *badRequest) Error() string { return e.msg }

func invalidJSON(err error) error {
	msg := "the body is not valid JSON"
	field := ""
	var ute *jsonTypeError
	if errors.As(err, &ute) {
		msg = fmt.Sprintf("%s must be %s", ute.field, ute.want)
		field = ute.field
		return &badRequest{code: "invalid_field", msg: msg, field: field, status: http.StatusUnprocessableEntity}
	}
	return &badRequest{code: "invalid_json", msg: msg + ": " + err.Error(), status: http.StatusBadRequest}
}

// errorStatus maps an error to its status and safe JSON body. It is the only
// place that decides what a client may learn about a failure.
func errorStatus(err error) (int, apiError, http.Header) {
	var (
		ve  *fault.ValidationError
		ua  *fault.Unauthorized
		fb  *fault.Forbidden
		rl  *fault.RateLimited
		up  *fault.Upstream
		br  *badRequest
		he  *echo.HTTPError
		hdr = http.Header{}
	)
	switch {
	case errors.As(err, &br):
		return br.status, apiError{Error: br.code, Message: br.msg, Field: br.field}, hdr
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity, apiError{Error: "invalid_field", Message: ve.Error(), Field: ve.Field}, hdr
	case errors.As(err, &ua):
		return http.StatusUnauthorized, apiError{Error: ua.Cause, Message: ua.Message}, hdr
	case errors.Is(err, fault.ErrSuspended):
		return http.StatusForbidden, apiError{Error: "suspended", Message: "this server is suspended by the provider operator"}, hdr
	case errors.As(err, &fb):
		return http.StatusForbidden, apiError{Error: "capability_inactive", Message: fb.Message}, hdr
	case errors.Is(err, fault.ErrNotFound):
		return http.StatusNotFound, apiError{Error: "not_found", Message: "not found"}, hdr
	case errors.Is(err, fault.ErrConflict):
		return http.StatusConflict, apiError{Error: "conflict", Message: err.Error()}, hdr
	case errors.As(err, &rl):
		hdr.Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds()+0.999)))
		return http.StatusTooManyRequests, apiError{Error: "rate_limited", Message: rl.Message}, hdr
	case errors.Is(err, fault.ErrUnavailable):
		hdr.Set("Retry-After", "5")
		return http.StatusServiceUnavailable, apiError{Error: "unavailable", Message: "the service is temporarily unavailable; retry later"}, hdr
	case errors.As(err, &up):
		return http.StatusBadGateway, apiError{Error: "upstream", Message: up.Message}, hdr
	case errors.As(err, &he):
		return he.Code, httpErrorBody(he), hdr
	}
	return http.StatusInternalServerError, apiError{Error: "internal", Message: "internal error"}, hdr
}

func httpErrorBody(he *echo.HTTPError) apiError {
	switch he.Code {
	case http.StatusNotFound:
		return apiError{Error: "not_found", Message: "no such endpoint"}
	case http.StatusMethodNotAllowed:
		return apiError{Error: "method_not_allowed", Message: "method not allowed on this endpoint"}
	case http.StatusRequestEntityTooLarge:
		return apiError{Error: "too_large", Message: "the body is larger than the limit"}
	case http.StatusUnsupportedMediaType:
		return apiError{Error: "unsupported_media_type", Message: "send Content-Type: application/json"}
	}
	msg := http.StatusText(he.Code)
	if s, ok := he.Message.(string); ok && he.Code < 500 {
		msg = s
	}
	return apiError{Error: "error", Message: msg}
}

// everySecond lets one report through per second and counts the rest.
type everySecond struct {
	mu     sync.Mutex
	last   time.Time
	missed int
}

func (e *everySecond) tick(now time.Time) (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.missed++
	if now.Sub(e.last) < time.Second {
		return 0, false
	}
	n := e.missed
	e.last, e.missed = now, 0
	return n, true
}

// handleError is echo's HTTPErrorHandler: it logs unknown errors once, with
// the request id, and never shows their text to the client.
func (h *Handlers) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body, hdr := errorStatus(err)
	if status >= 500 {
		body.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		switch status {
		case http.StatusInternalServerError:
			h.log.ErrorContext(c.Request().Context(), "request failed", "request_id", body.RequestID,
				"route", c.Path(), "error", err)
		case http.StatusServiceUnavailable:
			// A dependency outage fails every request alike: say so once a
			// second, with how many were refused, rather than per request.
			if n, ok := h.outageLog.tick(time.Now()); ok {
				h.log.ErrorContext(c.Request().Context(), "requests failing: dependency unavailable", "request_id", body.RequestID,
					"route", c.Path(), "refused_since_last_report", n, "error", err)
			}
		}
	}
	if u := (*fault.Unauthorized)(nil); errors.As(err, &u) {
		h.metrics.sigFailures.WithLabelValues(u.Cause).Inc()
	}
	for k, v := range hdr {
		c.Response().Header()[k] = v
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if isPage(c) {
		h.renderErrorPage(c, status, body)
		return
	}
	_ = c.JSON(status, body)
}
