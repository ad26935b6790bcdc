package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
)

// campaignsIndex lists network-wide campaigns for the operator, by status.
func (h *Handlers) campaignsIndex(c echo.Context) error {
	status := c.QueryParam("status")
	data := map[string]any{"Title": "camp.title", "Status": status}
	list, err := h.svc.ListCampaigns(c.Request().Context(), provider.CampaignFilter{Status: status, Limit: 200})
	if err != nil {
		return h.formFailed(c, "operator_campaigns.html", data, err)
	}
	data["Campaigns"] = list
	return h.render(c, http.StatusOK, "operator_campaigns.html", data)
}

// campaignShow is one campaign: evidence, servers and origins, and the
// operator's confirm, dismiss and extend buttons.
func (h *Handlers) campaignShow(c echo.Context) error {
	d, err := h.svc.GetCampaign(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "operator_campaign.html", map[string]any{"Title": "camp.one", "Campaign": d})
}

// campaignAction confirms, dismisses or extends a campaign, recorded with
// the operator's address.
func (h *Handlers) campaignAction(c echo.Context) error {
	id := c.Param("id")
	action := c.FormValue("action")
	if _, err := h.svc.CampaignAction(c.Request().Context(), id, action, h.session(c).Email); err != nil {
		return err
	}
	return redirectDone(c, "/operator/campaigns/"+id, "campaign_"+action)
}

// serverFeed shows the feed of origin servers emitting confirmed campaigns.
func (h *Handlers) serverFeed(c echo.Context) error {
	f, err := h.svc.ServerFeed(c.Request().Context())
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "operator_feed.html", map[string]any{"Title": "feed.title", "Feed": f})
}

// adminCampaigns lists the campaigns that reached the admin's server, with
// this server's share only.
func (h *Handlers) adminCampaigns(c echo.Context) error {
	list, err := h.svc.CampaignsForServer(c.Request().Context(), h.serverID(c))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "campaigns.html", map[string]any{"Title": "camp.mine", "Campaigns": list})
}
