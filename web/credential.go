package web

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/mail"
	"postern/store"
)

// Setting keys for credentials.
const (
	settingCodeDays = "code_lifetime_days"
	settingSiteTZ   = "time_zone"
)

func (h *handler) credentialRoutes(g *echo.Group) {
	g.POST("/users/:id/credentials", h.credentialAssign)
	g.POST("/credentials/:cid/revoke", h.credentialRevoke)
	g.POST("/credentials/:cid/reissue", h.credentialReissue)
	g.POST("/credentials/:cid/resend", h.credentialResend)
	g.GET("/users/:id/codes/:ticket", h.codeShow)
	g.POST("/users/:id/credentials/import/preview", h.importPreviewPage)
	g.POST("/users/:id/credentials/import", h.importConfirm)
}

// codeLifetime is how long new registration codes work.
func (h *handler) codeLifetime(ctx context.Context) time.Duration {
	s, _ := h.store.Setting(ctx, settingCodeDays, "")
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 90 {
		return time.Duration(n) * 24 * time.Hour
	}
	return access.DefaultCodeLifetime
}

// RegistrationLink is the link an invitation carries: the site's public URL
// and the code, which the key app (or `postern key register LINK`) reads.
// With the site key's fingerprint, the key checks the site's signed answer
// against it.
func RegistrationLink(publicURL, code, fingerprint string) string {
	link := publicURL + "/key/register?code=" + url.QueryEscape(code)
	if fingerprint != "" {
		link += "&fp=" + url.QueryEscape(fingerprint)
	}
	return link
}

// inviter composes the invitation for a new code, inside the store's
// transaction so the credential and its email are written together.
func (h *handler) inviter(ctx context.Context, code string, expires time.Time) func(access.Credential, access.User) (store.Mail, error) {
	return h.inviteComposer(ctx)(code, expires)
}

// inviteComposer reads what every invitation says of the site once, for
// composing many (an import's) inside one transaction, where the store
// may not be read.
func (h *handler) inviteComposer(ctx context.Context) func(code string, expires time.Time) func(access.Credential, access.User) (store.Mail, error) {
	site, siteErr := h.store.Site(ctx)
	from := h.mailer.From(ctx, h.publicURL)
	loc := h.location(ctx)
	return func(code string, expires time.Time) func(access.Credential, access.User) (store.Mail, error) {
		return func(c access.Credential, u access.User) (store.Mail, error) {
			if siteErr != nil {
				return store.Mail{}, siteErr
			}
			msg := mail.Invitation(mail.InviteData{
				SiteName: site.Name, SiteURL: h.publicURL,
				FirstName: u.FirstName, LastName: u.LastName,
				To: u.Email, From: from,
				Code: code, Link: RegistrationLink(h.publicURL, code, siteFingerprint(site)),
				Fingerprint: siteFingerprint(site),
				ExpiresAt:   expires, Location: loc,
			})
			return encodeMail("invitation", msg)
		}
	}
}

// invitation is the invitation a new code is sent with: none when it is to
// be printed.
func (h *handler) invitation(ctx context.Context, code string, expires time.Time, how delivery) func(access.Credential, access.User) (store.Mail, error) {
	if how == byPrint {
		return nil
	}
	return h.inviter(ctx, code, expires)
}

// assign creates a Smart credential and queues its invitation unless the
// code is to be printed; it returns the code so that an admin who asked
// may see it once.
func (h *handler) assign(c echo.Context, userID int64, how delivery) (access.Credential, string, error) {
	ctx := c.Request().Context()
	code := access.NewRegistrationCode()
	expires := h.now().Add(h.codeLifetime(ctx))
	cred, err := h.store.AssignCredential(ctx, actor(c), userID, code, expires, h.invitation(ctx, code, expires, how))
	if err != nil {
		return cred, "", err
	}
	h.mailer.Wake()
	return cred, code, nil
}

// newCode gives a credential a new code (reissue or resend).
func (h *handler) newCode(c echo.Context, id access.CredentialID, why string, how delivery) (string, error) {
	ctx := c.Request().Context()
	code := access.NewRegistrationCode()
	expires := h.now().Add(h.codeLifetime(ctx))
	if err := h.store.NewRegistrationCode(ctx, actor(c), id, why, code, expires, h.invitation(ctx, code, expires, how)); err != nil {
		return "", err
	}
	h.mailer.Wake()
	return code, nil
}

func credentialParam(c echo.Context) (access.CredentialID, error) {
	id, err := access.ParseCredentialID(c.Param("cid"))
	if err != nil {
		return id, errBadRequest("%q is not a credential id", c.Param("cid"))
	}
	return id, nil
}

func (h *handler) credentialAssign(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	u, err := h.store.UserByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	how := readDelivery(c)
	_, code, err := h.assign(c, id, how)
	if err != nil {
		return err
	}
	return h.codeDone(c, u, code, how, "invited")
}

func (h *handler) credentialUser(c echo.Context) (access.CredentialID, access.User, error) {
	id, err := credentialParam(c)
	if err != nil {
		return id, access.User{}, err
	}
	cred, err := h.store.CredentialByID(c.Request().Context(), id)
	if err != nil {
		return id, access.User{}, err
	}
	u, err := h.store.UserByID(c.Request().Context(), cred.UserID)
	return id, u, err
}

func (h *handler) credentialRevoke(c echo.Context) error {
	id, u, err := h.credentialUser(c)
	if err != nil {
		return err
	}
	if err := h.store.RevokeCredential(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, "/users/"+strconv.FormatInt(u.ID, 10)+"?flash=revoked")
}

func (h *handler) credentialReissue(c echo.Context) error {
	return h.credentialNewCode(c, "reissued")
}

func (h *handler) credentialResend(c echo.Context) error {
	return h.credentialNewCode(c, "resent")
}

func (h *handler) credentialNewCode(c echo.Context, why string) error {
	id, u, err := h.credentialUser(c)
	if err != nil {
		return err
	}
	how := readDelivery(c)
	code, err := h.newCode(c, id, why, how)
	if err != nil {
		return err
	}
	return h.codeDone(c, u, code, how, why)
}
