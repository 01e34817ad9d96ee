package web

import (
	"encoding/hex"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"postern/store"
)

// The shares this site sent: "Add credential to new site" requests its
// holders made with version 2 tokens, which an administrator here can see
// and withdraw (page and API).

func (h *handler) shareRoutes(g *echo.Group) {
	g.GET("/shares", h.shareList)
	g.POST("/shares/:token/withdraw", h.shareWithdraw)
}

type shareView struct {
	Shares []store.SentShare
	Now    time.Time
	Loc    *time.Location
}

func (h *handler) shareList(c echo.Context) error {
	ctx := c.Request().Context()
	shares, err := h.store.SentShares(ctx, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, sharesPage(pageFor(c, "Shares"), shareView{Shares: shares, Now: h.now(), Loc: h.location(ctx)}))
}

// tokenParam reads a share's token id from the path.
func tokenParam(c echo.Context) ([16]byte, error) {
	raw, err := hex.DecodeString(c.Param("token"))
	if err != nil || len(raw) != 16 {
		return [16]byte{}, errBadRequest("%q is not a share's token id (32 hex digits)", c.Param("token"))
	}
	return [16]byte(raw), nil
}

func (h *handler) shareWithdraw(c echo.Context) error {
	token, err := tokenParam(c)
	if err != nil {
		return err
	}
	if err := h.store.WithdrawShare(c.Request().Context(), actor(c), token); err != nil {
		return err
	}
	return redirect(c, "/shares?flash=withdrawn")
}

// shareJSON is a sent share as the API shows it.
type shareJSON struct {
	TokenID          string     `json:"token_id"`
	CredentialID     string     `json:"credential_id"`
	UserID           int64      `json:"user_id"`
	AdminEmail       string     `json:"admin_email"`
	SiteCredentialID string     `json:"site_credential_id"`
	FirstName        string     `json:"first_name"`
	LastName         string     `json:"last_name"`
	Status           string     `json:"status"` // sent, imported, withdrawn, expired
	CreatedAt        time.Time  `json:"created_at"`
	ExpiresAt        time.Time  `json:"expires_at"`
	WithdrawnAt      *time.Time `json:"withdrawn_at"`
	ImportedAt       *time.Time `json:"imported_at"`
	ImportedBy       string     `json:"imported_by,omitempty"`
}

func toShareJSON(sh store.SentShare, now time.Time) shareJSON {
	return shareJSON{TokenID: hex.EncodeToString(sh.TokenID[:]), CredentialID: sh.CredentialID.String(), UserID: sh.UserID,
		AdminEmail: sh.AdminEmail, SiteCredentialID: hex.EncodeToString(sh.SiteCredentialID[:]), FirstName: sh.FirstName, LastName: sh.LastName,
		Status: sh.Status(now), CreatedAt: sh.CreatedAt.UTC(), ExpiresAt: sh.ExpiresAt.UTC(),
		WithdrawnAt: apiTime(sh.WithdrawnAt), ImportedAt: apiTime(sh.RedeemedAt), ImportedBy: sh.RedeemedBy}
}

func (h *handler) apiShareList(c echo.Context) error {
	shares, err := h.store.SentShares(c.Request().Context(), nil)
	if err != nil {
		return err
	}
	out := make([]shareJSON, len(shares))
	for i, sh := range shares {
		out[i] = toShareJSON(sh, h.now())
	}
	return c.JSON(http.StatusOK, map[string]any{"shares": out})
}

func (h *handler) apiShareWithdraw(c echo.Context) error {
	ctx := c.Request().Context()
	token, err := tokenParam(c)
	if err != nil {
		return err
	}
	if err := h.store.WithdrawShare(ctx, actor(c), token); err != nil {
		return err
	}
	sh, err := h.store.SentShareByToken(ctx, token)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toShareJSON(sh, h.now()))
}

func tokenHex(id [16]byte) string { return hex.EncodeToString(id[:]) }
