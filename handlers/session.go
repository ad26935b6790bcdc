package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/fault"
)

const (
	ctxWeb = "breakwater.web"
	// maxFormBytes bounds a web form's body.
	maxFormBytes = 64 << 10
)

// webCtx is what the web middleware learned about a browser.
type webCtx struct {
	cat *catalog
	// browser is the per-browser random value form tokens are bound to.
	browser string
	sess    *provider.Session
}

// cookie names; on https the __Host- prefix pins them to this host and path.
func (h *Handlers) cookieName(base string) string {
	if h.svc.SecureCookies() {
		return "__Host-" + base
	}
	return base
}

func (h *Handlers) setCookie(c echo.Context, base, value string, expires time.Time) {
	ck := &http.Cookie{Name: h.cookieName(base), Value: value, Path: "/", HttpOnly: true,
		Secure: h.svc.SecureCookies(), SameSite: http.SameSiteLaxMode}
	if expires.IsZero() {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires.UTC()
		ck.MaxAge = int(time.Until(expires).Seconds())
		if ck.MaxAge <= 0 {
			ck.MaxAge = -1
		}
	}
	c.SetCookie(ck)
}

func cookieValue(c echo.Context, name string) string {
	ck, err := c.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}

// web returns the browser's web context; outside the web routes (an error
// page for an API path) it is built from the headers alone.
func (h *Handlers) web(c echo.Context) *webCtx {
	if w, ok := c.Get(ctxWeb).(*webCtx); ok {
		return w
	}
	return &webCtx{cat: h.pages.cats.negotiate(c.Request().Header.Get("Accept-Language"))}
}

// webContext prepares every page and form: the language (cookie, then
// Accept-Language), the per-browser form-token cookie and the session.
func (h *Handlers) webContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		w := &webCtx{cat: h.pages.cats.get(cookieValue(c, h.cookieName("bw_lang")))}
		if w.cat == nil {
			w.cat = h.pages.cats.negotiate(c.Request().Header.Get("Accept-Language"))
		}
		w.browser = cookieValue(c, h.cookieName("bw_browser"))
		if len(w.browser) != 43 {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			w.browser = base64.RawURLEncoding.EncodeToString(b)
			h.setCookie(c, "bw_browser", w.browser, time.Now().AddDate(1, 0, 0))
		}
		if token := cookieValue(c, h.cookieName("bw_session")); token != "" {
			sess, err := h.svc.SessionByToken(c.Request().Context(), token)
			switch {
			case errors.Is(err, fault.ErrNotFound):
				h.setCookie(c, "bw_session", "", time.Time{})
			case err != nil:
				return err
			default:
				w.sess = sess
				c.Response().Header().Set("Cache-Control", "no-store")
			}
		}
		c.Set(ctxWeb, w)
		if c.Request().Method == http.MethodPost {
			c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxFormBytes)
		}
		return next(c)
	}
}

// requireRole lets only a signed-in account with role through. Anyone else
// is sent to sign in; a signed-in account of the other role gets 404, so the
// area's existence is not advertised.
func (h *Handlers) requireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			w := h.web(c)
			if w.sess == nil {
				target := "/login"
				if c.Request().Method == http.MethodGet {
					target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
				}
				return c.Redirect(http.StatusSeeOther, target)
			}
			if w.sess.Role != role {
				return echo.ErrNotFound
			}
			return next(c)
		}
	}
}

// errForgedForm is the answer to a form without a valid token.
var errForgedForm = echo.NewHTTPError(http.StatusForbidden,
	"This form has expired or did not come from this site. Go back, reload the page and try again.")

// checkForm protects every state-changing request from cross-site forgery:
// a browser that says the request is cross-site, or a foreign Origin, is
// refused, and the form must carry the token bound to this browser and
// session.
func (h *Handlers) checkForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(c)
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return errForgedForm
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" && !h.sameOrigin(o) {
			return errForgedForm
		}
		want := h.formToken(h.web(c))
		got := c.FormValue("csrf")
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return errForgedForm
		}
		return next(c)
	}
}

func (h *Handlers) sameOrigin(origin string) bool {
	pub := h.svc.PublicURL()
	return strings.EqualFold(origin, pub.Scheme+"://"+pub.Host)
}

// formToken is the anti-forgery token of a browser's forms.
func (h *Handlers) formToken(w *webCtx) string {
	if w.browser == "" {
		return ""
	}
	sid := ""
	if w.sess != nil {
		sid = w.sess.ID
	}
	return h.svc.FormToken(w.browser + "|" + sid)
}

// session returns the signed-in session; the role guards guarantee it on
// the admin and operator routes.
func (h *Handlers) session(c echo.Context) *provider.Session { return h.web(c).sess }

// serverID is the signed-in admin's server: the only one their pages show.
func (h *Handlers) serverID(c echo.Context) string { return h.web(c).sess.ServerID }

// localPath keeps a redirect target on this site.
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return fallback
	}
	return next
}
