package handlers

import (
	"net"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/breakwater-fasp/breakwater/provider"
)

// routes is THE route table: every endpoint and who may call it.
func (h *Handlers) routes(e *echo.Echo) {
	e.Use(middleware.RequestID())
	e.Use(h.metrics.middleware)
	e.Use(h.accessLog)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: h.logPanic}))
	e.Use(securityHeaders)

	// Operations: unauthenticated, no personal data.
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", h.metrics.handler())

	// Public pages.
	e.GET("/", h.landing)
	e.GET("/privacy", h.privacy)
	e.StaticFS("/static", staticFS())

	// The FASP API, under the public base URL's path.
	prefix := strings.TrimSuffix(h.svc.PublicURL().Path, "/")
	api := e.Group(prefix)
	api.GET("/provider_info", h.providerInfo, h.optionalSignature, h.limited)

	// Signed by a registered server; each route then checks the capability
	// it belongs to (403) before the rate limit (429).
	signed := api.Group("", h.requireSignature)
	signed.POST("/capabilities/:id/:version/activation", h.activationCreate, h.limited)
	signed.DELETE("/capabilities/:id/:version/activation", h.activationDelete, h.limited)
	signed.POST("/debug/v0/callback/logs", h.debugLogCreate, h.capability(provider.CapCallback), h.limited)
	signed.POST("/spam_detection/v0/signup_screening/checks", h.signupCheckCreate, h.capability(provider.CapSignupScreening), h.limited)
	signed.POST("/spam_detection/v0/content_screening/checks", h.contentCheckCreate, h.capability(provider.CapContentScreening), h.limited)
	signed.GET("/spam_detection/v0/checks/:id", h.checkShow, h.limited)
	signed.DELETE("/spam_detection/v0/checks/:id", h.checkDelete, h.limited)
	signed.POST("/spam_detection/v0/feedback", h.feedbackCreate, h.limited)
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		return next(c)
	}
}
