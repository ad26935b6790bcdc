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

	// The public server feed (Mastodon domain block CSV): no personal data.
	e.GET("/feeds/servers.csv", h.feedCSV)

	// Public pages and forms: language, form token, optional session.
	e.StaticFS("/static", staticFS())
	web := []echo.MiddlewareFunc{h.webContext, h.checkForm}
	e.GET("/", h.landing, web...)
	e.GET("/privacy", h.privacy, web...)
	e.GET("/lang/:lang", h.langSwitch, web...)
	e.GET("/register", h.registerForm, web...)
	e.POST("/register", h.registerCreate, web...)
	e.GET("/register/requested", h.registerRequested, web...)
	e.GET("/login", h.loginForm, web...)
	e.POST("/login", h.loginCreate, web...)
	e.POST("/logout", h.logout, web...)
	e.GET("/password/forgot", h.forgotForm, web...)
	e.POST("/password/forgot", h.forgotCreate, web...)
	e.GET("/password/reset", h.resetForm, web...)
	e.POST("/password/reset", h.resetCreate, web...)

	// Server admins: everything is scoped to the signed-in admin's server.
	admin := e.Group("/admin", h.webContext, h.requireRole(provider.RoleAdmin), h.checkForm)
	admin.GET("", h.adminOverview)
	admin.GET("/checks", h.checksIndex)
	admin.GET("/checks/:id", h.adminCheckShow)
	admin.POST("/checks/:id/feedback", h.checkFeedback)
	admin.GET("/policy", h.policyEdit)
	admin.POST("/policy", h.policyUpdate)
	admin.POST("/policy/validate", h.policyValidate)
	admin.GET("/setup", h.setupShow)
	admin.POST("/keys/rotate", h.keysRotate)
	admin.GET("/debug", h.debugIndex)
	admin.GET("/usage", h.usageIndex)
	admin.GET("/usage.csv", h.usageCSV)
	admin.GET("/campaigns", h.adminCampaigns)
	admin.GET("/mastodon", h.mastodonShow)
	admin.GET("/alerts", h.alertsShow)
	admin.POST("/alerts", h.alertsUpdate)
	admin.POST("/alerts/test", h.alertsTest)

	// The provider's operator.
	op := e.Group("/operator", h.webContext, h.requireRole(provider.RoleOperator), h.checkForm)
	op.GET("", h.operatorServers)
	op.POST("/registrations/:id/approve", h.registrationApprove)
	op.POST("/registrations/:id/reject", h.registrationReject)
	op.GET("/servers/:id", h.operatorServer)
	op.POST("/servers/:id/suspend", h.serverSuspend)
	op.POST("/servers/:id/delete", h.serverDelete)
	op.POST("/servers/:id/quota", h.serverQuota)
	op.GET("/campaigns", h.campaignsIndex)
	op.GET("/campaigns/:id", h.campaignShow)
	op.POST("/campaigns/:id/action", h.campaignAction)
	op.GET("/feed", h.serverFeed)
	op.GET("/usage", h.operatorUsage)
	op.GET("/usage.csv", h.operatorUsageCSV)
	op.GET("/health", h.operatorHealth)

	// The FASP API, under the public base URL's path.
	prefix := strings.TrimSuffix(h.svc.PublicURL().Path, "/")
	api := e.Group(prefix)
	api.GET("/provider_info", h.providerInfo, h.optionalSignature, h.limited)
	h.webhookRoutes(api) // Mastodon admin webhooks, authenticated by their X-Hub-Signature HMAC

	// Signed by a registered server; each route then checks the capability
	// it belongs to (403) before the rate limit (429).
	signed := api.Group("", h.shed, h.requireSignature)
	signed.POST("/capabilities/:id/:version/activation", h.activationCreate, h.limited)
	signed.DELETE("/capabilities/:id/:version/activation", h.activationDelete, h.limited)
	signed.POST("/debug/v0/callback/logs", h.debugLogCreate, h.capability(provider.CapCallback), h.limited)
	signed.POST("/spam_detection/v0/signup_screening/checks", h.signupCheckCreate, h.capability(provider.CapSignupScreening), h.limited)
	signed.POST("/spam_detection/v0/content_screening/checks", h.contentCheckCreate, h.capability(provider.CapContentScreening), h.limited)
	signed.GET("/spam_detection/v0/checks/:id", h.checkShow, h.limited)
	signed.DELETE("/spam_detection/v0/checks/:id", h.checkDelete, h.limited)
	signed.POST("/spam_detection/v0/feedback", h.feedbackCreate, h.limited)
	signed.GET("/spam_detection/v0/servers", h.serversIndex, h.screeningActive, h.limited)

	// Anything else is a plain 404 (JSON, or a page for browsers). Without
	// this, the signed group's catch-all would answer 401 for unknown paths.
	e.RouteNotFound("/*", func(echo.Context) error { return echo.ErrNotFound })
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
