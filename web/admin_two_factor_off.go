package web

import (
	"context"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/mail"
	"postern/store"
)

// adminTwoFactorOff turns off another administrator's two-factor sign-in
// (owner only, by the table), for one who lost their phone and their
// recovery codes, and emails them that it was done. Their own is turned
// off with their password, on their account.
func (h *handler) adminTwoFactorOff(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c)
	if err != nil {
		return err
	}
	sess := c.Get(ctxSession).(store.Session)
	if id == sess.AdminID {
		return access.Conflict("turn off your own two-factor sign-in under Your account, with your password")
	}
	a, err := h.store.AdminByID(ctx, id)
	if err != nil {
		return err
	}
	m, err := TwoFactorOffMail(ctx, h.store, a, sess.Email, h.mailer.From(ctx, h.publicURL), h.publicURL, h.now())
	if err != nil {
		return err
	}
	if err := h.store.DisableTOTPFor(ctx, actor(c), a.ID, m); err != nil {
		return err
	}
	h.mailer.Wake()
	return redirect(c, "/settings/admins?flash=admin-two-factor-off")
}

// TwoFactorOffMail is the email telling a that by (an owner, or words for
// whoever ran the command) turned off their two-factor sign-in at at, from
// the sending address from, with a link to publicURL when it is known. The
// Administrators page and `postern admin two-factor-off` both queue it
// with store.DisableTOTPFor, so nobody's second factor goes unannounced.
func TwoFactorOffMail(ctx context.Context, st *store.Store, a store.Admin, by, from, publicURL string, at time.Time) (store.Mail, error) {
	must, err := requiredTwoFactorRoles(ctx, st)
	if err != nil {
		return store.Mail{}, err
	}
	site, err := st.Site(ctx)
	if err != nil {
		return store.Mail{}, err
	}
	next := "Your password alone now signs you in. You can turn two-factor sign-in on again under Settings, Administrators."
	if must[a.Role] {
		next = fmt.Sprintf("Every %s of this site must use two-factor sign-in, so you will set it up again with your authenticator app: on the next page you open if you are signed in, else right after your password the next time you sign in.", a.Role)
	}
	where := " under Settings, Administrators.\n"
	if publicURL != "" {
		where = ":\n\n" + publicURL + "/settings/admins\n"
	}
	msg := mail.Message{From: from, To: []string{a.Email},
		Subject: "Two-factor sign-in turned off for " + site.Name,
		Text: fmt.Sprintf("Hello,\n\n%s turned off two-factor sign-in for %s on %s, at %s. Your recovery codes no longer work.\n\n%s\n\nIf you did not ask for this, tell another owner of the site and change your password%s",
			by, a.Email, site.Name, formatTime(at, st.SiteLocation(ctx)), next, where)}
	return encodeMail("admin_two_factor_off", msg)
}
