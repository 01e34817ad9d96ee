package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

// maxEmail is the longest email address there is (RFC 5321's path limit):
// a longer one names nobody, and is cut to it before it is shown back,
// logged or counted.
const maxEmail = 254

// deviceCookie marks a browser an admin has signed in from (its token's
// hash is in admin_devices); it lasts as long as browsers keep a cookie.
const (
	deviceCookie = "postern_device"
	deviceMaxAge = 400 * 24 * 60 * 60
)

func (h *handler) loginForm(c echo.Context) error {
	if n, err := h.store.CountAdmins(c.Request().Context()); err == nil && n == 0 {
		return render(c, http.StatusOK, messagePage(pageFor(c, "Set up Postern"), "Postern is not set up yet",
			"Open the one-time setup link that `postern serve` printed when it started, or run `postern admin create`."))
	}
	return render(c, http.StatusOK, loginPage(pageFor(c, "Sign in"), loginView{CSRF: h.preCSRF(c), Next: safeNext(c.QueryParam("next"))}))
}

func (h *handler) loginSave(c echo.Context) error {
	ctx := c.Request().Context()
	h.refusals.flush(ctx)
	email := access.Clip(strings.TrimSpace(c.FormValue("email")), maxEmail)
	v := loginView{CSRF: h.preCSRF(c), Email: email, Next: safeNext(access.Clip(c.FormValue("next"), 2000))}
	if !h.checkPreCSRF(c) {
		v.Error = "The sign-in form expired. Please try again."
		return render(c, http.StatusForbidden, loginPage(pageFor(c, "Sign in"), v))
	}
	// A try is taken before the password is checked and given back when it
	// was right, so parallel guesses cannot all pass a check first.
	buckets := h.loginBuckets(ctx, c, email)
	wait, err := h.store.TakeThrottle(ctx, h.now(), buckets...)
	if err != nil {
		return err
	}
	if wait > 0 {
		h.refusals.count(ctx, "admin.login_limited")
		setRetryAfter(c, wait)
		v.Error = "Too many sign-in attempts. Try again in " + inWords(wait) + "."
		return render(c, http.StatusTooManyRequests, loginPage(pageFor(c, "Sign in"), v))
	}
	admin, err := h.store.AdminByEmail(ctx, email)
	if err != nil && !errors.Is(err, access.ErrNotFound) {
		return err
	}
	hash := admin.PasswordHash
	if err != nil {
		hash = dummyHash
	}
	if !CheckPassword(hash, c.FormValue("password")) || err != nil {
		h.refusals.record(ctx, &access.Event{Kind: "admin.login_failed", Actor: "ip:" + c.RealIP(), Detail: email})
		v.Error = "That email and password do not match an administrator."
		return render(c, http.StatusUnauthorized, loginPage(pageFor(c, "Sign in"), v))
	}
	if err := h.store.ReturnThrottle(ctx, h.now(), buckets...); err != nil {
		return err
	}
	if asked, err := h.secondFactor(c, admin, v.Next); asked || err != nil {
		return err
	}
	if err := h.startSession(c, admin); err != nil {
		return err
	}
	return redirect(c, v.Next)
}

// loginBuckets are the limits a sign-in as email from this client counts
// against: its own browser's, when the admin has signed in from it before,
// else the address's with this email, the address's, and the email's.
func (h *handler) loginBuckets(ctx context.Context, c echo.Context, email string) []store.Bucket {
	if dev := h.cookie(c, deviceCookie); dev != "" {
		if a, err := h.store.AdminByDevice(ctx, dev); err == nil && strings.EqualFold(a.Email, email) {
			return []store.Bucket{loginDeviceLimit.bucket("login-device:" + dev)}
		}
	}
	addr, email := clientAddress(c), strings.ToLower(email)
	return []store.Bucket{
		loginPairLimit.bucket("login-pair:" + addr + " " + email),
		loginAddrLimit.bucket("login-addr:" + addr),
		loginEmailLimit.bucket("login-email:" + email),
	}
}

// rememberDevice marks this browser as one admin signs in from: the
// cookie it has if that is already admin's, else a new one.
func (h *handler) rememberDevice(c echo.Context, admin store.Admin) error {
	ctx := c.Request().Context()
	token := h.cookie(c, deviceCookie)
	if token != "" {
		if a, err := h.store.AdminByDevice(ctx, token); err != nil || a.ID != admin.ID {
			token = ""
		}
	}
	if token == "" {
		token = randomToken(32)
	}
	if err := h.store.RememberAdminDevice(ctx, admin.ID, token, h.now()); err != nil {
		return err
	}
	h.setCookie(c, deviceCookie, token, deviceMaxAge)
	return nil
}
