package handlers

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
)

//go:embed web/templates/*.html web/static/*
var webFS embed.FS

type pages struct {
	tmpl *template.Template
}

func newPages() (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{"dict": dict}).ParseFS(webFS, "web/templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	return &pages{tmpl: t}, nil
}

// staticFS is the embedded CSS and scripts.
func staticFS() fs.FS {
	sub, err := fs.Sub(webFS, "web/static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

func (h *Handlers) render(c echo.Context, status int, name string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	data["Info"] = h.svc.Info()
	var buf bytes.Buffer
	if err := h.pages.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// isPage tells whether an error should be shown as an HTML page.
func isPage(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "text/html") &&
		!strings.Contains(c.Request().Header.Get("Accept"), "application/json")
}

func (h *Handlers) renderErrorPage(c echo.Context, status int, body apiError) {
	if err := h.render(c, status, "error.html", map[string]any{"Status": status, "Error": body}); err != nil {
		_ = c.JSON(status, body)
	}
}

func (h *Handlers) landing(c echo.Context) error {
	return h.render(c, http.StatusOK, "landing.html", map[string]any{
		"Capabilities": provider.Capabilities(),
		"BaseURL":      strings.TrimSuffix(h.svc.PublicURL().String(), "/"),
	})
}

func (h *Handlers) privacy(c echo.Context) error {
	return h.render(c, http.StatusOK, "privacy.html", nil)
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
