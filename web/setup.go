package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

// The first-run setup: only the one-time link serve printed creates the
// first administrator.

func (h *handler) setupForm(c echo.Context) error {
	if !h.setupAllowed(c, c.QueryParam("token")) {
		return render(c, http.StatusNotFound, messagePage(pageFor(c, "Setup"), "This setup link is not valid",
			"Postern is already set up, or the link is not the one the appliance printed. Sign in instead, or ask the person who installed it."))
	}
	return render(c, http.StatusOK, setupPage(pageFor(c, "Set up Postern"), setupView{CSRF: h.preCSRF(c), Token: c.QueryParam("token")}))
}

func (h *handler) setupAllowed(c echo.Context, token string) bool {
	h.setupMu.Lock()
	want := h.setupToken
	h.setupMu.Unlock()
	if want == "" || subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return false
	}
	n, err := h.store.CountAdmins(c.Request().Context())
	return err == nil && n == 0
}

func (h *handler) setupSave(c echo.Context) error {
	// The email is shown back: a caller's text has a size first.
	v := setupView{CSRF: h.preCSRF(c), Token: access.Clip(c.FormValue("token"), 100), Email: access.Clip(strings.TrimSpace(c.FormValue("email")), maxEmail)}
	if !h.setupAllowed(c, v.Token) {
		return render(c, http.StatusNotFound, messagePage(pageFor(c, "Setup"), "This setup link is not valid",
			"Postern is already set up, or the link is not the one the appliance printed."))
	}
	if !h.checkPreCSRF(c) {
		v.Errors = []string{"The setup form expired. Please try again."}
		return render(c, http.StatusForbidden, setupPage(pageFor(c, "Set up Postern"), v))
	}
	// Every problem at once: the email as the store will check it, then the
	// password.
	pw := c.FormValue("password")
	if err := access.ValidateEmail(v.Email); err != nil {
		v.Errors = append(v.Errors, "Email "+err.Error())
	}
	if pw != c.FormValue("confirm") {
		v.Errors = append(v.Errors, "The two passwords are not the same.")
	} else if err := checkNewPassword(pw); err != nil {
		v.Errors = append(v.Errors, err.Error())
	}
	if len(v.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, setupPage(pageFor(c, "Set up Postern"), v))
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	admin, err := h.store.CreateAdmin(c.Request().Context(), "setup", v.Email, hash, true)
	if err != nil {
		if ves, ok := access.AsValidationErrors(err); ok {
			v.Errors = []string{"Email " + ves[0].Message}
			return render(c, http.StatusUnprocessableEntity, setupPage(pageFor(c, "Set up Postern"), v))
		}
		if errors.Is(err, store.ErrAdminExists) {
			return redirect(c, "/login")
		}
		return err
	}
	h.setupMu.Lock()
	h.setupToken = ""
	h.setupMu.Unlock()
	if err := h.startSession(c, admin); err != nil {
		return err
	}
	return redirect(c, "/")
}
