package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

// mustEnrol reports whether an admin of role must set up two-factor
// before anything else: the owner requires it of role and they have none.
func (h *handler) mustEnrol(ctx context.Context, adminID int64, role access.Role) (bool, error) {
	roles, err := h.twoFactorRoles(ctx)
	if err != nil || !roles[role] {
		return false, err
	}
	tf, err := h.store.TwoFactor(ctx, adminID)
	return !tf.Enrolled(), err
}

// requireTwoFactor sends a signed-in admin who must use two-factor and
// has none to set it up before any other page or call: the owner's
// requirement holds from the moment it is saved, not from the admin's
// next sign-in. Their session stays, so they carry on where they were;
// only signing out is let through.
func (h *handler) requireTwoFactor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := c.Get(ctxSession).(store.Session)
		must, err := h.mustEnrol(c.Request().Context(), sess.AdminID, sess.Role)
		if err != nil {
			return err
		}
		if !must || c.Path() == "/logout" {
			return next(c)
		}
		back := "/"
		if c.Request().Method == http.MethodGet {
			back = c.Request().URL.RequestURI()
		}
		to := "/login/enrol?next=" + url.QueryEscape(back)
		if c.Request().Header.Get("HX-Request") == "true" {
			c.Response().Header().Set("HX-Redirect", to)
			return c.NoContent(http.StatusForbidden)
		}
		return redirect(c, to)
	}
}

// enrolling is the admin setting up two-factor at /login/enrol: the one
// this browser just gave the password of, or, signedIn, the one whose
// session requireTwoFactor sent here, who keeps that session. ok is false
// when the answer (a redirect) is already written.
func (h *handler) enrolling(c echo.Context) (a store.Admin, signedIn, ok bool, err error) {
	ctx := c.Request().Context()
	a, err = h.store.AdminByLoginChallenge(ctx, h.cookie(c, challengeCookie))
	if !errors.Is(err, access.ErrNotFound) {
		return a, false, err == nil, err
	}
	sess, err := h.store.SessionByToken(ctx, h.sessionToken(c))
	if errors.Is(err, access.ErrNotFound) {
		return a, false, false, redirect(c, "/login?flash=code-expired")
	}
	if err != nil {
		return a, true, false, err
	}
	must, err := h.mustEnrol(ctx, sess.AdminID, sess.Role)
	if err != nil {
		return a, true, false, err
	}
	if !must {
		// Set up meanwhile, in another tab: nothing left to do here.
		return a, true, false, redirect(c, safeNext(access.Clip(c.FormValue("next"), 2000)))
	}
	a, err = h.store.AdminByID(ctx, sess.AdminID)
	return a, true, err == nil, err
}
