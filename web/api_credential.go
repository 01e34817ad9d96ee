package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

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
		Kind     string `json:"kind"`
		Delivery string `json:"delivery"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var errs access.ValidationErrors
	if in.Kind != "smart" && in.Kind != "" {
		errs.Add("kind", "only smart credentials can be assigned")
	}
	how, err := apiDelivery(in.Delivery)
	errs.Merge(err)
	if err := errs.Err(); err != nil {
		return err
	}
	cred, code, err := h.assign(c, id, how)
	if err != nil {
		return err
	}
	out := toCredentialJSON(cred)
	if c.QueryParam("show_code") == "1" || how == byPrint {
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
	// The body is optional: {"delivery": "print"} sends no email.
	var in struct {
		Delivery string `json:"delivery"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
	}
	how, err := apiDelivery(in.Delivery)
	if err != nil {
		return err
	}
	code, err := h.newCode(c, id, "reissued", how)
	if err != nil {
		return err
	}
	cred, err := h.store.CredentialByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out := toCredentialJSON(cred)
	if c.QueryParam("show_code") == "1" || how == byPrint {
		out.Code = code
	}
	return c.JSON(http.StatusOK, out)
}

// apiDelivery reads the API's "delivery": "email" (the default) sends the
// invitation; "print" sends nothing and returns the code to print.
func apiDelivery(s string) (delivery, error) {
	switch s {
	case "", "email":
		return byEmail, nil
	case "print":
		return byPrint, nil
	}
	return byEmail, access.Invalid("delivery", "must be email or print")
}
