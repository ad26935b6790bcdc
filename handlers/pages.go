package handlers

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
)

//go:embed web/templates/*.html web/static/* web/i18n/*.json
var webFS embed.FS

// pages is the web interface's state: templates, message catalogues and
// the request-rate sampler of the health page.
type pages struct {
	tmpl  *template.Template
	cats  *catalogs
	rates *rateSampler
}

func newPages() (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"dict":      dict,
		"hasPrefix": strings.HasPrefix,
		"join":      strings.Join,
		"fieldErr":  fieldErr,
		"list":      func(s ...string) []string { return s },
		"int64":     func(n int) int64 { return int64(n) },
	}).ParseFS(webFS, "web/templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	cats, err := loadCatalogs(webFS)
	if err != nil {
		return nil, err
	}
	return &pages{tmpl: t, cats: cats, rates: &rateSampler{start: time.Now()}}, nil
}

// staticFS is the embedded CSS and scripts.
func staticFS() fs.FS {
	sub, err := fs.Sub(webFS, "web/static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// page is what every template gets: the language, the provider, the
// session and the form token for the layout, and the page's own Data.
type page struct {
	L       *catalog
	Langs   []*catalog
	Info    provider.ProviderInfo
	Session *provider.Session
	CSRF    string
	Path    string
	// Next is the current path with its query, for the language switch.
	Next string
	// Title is a catalogue key.
	Title string
	// Flash is a catalogue key of a notice after a redirect (?done=...).
	Flash string
	// Errors maps a form field (or "" for the whole form) to its problem.
	Errors map[string]string
	// Form holds the values a failed form is shown again with.
	Form map[string]string
	Data map[string]any
}

func (h *Handlers) render(c echo.Context, status int, name string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	w := h.web(c)
	p := &page{L: w.cat, Langs: h.pages.cats.langs, Info: h.svc.Info(), Session: w.sess, CSRF: h.formToken(w),
		Path: c.Request().URL.Path, Next: c.Request().URL.RequestURI(), Data: data}
	if t, ok := data["Title"].(string); ok {
		p.Title = t
	}
	if e, ok := data["Errors"].(map[string]string); ok {
		p.Errors = e
	}
	p.Form, _ = data["Form"].(map[string]string)
	if p.Form == nil {
		p.Form = map[string]string{}
	}
	if done := c.QueryParam("done"); done != "" && c.Request().Method == http.MethodGet {
		if k := "flash." + done; w.cat.T(k) != k {
			p.Flash = k
		}
	}
	var buf bytes.Buffer
	if err := h.pages.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// fieldErr returns the problem recorded for a form field, or "".
func fieldErr(errs map[string]string, field string) string { return errs[field] }

// isPage tells whether an error should be shown as an HTML page.
func isPage(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "text/html") &&
		!strings.Contains(c.Request().Header.Get("Accept"), "application/json")
}

func (h *Handlers) renderErrorPage(c echo.Context, status int, body apiError) {
	if err := h.render(c, status, "error.html", map[string]any{"Title": "error.title", "Status": status, "Error": body}); err != nil {
		_ = c.JSON(status, body)
	}
}

func (h *Handlers) landing(c echo.Context) error {
	return h.render(c, http.StatusOK, "landing.html", map[string]any{
		"Title":        "landing.title",
		"Capabilities": provider.Capabilities(),
		"BaseURL":      strings.TrimSuffix(h.svc.PublicURL().String(), "/"),
		"Mode":         h.svc.RegistrationMode(),
	})
}

func (h *Handlers) privacy(c echo.Context) error {
	return h.render(c, http.StatusOK, "privacy.html", map[string]any{"Title": "privacy.title", "Note": h.svc.PrivacyNote(), "Days": h.svc.RetentionDays()})
}

// dict builds a map for passing several values to a sub-template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}
