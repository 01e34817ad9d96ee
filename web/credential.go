package web

import (
	"context"
	"net/http"
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
func RegistrationLink(publicURL, code string) string {
	return publicURL + "/key/register?code=" + url.QueryEscape(code)
}

// inviter composes the invitation for a new code, inside the store's
// transaction so the credential and its email are written together.
func (h *handler) inviter(ctx context.Context, code string, expires time.Time) func(access.Credential, access.User) (store.Mail, error) {
	site, siteErr := h.store.Site(ctx)
	from := h.mailer.From(ctx, h.publicURL)
	loc := h.location(ctx)
	return func(c access.Credential, u access.User) (store.Mail, error) {
		if siteErr != nil {
			return store.Mail{}, siteErr
		}
		msg := mail.Invitation(mail.InviteData{
			SiteName: site.Name, SiteURL: h.publicURL,
			FirstName: u.FirstName, LastName: u.LastName,
			To: u.Email, From: from,
			Code: code, Link: RegistrationLink(h.publicURL, code),
			ExpiresAt: expires, Location: loc,
		})
		return encodeMail("invitation", msg)
	}
}

// assign creates a Smart credential and queues its invitation; it returns
// the code so that an admin who asked may see it once.
func (h *handler) assign(c echo.Context, userID int64) (access.Credential, string, error) {
	ctx := c.Request().Context()
	code := access.NewRegistrationCode()
	expires := h.now().Add(h.codeLifetime(ctx))
	cred, err := h.store.AssignCredential(ctx, actor(c), userID, code, expires, h.inviter(ctx, code, expires))
	if err != nil {
		return cred, "", err
	}
	h.mailer.Wake()
	return cred, code, nil
}

// newCode gives a credential a new code (reissue or resend).
func (h *handler) newCode(c echo.Context, id access.CredentialID, why string) (string, error) {
	ctx := c.Request().Context()
	code := access.NewRegistrationCode()
	expires := h.now().Add(h.codeLifetime(ctx))
	if err := h.store.NewRegistrationCode(ctx, actor(c), id, why, code, expires, h.inviter(ctx, code, expires)); err != nil {
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

type codeView struct {
	User    access.User
	Code    string
	Expires string
	Link    string
}

func (h *handler) showCode(c echo.Context, u access.User, code string) error {
	ctx := c.Request().Context()
	v := codeView{User: u, Code: code, Link: RegistrationLink(h.publicURL, code),
		Expires: formatTime(h.now().Add(h.codeLifetime(ctx)), h.location(ctx))}
	return render(c, http.StatusOK, codePage(pageFor(c, "Registration code"), v))
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
	_, code, err := h.assign(c, id)
	if err != nil {
		return err
	}
	if checked(c, "show_code") {
		return h.showCode(c, u, code)
	}
	return redirect(c, "/users/"+strconv.FormatInt(id, 10)+"?flash=invited")
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
	code, err := h.newCode(c, id, why)
	if err != nil {
		return err
	}
	if checked(c, "show_code") {
		return h.showCode(c, u, code)
	}
	return redirect(c, "/users/"+strconv.FormatInt(u.ID, 10)+"?flash="+why)
}

// ---- API

type credentialJSON struct {
	ID           string     `json:"id"`
	UserID       int64      `json:"user_id"`
	Kind         string     `json:"kind"`
	Status       string     `json:"status"`
	DeviceInfo   string     `json:"device_info,omitempty"`
	CreatedAt    *time.Time `json:"created_at"`
	RegisteredAt *time.Time `json:"registered_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	IssuerSite   *siteJSON  `json:"issuer_site,omitempty"`
	Code         string     `json:"code,omitempty"`
}

type siteJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

func toCredentialJSON(c access.Credential) credentialJSON {
	out := credentialJSON{ID: c.ID.String(), UserID: c.UserID, Kind: c.Kind, Status: string(c.Status), DeviceInfo: c.DeviceInfo,
		CreatedAt: apiTime(c.CreatedAt), RegisteredAt: apiTime(c.RegisteredAt), LastUsedAt: apiTime(c.LastUsedAt)}
	if c.Issuer.Name != "" {
		out.IssuerSite = &siteJSON{ID: hexID(c.Issuer.ID), Name: c.Issuer.Name, URL: c.Issuer.URL}
	}
	return out
}

func (h *handler) apiCredentialRoutes(g *echo.Group) {
	g.GET("/users/:id/credentials", h.apiCredentialList)
	g.POST("/users/:id/credentials", h.apiCredentialAssign)
	g.GET("/credentials/:cid", h.apiCredentialGet)
	g.POST("/credentials/:cid/revoke", h.apiCredentialRevoke)
	g.POST("/credentials/:cid/reissue", h.apiCredentialReissue)
	g.POST("/users/:id/credentials/import", h.apiCredentialImport)
}

func (h *handler) apiCredentialList(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if _, err := h.store.UserByID(c.Request().Context(), id); err != nil {
		return err
	}
	creds, err := h.store.UserCredentials(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out := make([]credentialJSON, len(creds))
	for i, cr := range creds {
		out[i] = toCredentialJSON(cr)
	}
	return c.JSON(http.StatusOK, map[string]any{"credentials": out})
}

func (h *handler) apiCredentialAssign(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		Kind string `json:"kind"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Kind != "smart" && in.Kind != "" {
		return access.Invalid("kind", "only smart credentials can be assigned")
	}
	cred, code, err := h.assign(c, id)
	if err != nil {
		return err
	}
	out := toCredentialJSON(cred)
	if c.QueryParam("show_code") == "1" {
		out.Code = code
	}
	return created(c, out)
}

func (h *handler) apiCredentialGet(c echo.Context) error {
	id, err := credentialParam(c)
	if err != nil {
		return err
	}
	cred, err := h.store.CredentialByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCredentialJSON(cred))
}

func (h *handler) apiCredentialRevoke(c echo.Context) error {
	id, err := credentialParam(c)
	if err != nil {
		return err
	}
	if err := h.store.RevokeCredential(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return h.apiCredentialGet(c)
}

func (h *handler) apiCredentialReissue(c echo.Context) error {
	id, err := credentialParam(c)
	if err != nil {
		return err
	}
	code, err := h.newCode(c, id, "reissued")
	if err != nil {
		return err
	}
	cred, err := h.store.CredentialByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out := toCredentialJSON(cred)
	if c.QueryParam("show_code") == "1" {
		out.Code = code
	}
	return c.JSON(http.StatusOK, out)
}
