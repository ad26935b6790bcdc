package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/mastodon"
)

// webhookRoutes are the admin webhooks a Mastodon server delivers to. They
// carry no HTTP signature: each delivery is authenticated by its
// X-Hub-Signature HMAC with the webhook secret, in the provider.
func (h *Handlers) webhookRoutes(g *echo.Group) {
	g.POST("/webhooks/mastodon/:serverId", h.mastodonWebhookCreate)
}

// mastodonWebhookCreate stores one delivery and answers at once: 202 when
// queued, 200 for a retry of a stored one, 204 for an event type Breakwater
// ignores. Mastodon retries 401, 408, 429 and 5xx, and drops other 4xx.
func (h *Handlers) mastodonWebhookCreate(c echo.Context) error {
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	out, err := h.svc.ReceiveMastodonWebhook(c.Request().Context(), c.Param("serverId"),
		c.Request().Header.Get(mastodon.SignatureHeader), body)
	if err != nil {
		return err
	}
	switch out {
	case provider.WebhookIgnored:
		return c.NoContent(http.StatusNoContent)
	case provider.WebhookDuplicate:
		return c.JSON(http.StatusOK, map[string]string{"status": string(out)})
	}
	return c.JSON(http.StatusAccepted, map[string]string{"status": string(out)})
}
