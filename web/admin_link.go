package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/mail"
	"postern/store"
)

// How long an emailed link works: an invitation waits for someone to read
// their mail; a reset answers someone waiting at the sign-in page.
const (
	inviteLinkTTL = 7 * 24 * time.Hour
	resetLinkTTL  = time.Hour
)

// resetLimit bounds reset emails per address, so the form cannot fill an
// administrator's mailbox.
var resetLimit = limit{burst: 3, every: 20 * time.Minute}

func (h *handler) adminLinkRoutes(pages, admin *echo.Group) {
	pages.GET("/login/forgot", h.forgotForm)
	pages.POST("/login/forgot", h.forgotSave, h.checkOrigin)
	pages.GET("/admin-link/:token", h.adminLinkForm)
	pages.POST("/admin-link/:token", h.adminLinkSave, h.checkOrigin)
	admin.POST("/settings/admins/invite", h.adminInvite)
}

// adminLinkMail is the email that carries a link.
func (h *handler) adminLinkMail(c echo.Context, l store.AdminLink, token string) (store.Mail, error) {
	ctx := c.Request().Context()
	site, err := h.store.Site(ctx)
	if err != nil {
		return store.Mail{}, err
	}
	link := h.publicURL + "/admin-link/" + token
	until := formatTime(l.ExpiresAt, h.location(ctx))
	msg := mail.Message{From: h.mailer.From(ctx, h.publicURL), To: []string{l.Email}}
	if l.Kind == "invite" {
		msg.Subject = "You are invited to administer " + site.Name
		msg.Text = fmt.Sprintf("Hello,\n\nYou are invited to administer the doors of %s on Postern, as %s.\n\nChoose your password here (the link works once, until %s):\n\n%s\n", site.Name, l.Role, until, link)
	} else {
		msg.Subject = "Reset your Postern password for " + site.Name
		msg.Text = fmt.Sprintf("Hello,\n\nSomeone asked to reset the password of %s on %s. If it was you, choose a new one here (the link works once, until %s):\n\n%s\n\nIf not, ignore this email: your password stays as it is.\n", l.Email, site.Name, until, link)
	}
	return encodeMail("admin_"+l.Kind, msg)
}

// adminInvite emails a one-time link that makes an administrator with a
// role (owner only, by the table).
func (h *handler) adminInvite(c echo.Context) error {
	ctx := c.Request().Context()
	role, err := access.ParseRole(c.FormValue("role"))
	if err != nil {
		return err
	}
	l := store.AdminLink{Kind: "invite", Email: access.Clip(strings.TrimSpace(c.FormValue("email")), maxEmail), Role: role, ExpiresAt: h.now().Add(inviteLinkTTL)}
	token := randomToken(32)
	m, err := h.adminLinkMail(c, l, token)
	if err != nil {
		return err
	}
	if err := h.store.CreateAdminLink(ctx, actor(c), l, token, m); err != nil {
		return err
	}
	h.mailer.Wake()
	return redirect(c, "/settings/admins?flash=admin-invited")
}

func (h *handler) forgotForm(c echo.Context) error {
	return render(c, http.StatusOK, forgotPage(pageFor(c, "Forgot your password"), loginView{CSRF: h.preCSRF(c)}))
}

// forgotSave emails a reset link when the address is an administrator's,
// and answers the same either way, so the form does not tell who is one.
func (h *handler) forgotSave(c echo.Context) error {
	ctx := c.Request().Context()
	email := access.Clip(strings.TrimSpace(c.FormValue("email")), maxEmail)
	v := loginView{CSRF: h.preCSRF(c), Email: email}
	if !h.checkPreCSRF(c) {
		v.Error = "The form expired. Please try again."
		return render(c, http.StatusForbidden, forgotPage(pageFor(c, "Forgot your password"), v))
	}
	wait, err := h.store.TakeThrottle(ctx, h.now(), resetLimit.bucket("reset-email:"+strings.ToLower(email)))
	if err != nil {
		return err
	}
	if wait == 0 {
		if a, err := h.store.AdminByEmail(ctx, email); err == nil {
			l := store.AdminLink{Kind: "reset", Email: a.Email, Role: a.Role, ExpiresAt: h.now().Add(resetLinkTTL)}
			token := randomToken(32)
			m, err := h.adminLinkMail(c, l, token)
			if err != nil {
				return err
			}
			if err := h.store.CreateAdminLink(ctx, "ip:"+c.RealIP(), l, token, m); err != nil {
				return err
			}
			h.mailer.Wake()
		} else if !errors.Is(err, access.ErrNotFound) {
			return err
		}
	}
	return redirect(c, "/login?flash=reset-sent")
}

type adminLinkView struct {
	CSRF, Token, Email, Kind string
	Role                     access.Role
	Errors                   fieldErrors
}

func (h *handler) adminLinkForm(c echo.Context) error {
	l, err := h.store.AdminLinkByToken(c.Request().Context(), c.Param("token"))
	if errors.Is(err, access.ErrNotFound) {
		return render(c, http.StatusNotFound, messagePage(pageFor(c, "Link not valid"), "This link is not valid",
			"It was used already, has expired, or was replaced by a newer one. Ask an owner for a new invitation, or reset your password again."))
	}
	if err != nil {
		return err
	}
	v := adminLinkView{CSRF: h.preCSRF(c), Token: c.Param("token"), Email: l.Email, Kind: l.Kind, Role: l.Role, Errors: fieldErrors{}}
	return render(c, http.StatusOK, adminLinkPage(pageFor(c, "Choose your password"), v))
}

// adminLinkSave sets the password the link is for, spends the link and
// signs the administrator in.
func (h *handler) adminLinkSave(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	l, err := h.store.AdminLinkByToken(ctx, token)
	if errors.Is(err, access.ErrNotFound) {
		return h.adminLinkForm(c)
	}
	if err != nil {
		return err
	}
	v := adminLinkView{CSRF: h.preCSRF(c), Token: token, Email: l.Email, Kind: l.Kind, Role: l.Role, Errors: fieldErrors{}}
	pw := c.FormValue("password")
	switch {
	case !h.checkPreCSRF(c):
		v.Errors["form"] = "The form expired. Please try again."
	case checkNewPassword(pw) != nil:
		v.Errors["password"] = checkNewPassword(pw).Error()
	case pw != c.FormValue("confirm"):
		v.Errors["confirm"] = "is not the same as the password"
	}
	if len(v.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, adminLinkPage(pageFor(c, "Choose your password"), v))
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	a, err := h.store.UseAdminLink(ctx, token, hash)
	if errors.Is(err, access.ErrNotFound) {
		return h.adminLinkForm(c)
	}
	if err != nil {
		return err
	}
	// The link proves the mailbox, not the second factor: an admin who
	// has one, or whose role must, gives or sets it up before a session.
	if asked, err := h.secondFactor(c, a, "/"); asked || err != nil {
		return err
	}
	if err := h.startSession(c, a); err != nil {
		return err
	}
	return redirect(c, "/")
}
