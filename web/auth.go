package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

const (
	sessionCookie = "postern_session"
	preCSRFCookie = "postern_csrf"
	sessionTTL    = 12 * time.Hour
	ctxSession    = "session"
	ctxActor      = "actor"
)

// secure reports whether the browser reached us over TLS: directly, through
// a trusted proxy that says so, or as the public URL promises. Cookies are
// then Secure and __Host-, and HSTS is sent.
func (h *handler) secure(c echo.Context) bool {
	return c.Request().TLS != nil || h.forwardedTLS(c.Request()) || strings.HasPrefix(h.publicURL, "https://")
}

// cookieName is the name a cookie goes by: over TLS it carries the
// __Host- prefix, so only this host, over HTTPS, can have set it; a plain
// one can be planted by a neighbouring host or over plain HTTP, and is
// never read.
func (h *handler) cookieName(c echo.Context, name string) string {
	if h.secure(c) {
		return "__Host-" + name
	}
	return name
}

// cookie reads a cookie under the one name setCookie gives it.
func (h *handler) cookie(c echo.Context, name string) string {
	if ck, err := c.Cookie(h.cookieName(c, name)); err == nil {
		return ck.Value
	}
	return ""
}

// setCookie sets an HttpOnly, SameSite=Strict cookie for the whole site,
// Secure and __Host- over TLS. maxAge 0 lasts the browser session; -1
// deletes it.
func (h *handler) setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: h.cookieName(c, name), Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: h.secure(c), SameSite: http.SameSiteStrictMode})
}

func (h *handler) sessionToken(c echo.Context) string { return h.cookie(c, sessionCookie) }

func (h *handler) setSessionCookie(c echo.Context, token string, maxAge int) {
	h.setCookie(c, sessionCookie, token, maxAge)
}

// requireSession lets through only a logged-in browser; others are sent to
// the login page (htmx is told to go there too).
func (h *handler) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := h.sessionToken(c)
		if token != "" {
			sess, err := h.store.SessionByToken(c.Request().Context(), token)
			if err == nil {
				c.Set(ctxSession, sess)
				c.Set(ctxRole, sess.Role)
				c.Set(ctxActor, "admin:"+sess.Email)
				return next(c)
			}
			if !errors.Is(err, access.ErrNotFound) {
				return err
			}
		}
		login := "/login"
		if c.Request().Method == http.MethodGet && c.Request().URL.Path != "/" {
			login += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		if c.Request().Header.Get("HX-Request") == "true" {
			c.Response().Header().Set("HX-Redirect", login)
			return c.NoContent(http.StatusUnauthorized)
		}
		return redirect(c, login)
	}
}

// checkOrigin refuses a state change whose Origin (or, failing that,
// Referer) names another site. Browsers always send one of them on a POST.
func (h *handler) checkOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(c)
		}
		src := r.Header.Get("Origin")
		if src == "" || src == "null" {
			src = r.Header.Get("Referer")
		}
		if src == "" {
			return echo.NewHTTPError(http.StatusForbidden, "this form must be sent from the Postern page itself (no Origin header)")
		}
		u, err := url.Parse(src)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return echo.NewHTTPError(http.StatusForbidden, "this form was sent from another site")
		}
		return next(c)
	}
}

// checkCSRF requires the session's token on every state change, from a form
// field or htmx's header, on top of the Origin check.
func (h *handler) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return h.checkOrigin(func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(c)
		}
		sess := c.Get(ctxSession).(store.Session)
		got := csrfToken(r)
		if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden, "the form has expired or did not come from this page: reload it and try again")
		}
		return next(c)
	})
}

// csrfToken is the CSRF token a state change carries: htmx's header or the
// form's field, never the query string, which ends up in logs, history and
// Referer headers.
func csrfToken(r *http.Request) string {
	if got := r.Header.Get("X-CSRF-Token"); got != "" {
		return got
	}
	return r.PostFormValue("_csrf")
}

// preCSRF is a double-submit token for the forms used before there is a
// session (setup and login).
func (h *handler) preCSRF(c echo.Context) string {
	if v := h.cookie(c, preCSRFCookie); len(v) >= 20 {
		return v
	}
	t := randomToken(24)
	h.setCookie(c, preCSRFCookie, t, 0)
	return t
}

func (h *handler) checkPreCSRF(c echo.Context) bool {
	v := h.cookie(c, preCSRFCookie)
	return v != "" && subtle.ConstantTimeCompare([]byte(v), []byte(csrfToken(c.Request()))) == 1
}

func (h *handler) startSession(c echo.Context, admin store.Admin) error {
	token := randomToken(32)
	if err := h.store.CreateSession(c.Request().Context(), token, randomToken(24), admin.ID, sessionTTL); err != nil {
		return err
	}
	h.setSessionCookie(c, token, int(sessionTTL.Seconds()))
	h.store.AppendEvent(c.Request().Context(), &access.Event{Kind: "admin.login", Actor: "admin:" + admin.Email, Detail: "from " + c.RealIP()})
	return h.rememberDevice(c, admin)
}

// safeNext keeps a post-login redirect on this site. Browsers read a
// backslash as "/" and drop tabs and newlines, so "/<TAB>/evil.example"
// means "//evil.example": no backslash or control character may pass.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return next
}

func (h *handler) logout(c echo.Context) error {
	if err := h.store.DeleteSession(c.Request().Context(), h.sessionToken(c)); err != nil {
		return err
	}
	h.setSessionCookie(c, "", -1)
	return redirect(c, "/login?flash=signedout")
}

// requireToken checks the API's bearer token.
func (h *handler) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := c.Request().Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || token == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="postern"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "a bearer token is required: create one with `postern admin token`")
		}
		tok, err := h.tokenOwner(c, strings.TrimSpace(token))
		if errors.Is(err, access.ErrNotFound) {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="postern", error="invalid_token"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "the bearer token is not valid")
		}
		if err != nil {
			return err
		}
		c.Set(ctxRole, tok.Role)
		c.Set(ctxActor, "api:"+tok.AdminEmail)
		return next(c)
	}
}

func actor(c echo.Context) string {
	if a, ok := c.Get(ctxActor).(string); ok {
		return a
	}
	return "unknown"
}
