package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

func (h *handler) twoFactorRoutes(g *echo.Group) {
	g.POST("/settings/two-factor/start", h.twoFactorStart)
	g.POST("/settings/two-factor", h.twoFactorConfirm)
	g.POST("/settings/two-factor/disable", h.twoFactorDisable)
	g.POST("/settings/two-factor/recovery-codes", h.recoveryCodesReplace)
	g.POST("/settings/two-factor/roles", h.twoFactorRolesSave)
}

// twoFactorView is the signed-in admin's two-factor, on their account page.
type twoFactorView struct {
	Enrolled bool
	Recovery int        // codes left
	Setup    *totpSetup // a secret being set up, until a code confirms it
	Required bool       // their role must use two-factor
	Roles    map[access.Role]bool
}

func (h *handler) twoFactorView(c echo.Context, sess store.Session) (twoFactorView, error) {
	ctx := c.Request().Context()
	tf, err := h.store.TwoFactor(ctx, sess.AdminID)
	if err != nil {
		return twoFactorView{}, err
	}
	v := twoFactorView{Enrolled: tf.Enrolled(), Recovery: tf.Recovery}
	if v.Roles, err = h.twoFactorRoles(ctx); err != nil {
		return v, err
	}
	v.Required = v.Roles[sess.Role]
	if !v.Enrolled && tf.Pending != "" {
		setup, err := newTOTPSetup(h.siteIssuer(ctx), sess.Email, tf.Pending)
		if err != nil {
			return v, err
		}
		v.Setup = &setup
	}
	return v, nil
}

// recoveryCodesView shows new recovery codes, this once: they are kept
// only as hashes.
type recoveryCodesView struct {
	Codes []string
	Next  string
}

// me is the signed-in admin.
func (h *handler) me(c echo.Context) (store.Admin, error) {
	return h.store.AdminByID(c.Request().Context(), c.Get(ctxSession).(store.Session).AdminID)
}

// twoFactorStart makes a secret for the signed-in admin to add to their
// app; the account page shows it until a code confirms it.
func (h *handler) twoFactorStart(c echo.Context) error {
	a, err := h.me(c)
	if err != nil {
		return err
	}
	secret, err := newTOTPSecret()
	if err != nil {
		return err
	}
	if err := h.store.SetPendingTOTP(c.Request().Context(), a.ID, secret); err != nil {
		return err
	}
	return redirect(c, "/settings/admins#two-factor")
}

// twoFactorConfirm turns two-factor on when the code is from the secret
// being set up, and answers with the recovery codes: the one time they
// are shown, so not behind a redirect a reload could repeat.
func (h *handler) twoFactorConfirm(c echo.Context) error {
	a, err := h.me(c)
	if err != nil {
		return err
	}
	codes, err := h.enrol(c, a, access.Clip(c.FormValue("code"), 64))
	if err != nil {
		return err
	}
	if codes == nil {
		return h.adminsPageWith(c, "code", "is not right: check the time on your phone, and type the newest code")
	}
	return render(c, http.StatusOK, recoveryCodesPage(pageFor(c, "Recovery codes"), recoveryCodesView{Codes: codes, Next: "/settings/admins"}))
}

// checkOwnPassword checks the password typed to confirm a change to one's
// own second factor, so a browser left signed in cannot turn it off.
func (h *handler) checkOwnPassword(c echo.Context) (store.Admin, bool, error) {
	a, err := h.me(c)
	if err != nil {
		return a, false, err
	}
	if !CheckPassword(a.PasswordHash, c.FormValue("password")) {
		return a, false, h.adminsPageWith(c, "two-factor-password", "is not your password")
	}
	return a, true, nil
}

func (h *handler) twoFactorDisable(c echo.Context) error {
	a, ok, err := h.checkOwnPassword(c)
	if !ok {
		return err
	}
	must, err := h.twoFactorRoles(c.Request().Context())
	if err != nil {
		return err
	}
	if must[a.Role] {
		return access.Conflict("the owner requires two-factor sign-in of every %s: it cannot be turned off", a.Role)
	}
	if err := h.store.DisableTOTP(c.Request().Context(), actor(c), a.ID); err != nil {
		return err
	}
	return redirect(c, "/settings/admins?flash=two-factor-off#two-factor")
}

func (h *handler) recoveryCodesReplace(c echo.Context) error {
	a, ok, err := h.checkOwnPassword(c)
	if !ok {
		return err
	}
	tf, err := h.store.TwoFactor(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	if !tf.Enrolled() {
		return access.Conflict("turn two-factor sign-in on first")
	}
	codes := newRecoveryCodes()
	if err := h.store.ReplaceRecoveryCodes(c.Request().Context(), actor(c), a.ID, codes); err != nil {
		return err
	}
	return render(c, http.StatusOK, recoveryCodesPage(pageFor(c, "Recovery codes"), recoveryCodesView{Codes: codes, Next: "/settings/admins"}))
}

// twoFactorRolesSave sets which roles must sign in with a second factor.
// Their admins without one set it up at their next sign-in.
func (h *handler) twoFactorRolesSave(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var roles []string
	for _, s := range form["require"] {
		r, err := access.ParseRole(s)
		if err != nil {
			return err
		}
		roles = append(roles, string(r))
	}
	if err := h.store.SetSetting(c.Request().Context(), actor(c), twoFactorRolesKey, strings.Join(roles, ",")); err != nil {
		return err
	}
	return redirect(c, "/settings/admins?flash=saved#two-factor")
}

// adminsPageWith answers with the account page and a problem with field.
func (h *handler) adminsPageWith(c echo.Context, field, problem string) error {
	v, err := h.adminsView(c)
	if err != nil {
		return err
	}
	v.Errors[field] = problem
	return render(c, http.StatusUnprocessableEntity, adminsPage(pageFor(c, "Administrators and API tokens"), v))
}
