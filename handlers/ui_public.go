package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// langSwitch stores the chosen language in a cookie (and, when signed in,
// for e-mails) and returns to the page it was chosen on.
func (h *Handlers) langSwitch(c echo.Context) error {
	cat := h.pages.cats.get(c.Param("lang"))
	if cat == nil {
		return echo.ErrNotFound
	}
	h.setCookie(c, "bw_lang", cat.Lang, time.Now().AddDate(1, 0, 0))
	if s := h.session(c); s != nil {
		if err := h.svc.SetLocale(c.Request().Context(), s.AccountID, cat.Lang); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.QueryParam("next"), "/"))
}

func (h *Handlers) registerData() map[string]any {
	return map[string]any{"Title": "register.title", "Mode": h.svc.RegistrationMode()}
}

// registerForm shows the registration form for the configured mode.
func (h *Handlers) registerForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "register.html", h.registerData())
}

// registerCreate registers a server and its admin; in approval mode the
// request waits for the operator.
func (h *Handlers) registerCreate(c echo.Context) error {
	res, err := h.svc.SignUpAdmin(c.Request().Context(), provider.AdminSignup{
		ServerURL: c.FormValue("serverUrl"), BaseURL: c.FormValue("baseUrl"),
		Email: c.FormValue("email"), Password: c.FormValue("password"),
		AcceptTerms: c.FormValue("acceptTerms") == "yes", InviteCode: c.FormValue("inviteCode"),
		Locale: h.web(c).cat.Lang,
	})
	if err != nil {
		return h.formFailed(c, "register.html", h.registerData(), err)
	}
	if res.Pending {
		return c.Redirect(http.StatusSeeOther, "/register/requested")
	}
	h.setCookie(c, "bw_session", res.Token, res.Session.ExpiresAt)
	return redirectDone(c, "/admin/setup", "registered")
}

// registerRequested confirms that a request waits for the operator.
func (h *Handlers) registerRequested(c echo.Context) error {
	return h.render(c, http.StatusOK, "register_requested.html", map[string]any{"Title": "requested.title"})
}

func (h *Handlers) loginData(c echo.Context) map[string]any {
	return map[string]any{"Title": "login.title", "NextPath": localPath(c.QueryParam("next"), ""), "Mail": h.svc.MailEnabled()}
}

// loginForm shows the sign-in form.
func (h *Handlers) loginForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "login.html", h.loginData(c))
}

// loginCreate signs in and goes to the page asked for, or the role's home.
func (h *Handlers) loginCreate(c echo.Context) error {
	token, sess, err := h.svc.SignIn(c.Request().Context(), provider.SignInInput{
		Email: c.FormValue("email"), Password: c.FormValue("password"), Client: c.RealIP(),
	})
	if err != nil {
		data := h.loginData(c)
		data["NextPath"] = localPath(c.FormValue("next"), "")
		return h.formFailed(c, "login.html", data, err)
	}
	h.setCookie(c, "bw_session", token, sess.ExpiresAt)
	home := "/admin"
	if sess.Role == provider.RoleOperator {
		home = "/operator"
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("next"), home))
}

// logout ends the session.
func (h *Handlers) logout(c echo.Context) error {
	if err := h.svc.SignOut(c.Request().Context(), cookieValue(c, h.cookieName("bw_session"))); err != nil {
		return err
	}
	h.setCookie(c, "bw_session", "", time.Time{})
	return redirectDone(c, "/login", "signed_out")
}

func (h *Handlers) forgotData() map[string]any {
	return map[string]any{"Title": "forgot.title", "Mail": h.svc.MailEnabled()}
}

// forgotForm asks for the address to send a reset link to.
func (h *Handlers) forgotForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "forgot.html", h.forgotData())
}

// forgotCreate sends a reset link if the address has an account, and says
// the same either way.
func (h *Handlers) forgotCreate(c echo.Context) error {
	err := h.svc.RequestPasswordReset(c.Request().Context(), provider.ResetRequest{
		Email: c.FormValue("email"), Locale: h.web(c).cat.Lang, Compose: h.mailComposer("mail.reset"),
	})
	if err != nil {
		return h.formFailed(c, "forgot.html", h.forgotData(), err)
	}
	return redirectDone(c, "/password/forgot", "reset_sent")
}

// resetForm shows the new-password form for a valid link.
func (h *Handlers) resetForm(c echo.Context) error {
	token := c.QueryParam("token")
	err := h.svc.CheckResetToken(c.Request().Context(), token)
	if errors.Is(err, fault.ErrNotFound) {
		return h.render(c, http.StatusGone, "reset.html", map[string]any{"Title": "reset.title", "Expired": true})
	}
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "reset.html", map[string]any{"Title": "reset.title", "Token": token})
}

// resetCreate sets the new password and sends the person to sign in.
func (h *Handlers) resetCreate(c echo.Context) error {
	token := c.FormValue("token")
	err := h.svc.ResetPassword(c.Request().Context(), token, c.FormValue("password"))
	if errors.Is(err, fault.ErrNotFound) {
		return h.render(c, http.StatusGone, "reset.html", map[string]any{"Title": "reset.title", "Expired": true})
	}
	if err != nil {
		return h.formFailed(c, "reset.html", map[string]any{"Title": "reset.title", "Token": token}, err)
	}
	return redirectDone(c, "/login", "password_changed")
}

// mailComposer writes the e-mail whose catalogue keys start with prefix
// (prefix.subject, prefix.body with the link as %s) in the reader's
// language.
func (h *Handlers) mailComposer(prefix string) provider.MailComposer {
	return func(locale, link string) provider.Mail {
		cat := h.pages.cats.get(locale)
		if cat == nil {
			cat = h.pages.cats.get(defaultLang)
		}
		return provider.Mail{Subject: cat.T(prefix+".subject", h.svc.Info().Name),
			Body: cat.T(prefix+".body", h.svc.Info().Name, link)}
	}
}
