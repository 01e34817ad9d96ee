package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

func (h *handler) adminAccountRoutes(g *echo.Group) {
	g.GET("/settings/admins", h.adminsShow)
	g.POST("/settings/admins/:id/delete", h.adminDelete)
	g.POST("/settings/admins/:id/role", h.adminRoleSave)
	g.POST("/settings/admins/:id/two-factor-off", h.adminTwoFactorOff)
	g.POST("/settings/tokens", h.apiTokenCreate)
	g.POST("/settings/tokens/:id/revoke", h.apiTokenRevoke)
	g.POST("/settings/password", h.passwordSave)
	g.POST("/settings/sessions/end", h.sessionsEnd)
}

type adminsView struct {
	Role      access.Role // the signed-in admin's
	Admins    []adminRow
	CanRemove bool // more than one admin
	Tokens    []tokenRow
	NewToken  string // shown once, just after it is made
	Sessions  int
	TwoFactor twoFactorView
	Errors    fieldErrors
}

type adminRow struct {
	ID        int64
	Email     string
	Role      access.Role
	Since     string
	You       bool
	TwoFactor bool
}

type tokenRow struct {
	ID                                      int64
	Name, Admin, Created, LastUsed, Expires string
	Role                                    access.Role
	Mine                                    bool
}

func (h *handler) adminsView(c echo.Context) (adminsView, error) {
	ctx := c.Request().Context()
	sess := c.Get(ctxSession).(store.Session)
	loc := h.location(ctx)
	admins, err := h.store.Admins(ctx)
	if err != nil {
		return adminsView{}, err
	}
	v := adminsView{Role: sess.Role, CanRemove: len(admins) > 1, Errors: fieldErrors{}}
	for _, a := range admins {
		v.Admins = append(v.Admins, adminRow{ID: a.ID, Email: a.Email, Role: a.Role, Since: formatTime(a.CreatedAt, loc), You: a.ID == sess.AdminID, TwoFactor: a.TwoFactor})
	}
	// An owner sees every token; others only their own.
	var whose int64
	if sess.Role != access.RoleOwner {
		whose = sess.AdminID
	}
	tokens, err := h.store.APITokens(ctx, whose)
	if err != nil {
		return adminsView{}, err
	}
	now := h.now()
	for _, t := range tokens {
		row := tokenRow{ID: t.ID, Name: t.Name, Admin: t.AdminEmail, Role: t.Role, Mine: t.AdminID == sess.AdminID,
			Created: formatTime(t.CreatedAt, loc), LastUsed: "never", Expires: "never"}
		if !t.LastUsedAt.IsZero() {
			row.LastUsed = formatTime(t.LastUsedAt, loc)
		}
		if !t.ExpiresAt.IsZero() {
			row.Expires = formatTime(t.ExpiresAt, loc)
			if t.Expired(now) {
				row.Expires += " (expired)"
			}
		}
		v.Tokens = append(v.Tokens, row)
	}
	if v.TwoFactor, err = h.twoFactorView(c, sess); err != nil {
		return v, err
	}
	v.Sessions, err = h.store.CountSessions(ctx, sess.AdminID)
	return v, err
}

func (h *handler) adminsShow(c echo.Context) error {
	v, err := h.adminsView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, adminsPage(pageFor(c, "Administrators and API tokens"), v))
}

// adminDelete removes another administrator. Nobody removes themselves
// here, so nobody locks themselves out by a slip; the store refuses the
// last one.
func (h *handler) adminDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if id == c.Get(ctxSession).(store.Session).AdminID {
		return access.Conflict("you cannot remove yourself here: another administrator can, or `postern admin remove` on the appliance")
	}
	if err := h.store.DeleteAdmin(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, "/settings/admins?flash=admin-removed")
}

func (h *handler) apiTokenRevoke(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	sess := c.Get(ctxSession).(store.Session)
	if sess.Role != access.RoleOwner {
		mine, err := h.store.APITokens(c.Request().Context(), sess.AdminID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(mine, func(t store.APIToken) bool { return t.ID == id }) {
			// Others' tokens are not listed to them either.
			return access.ErrNotFound
		}
	}
	if err := h.store.RevokeAPIToken(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, "/settings/admins?flash=token-revoked")
}

// passwordSave changes the signed-in admin's password after checking the
// current one, and signs them out everywhere else.
func (h *handler) passwordSave(c echo.Context) error {
	ctx := c.Request().Context()
	sess := c.Get(ctxSession).(store.Session)
	v, err := h.adminsView(c)
	if err != nil {
		return err
	}
	me, err := h.store.AdminByID(ctx, sess.AdminID)
	if err != nil {
		return err
	}
	pw := c.FormValue("password")
	if !CheckPassword(me.PasswordHash, c.FormValue("current")) {
		v.Errors["current"] = "is not your current password"
	}
	if err := checkNewPassword(pw); err != nil {
		v.Errors["password"] = err.Error()
	} else if pw != c.FormValue("confirm") {
		v.Errors["confirm"] = "is not the same as the new password"
	}
	if len(v.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, adminsPage(pageFor(c, "Administrators and API tokens"), v))
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	if err := h.store.SetAdminPassword(ctx, actor(c), me.ID, hash, h.sessionToken(c)); err != nil {
		return err
	}
	return redirect(c, "/settings/admins?flash=password")
}

func (h *handler) sessionsEnd(c echo.Context) error {
	sess := c.Get(ctxSession).(store.Session)
	n, err := h.store.EndOtherSessions(c.Request().Context(), actor(c), sess.AdminID, h.sessionToken(c))
	if err != nil {
		return err
	}
	flash := "sessions"
	if n == 0 {
		flash = "no-sessions"
	}
	return redirect(c, "/settings/admins?flash="+flash)
}

// tokenOwner is the admin a bearer token acts for, recording its use at
// most once a minute.
func (h *handler) tokenOwner(c echo.Context, token string) (store.APIToken, error) {
	ctx := c.Request().Context()
	t, err := h.store.APITokenByToken(ctx, token)
	if err != nil {
		return t, err
	}
	if now := h.now(); t.NeedsTouch(now) {
		if err := h.store.TouchAPIToken(ctx, t.ID, now); err != nil && !errors.Is(err, ctx.Err()) {
			h.log.Warn("recording an API token's use", "token", strconv.FormatInt(t.ID, 10), "err", err)
		}
	}
	return t, nil
}
