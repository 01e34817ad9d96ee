package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

// A sign-in with two-factor is two forms: the password, then the code.
// Between them the browser holds a challenge cookie naming a row in
// admin_logins, never a session: until the code is right it can do
// nothing but give a code.
const (
	challengeCookie = "postern_login"
	challengeTTL    = 5 * time.Minute
)

func (h *handler) loginCodeRoutes(g *echo.Group) {
	g.GET("/login/code", h.loginCodeForm)
	g.POST("/login/code", h.loginCodeSave, h.checkOrigin)
	g.GET("/login/enrol", h.loginEnrolForm)
	g.POST("/login/enrol", h.loginEnrolSave, h.checkOrigin)
}

// loginCodeView is the second sign-in form, or the setup a role that must
// use two-factor goes through at its first sign-in.
type loginCodeView struct {
	CSRF, Next, Error string
	Setup             totpSetup // at /login/enrol
}

// secondFactor sends an admin whose password was right on to the code, or
// to set one up if their role must use one: it reports false when neither
// applies and a session may start now.
func (h *handler) secondFactor(c echo.Context, a store.Admin, next string) (bool, error) {
	ctx := c.Request().Context()
	tf, err := h.store.TwoFactor(ctx, a.ID)
	if err != nil {
		return false, err
	}
	to := "/login/code"
	if !tf.Enrolled() {
		must, err := h.twoFactorRoles(ctx)
		if err != nil {
			return false, err
		}
		if !must[a.Role] {
			return false, nil
		}
		to = "/login/enrol"
	}
	token := randomToken(32)
	if err := h.store.CreateLoginChallenge(ctx, token, a.ID, challengeTTL); err != nil {
		return false, err
	}
	h.setCookie(c, challengeCookie, token, int(challengeTTL.Seconds()))
	return true, redirect(c, to+"?next="+url.QueryEscape(next))
}

// challenged is the admin this browser gave the password of, or a page
// sending it back to the password form.
func (h *handler) challenged(c echo.Context) (store.Admin, bool, error) {
	a, err := h.store.AdminByLoginChallenge(c.Request().Context(), h.cookie(c, challengeCookie))
	if errors.Is(err, access.ErrNotFound) {
		return a, false, redirect(c, "/login?flash=code-expired")
	}
	return a, err == nil, err
}

func (h *handler) loginCodeForm(c echo.Context) error {
	if _, ok, err := h.challenged(c); !ok {
		return err
	}
	return render(c, http.StatusOK, loginCodePage(pageFor(c, "Sign in"), loginCodeView{CSRF: h.preCSRF(c), Next: safeNext(c.QueryParam("next"))}))
}

// takeCodeAttempt counts a code attempt for a against the per-admin limit,
// and answers with the refusal when it is used up.
func (h *handler) takeCodeAttempt(c echo.Context, a store.Admin, v loginCodeView, page func(pageView, loginCodeView) templ.Component) (store.Bucket, bool, error) {
	ctx := c.Request().Context()
	b := codeAttemptLimit.bucket("login-code:" + strconv.FormatInt(a.ID, 10))
	wait, err := h.store.TakeThrottle(ctx, h.now(), b)
	if err != nil || wait <= 0 {
		return b, err == nil, err
	}
	h.refusals.count(ctx, "admin.login_limited")
	setRetryAfter(c, wait)
	v.Error = "Too many codes tried. Try again in " + inWords(wait) + "."
	return b, false, render(c, http.StatusTooManyRequests, page(pageFor(c, "Sign in"), v))
}

func (h *handler) loginCodeSave(c echo.Context) error {
	ctx := c.Request().Context()
	v := loginCodeView{CSRF: h.preCSRF(c), Next: safeNext(access.Clip(c.FormValue("next"), 2000))}
	if !h.checkPreCSRF(c) {
		v.Error = "The sign-in form expired. Please try again."
		return render(c, http.StatusForbidden, loginCodePage(pageFor(c, "Sign in"), v))
	}
	a, ok, err := h.challenged(c)
	if !ok {
		return err
	}
	bucket, ok, err := h.takeCodeAttempt(c, a, v, loginCodePage)
	if !ok {
		return err
	}
	tf, err := h.store.TwoFactor(ctx, a.ID)
	if err != nil {
		return err
	}
	good, err := h.checkSecondFactor(ctx, a, tf, access.Clip(c.FormValue("code"), 64))
	if err != nil {
		return err
	}
	if !good {
		h.refusals.record(ctx, &access.Event{Kind: "admin.login_failed", Actor: "ip:" + c.RealIP(), Detail: a.Email + ": wrong code"})
		v.Error = "That code is not right, or was used already."
		return render(c, http.StatusUnauthorized, loginCodePage(pageFor(c, "Sign in"), v))
	}
	return h.passChallenge(c, a, bucket, func() error { return redirect(c, v.Next) })
}

// passChallenge ends the challenge a right code answered, gives the try
// back and starts the session; then answers with done.
func (h *handler) passChallenge(c echo.Context, a store.Admin, bucket store.Bucket, done func() error) error {
	ctx := c.Request().Context()
	if err := h.store.DeleteLoginChallenge(ctx, h.cookie(c, challengeCookie)); err != nil {
		return err
	}
	h.setCookie(c, challengeCookie, "", -1)
	if err := h.store.ReturnThrottle(ctx, h.now(), bucket); err != nil {
		return err
	}
	if err := h.startSession(c, a); err != nil {
		return err
	}
	return done()
}

// loginEnrolForm shows an admin whose role must use two-factor, and who
// has none yet, a secret to add to their app: right after their password,
// or on the first page they open once the owner requires it.
func (h *handler) loginEnrolForm(c echo.Context) error {
	a, _, ok, err := h.enrolling(c)
	if !ok {
		return err
	}
	v := loginCodeView{CSRF: h.preCSRF(c), Next: safeNext(c.QueryParam("next"))}
	if v.Setup, err = h.pendingSetup(c, a); err != nil {
		return err
	}
	return render(c, http.StatusOK, loginEnrolPage(pageFor(c, "Set up two-factor sign-in"), v))
}

// pendingSetup is the secret a is setting up: the one shown before, so a
// reload does not make the app's entry stale, or a new one.
func (h *handler) pendingSetup(c echo.Context, a store.Admin) (totpSetup, error) {
	ctx := c.Request().Context()
	tf, err := h.store.TwoFactor(ctx, a.ID)
	if err != nil {
		return totpSetup{}, err
	}
	if tf.Pending == "" {
		if tf.Pending, err = newTOTPSecret(); err != nil {
			return totpSetup{}, err
		}
		if err := h.store.SetPendingTOTP(ctx, a.ID, tf.Pending); err != nil {
			return totpSetup{}, err
		}
	}
	return newTOTPSetup(h.siteIssuer(ctx), a.Email, tf.Pending)
}

func (h *handler) loginEnrolSave(c echo.Context) error {
	v := loginCodeView{CSRF: h.preCSRF(c), Next: safeNext(access.Clip(c.FormValue("next"), 2000))}
	if !h.checkPreCSRF(c) {
		v.Error = "The form expired. Please try again."
		return render(c, http.StatusForbidden, loginCodePage(pageFor(c, "Sign in"), v))
	}
	a, signedIn, ok, err := h.enrolling(c)
	if !ok {
		return err
	}
	if v.Setup, err = h.pendingSetup(c, a); err != nil {
		return err
	}
	bucket, ok, err := h.takeCodeAttempt(c, a, v, loginEnrolPage)
	if !ok {
		return err
	}
	codes, err := h.enrol(c, a, access.Clip(c.FormValue("code"), 64))
	if err != nil {
		return err
	}
	if codes == nil {
		v.Error = "That code is not right: check the time on your phone, and type the newest code."
		return render(c, http.StatusUnprocessableEntity, loginEnrolPage(pageFor(c, "Set up two-factor sign-in"), v))
	}
	done := func() error {
		return render(c, http.StatusOK, recoveryCodesPage(pageFor(c, "Recovery codes"), recoveryCodesView{Codes: codes, Next: v.Next}))
	}
	if signedIn {
		if err := h.store.ReturnThrottle(c.Request().Context(), h.now(), bucket); err != nil {
			return err
		}
		return done()
	}
	return h.passChallenge(c, a, bucket, done)
}

// enrol turns on two-factor for a with their pending secret when code is
// from it, and returns their new recovery codes; nil when code is wrong.
func (h *handler) enrol(c echo.Context, a store.Admin, code string) ([]string, error) {
	ctx := c.Request().Context()
	tf, err := h.store.TwoFactor(ctx, a.ID)
	if err != nil || tf.Pending == "" {
		return nil, err
	}
	step, ok := totpStep(tf.Pending, code, h.now())
	if !ok {
		return nil, nil
	}
	codes := newRecoveryCodes()
	if err := h.store.EnrolTOTP(ctx, "admin:"+a.Email, a.ID, tf.Pending, step, codes); err != nil {
		return nil, err
	}
	return codes, nil
}
