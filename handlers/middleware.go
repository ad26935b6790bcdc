package handlers

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/fault"
)

const (
	ctxCaller = "breakwater.caller"
	ctxBody   = "breakwater.body"
)

// readBody reads the raw body once, bounded: signatures are computed over
// the exact bytes, so handlers decode from the copy kept in the context.
func (h *Handlers) readBody(c echo.Context) ([]byte, error) {
	if b, ok := c.Get(ctxBody).([]byte); ok {
		return b, nil
	}
	r := c.Request()
	if r.ContentLength > h.opts.MaxBodyBytes {
		return nil, &badRequest{code: "too_large", msg: "the body is larger than the limit", status: http.StatusRequestEntityTooLarge}
	}
	body, err := readAll(http.MaxBytesReader(c.Response(), r.Body, h.opts.MaxBodyBytes), r.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &badRequest{code: "too_large", msg: "the body is larger than the limit", status: http.StatusRequestEntityTooLarge}
		}
		return nil, &badRequest{code: "invalid_body", msg: "the body could not be read", status: http.StatusBadRequest}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	c.Set(ctxBody, body)
	return body, nil
}

// readAll is io.ReadAll into a buffer sized for a declared length, so a body
// of known size is read without growing (and copying) the buffer on the way.
// The size given ahead is capped: a declared length costs nothing to send,
// and memory should follow the bytes that actually arrive.
func readAll(r io.Reader, declared int64) ([]byte, error) {
	const maxAhead = 64 << 10
	if declared <= 0 || declared > maxAhead {
		return io.ReadAll(r)
	}
	// One byte more than declared, so that reaching the end is seen
	// without growing the buffer.
	b := make([]byte, 0, declared+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // more than declared (net/http does not let that happen): grow
		}
	}
}

func caller(c echo.Context) *provider.Caller {
	cl, _ := c.Get(ctxCaller).(*provider.Caller)
	return cl
}

// requireSignature authenticates the server before any other work, applies
// its rate limit, and signs every 2xx/3xx answer it gets.
func (h *Handlers) requireSignature(next echo.HandlerFunc) echo.HandlerFunc {
	return h.signature(next, true)
}

// optionalSignature is for public documents (provider_info): a signed
// request is verified and gets a signed answer, an unsigned one is served as
// is.
func (h *Handlers) optionalSignature(next echo.HandlerFunc) echo.HandlerFunc {
	return h.signature(next, false)
}

func (h *Handlers) signature(next echo.HandlerFunc, required bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !required && !provider.HasSignature(c.Request()) {
			return next(c)
		}
		body, err := h.readBody(c)
		if err != nil {
			return err
		}
		cl, err := h.svc.Authenticate(c.Request().Context(), c.Request(), body)
		if errors.Is(err, fault.ErrSuspended) && suspendedMayCall(c) {
			err = nil
		}
		if err != nil {
			return err
		}
		c.Set(ctxCaller, cl)
		orig := c.Response().Writer
		// Headers go straight into the real response's map (nothing is sent
		// before orig.WriteHeader below); only status and body wait.
		buf := &bufferedWriter{header: orig.Header()}
		c.Response().Writer = buf
		func() {
			defer func() { c.Response().Writer = orig }()
			if err := next(c); err != nil {
				c.Error(err)
			}
		}()
		status := buf.status
		if status == 0 {
			status = http.StatusOK
		}
		if status >= 200 && status < 400 {
			h.svc.SignResponse(cl, orig.Header(), status, buf.body.Bytes())
		}
		orig.WriteHeader(status)
		_, err = orig.Write(buf.body.Bytes())
		return err
	}
}

// suspendedMayCall lists what a suspended server may still do: read the
// provider's information and erase data it sent (a privacy right that
// suspension must not take away).
func suspendedMayCall(c echo.Context) bool {
	r := c.Request()
	return (r.Method == http.MethodGet && strings.HasSuffix(c.Path(), "/provider_info")) ||
		(r.Method == http.MethodDelete && strings.HasSuffix(c.Path(), "/spam_detection/v0/checks/:id"))
}

// limited applies the caller's rate limit. It runs after the capability
// check, so an inactive capability is reported as such rather than as 429.
func (h *Handlers) limited(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if cl := caller(c); cl != nil {
			if err := h.svc.Allow(cl); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// capability refuses callers that have not activated the capability.
func (h *Handlers) capability(id string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := h.svc.RequireCapability(c.Request().Context(), caller(c), id); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// bufferedWriter holds a response until it can be signed.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() http.Header { return w.header }
func (w *bufferedWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *bufferedWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

// accessLog logs each request once, at the edge, with its request id and the
// server id when known. Never IPs, bodies or headers.
func (h *Handlers) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		level := slog.LevelDebug
		if c.Response().Status >= 400 {
			level = slog.LevelInfo
		}
		if !h.log.Enabled(c.Request().Context(), level) {
			return nil
		}
		attrs := []any{
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"method", c.Request().Method, "route", c.Path(),
			"status", c.Response().Status, "duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		}
		if cl := caller(c); cl != nil {
			attrs = append(attrs, "server_id", cl.ServerID)
		}
		h.log.Log(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}
