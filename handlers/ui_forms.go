package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// formProblems turns the error of a form submission into messages by field
// ("" for the whole form) and the status to answer with. ok is false for
// errors that are not the submitter's to fix; those go to the one error
// handler.
func formProblems(err error) (problems map[string]string, status int, ok bool) {
	var (
		fe provider.FieldErrors
		ve *fault.ValidationError
		up *fault.Upstream
		fb *fault.Forbidden
		rl *fault.RateLimited
	)
	switch {
	case errors.As(err, &fe):
		problems = map[string]string{}
		for _, v := range fe {
			if _, dup := problems[v.Field]; !dup {
				problems[v.Field] = v.Message
			}
		}
		return problems, http.StatusUnprocessableEntity, true
	case errors.As(err, &ve):
		return map[string]string{ve.Field: ve.Message}, http.StatusUnprocessableEntity, true
	case errors.Is(err, provider.ErrBadCredentials):
		return map[string]string{"": provider.ErrBadCredentials.Error()}, http.StatusUnauthorized, true
	case errors.As(err, &rl):
		return map[string]string{"": rl.Message}, http.StatusTooManyRequests, true
	case errors.As(err, &up):
		return map[string]string{"": up.Message}, http.StatusBadGateway, true
	case errors.As(err, &fb):
		return map[string]string{"": fb.Message}, http.StatusForbidden, true
	case errors.Is(err, fault.ErrConflict):
		return map[string]string{"": "this conflicts with the current state; reload the page"}, http.StatusConflict, true
	}
	return nil, 0, false
}

// formFailed shows the form again with each problem next to its field and
// the values entered (never passwords), or hands an internal error on.
func (h *Handlers) formFailed(c echo.Context, name string, data map[string]any, err error) error {
	problems, status, ok := formProblems(err)
	if !ok {
		return err
	}
	var rl *fault.RateLimited
	if errors.As(err, &rl) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds()+0.999)))
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Errors"] = problems
	form := map[string]string{}
	if f, perr := c.FormParams(); perr == nil {
		for k, v := range f {
			if len(v) > 0 && !strings.Contains(strings.ToLower(k), "password") && k != "csrf" {
				form[k] = v[0]
			}
		}
	}
	data["Form"] = form
	return h.render(c, status, name, data)
}

// redirectDone sends the browser to path with a notice (a catalogue key
// flash.<done>), the post/redirect/get pattern every form follows.
func redirectDone(c echo.Context, path, done string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return c.Redirect(http.StatusSeeOther, path+sep+"done="+done)
}
