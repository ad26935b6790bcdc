package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

func (h *Handlers) signupCheckCreate(c echo.Context) error {
	var in screening.SignupInput
	if err := h.bind(c, &in, "account"); err != nil {
		return err
	}
	res, err := h.svc.ScreenSignup(c.Request().Context(), caller(c), in)
	if err != nil {
		return err
	}
	h.metrics.decisions.WithLabelValues(screening.GateSignup, res.Decision).Inc()
	return c.JSON(http.StatusOK, res)
}

func (h *Handlers) contentCheckCreate(c echo.Context) error {
	var in screening.ContentInput
	if err := h.bind(c, &in, "post", "author", "post.text", "post.visibility", "post.mentions", "author.acct", "author.createdAt", "author.local"); err != nil {
		return err
	}
	res, err := h.svc.ScreenContent(c.Request().Context(), caller(c), in)
	if err != nil {
		return err
	}
	h.metrics.decisions.WithLabelValues(screening.GateContent, res.Decision).Inc()
	return c.JSON(http.StatusOK, res)
}

func (h *Handlers) checkShow(c echo.Context) error {
	rec, err := h.svc.GetCheck(c.Request().Context(), caller(c).ServerID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (h *Handlers) checkDelete(c echo.Context) error {
	if err := h.svc.EraseCheck(c.Request().Context(), caller(c).ServerID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handlers) feedbackCreate(c echo.Context) error {
	var in provider.FeedbackInput
	if err := h.bind(c, &in); err != nil {
		return err
	}
	if err := h.svc.RecordFeedback(c.Request().Context(), caller(c).ServerID, in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// bind decodes the (already read, size-limited) JSON body into v and checks
// that the required members are present.
func (h *Handlers) bind(c echo.Context, v any, required ...string) error {
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	if err := decodeJSON(body, v); err != nil {
		return err
	}
	return requireMembers(body, required...)
}
