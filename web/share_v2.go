package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
	"postern/mail"
	"postern/store"
)

// KeyShareV2Request asks the home site to send the credential to another
// site's administrator as a version 2 token. The key made a key pair, a
// credential id and an introduction secret for that site alone; the
// request is signed with the credential's user-verification key (headers
// as for version 1, protocol.SignShare2).
type KeyShareV2Request struct {
	KeyShareRequest
	SiteCredentialID string `json:"site_credential_id"` // 32 hex digits
	TapKey           []byte `json:"tap_key"`
	UVKey            []byte `json:"uv_key"`
	Introduction     []byte `json:"introduction"`
}

func (h *handler) keyShareV2(c echo.Context) error {
	ctx := c.Request().Context()
	var req KeyShareV2Request
	r, done, err := h.readShare(c, &req, &req.KeyShareRequest)
	if done {
		return err
	}
	siteCred, err := access.ParseCredentialID(req.SiteCredentialID)
	if err != nil || len(req.Introduction) != protocol.SecretSize || siteCred == r.id {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "site_credential_id (32 hex digits, new) and introduction (32 bytes) are required")
	}
	if _, err := protocol.ParsePublicKey(req.TapKey); err != nil {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "tap_key is not a P-256 public key")
	}
	pub, err := protocol.ParsePublicKey(r.cred.UVKey)
	if err != nil {
		return keyFail(c, http.StatusConflict, KeyErrCredentialRevoked, "This credential has no registered device.")
	}
	if err := protocol.VerifyShare2(protocol.CredentialID(r.id), r.body, r.at, r.sig, pub); err != nil {
		h.refusals.record(ctx, &access.Event{Kind: "share.failed", Reason: "bad signature", Actor: "key", CredentialID: r.id.String(), Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusUnauthorized, KeyErrBadSignature, "The request is not signed by this credential's device, unlocked.")
	}
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	sh := store.SentShare{CredentialID: r.id, AdminEmail: req.AdminEmail, SiteCredentialID: siteCred, FirstName: req.FirstName, LastName: req.LastName,
		ExpiresAt: h.now().Add(h.shareLifetime(ctx))}
	rand.Read(sh.TokenID[:])
	from := h.mailer.From(ctx, h.publicURL)
	err = h.store.QueueShareV2(ctx, sh, r.at, shareLimit, shareWindow, func(cr access.Credential, u access.User) (store.Mail, error) {
		tok, err := protocol.EncodeTokenV2(protocol.TokenV2{
			ID: sh.TokenID, CredentialID: protocol.CredentialID(siteCred), TapKey: req.TapKey, UVKey: req.UVKey, Introduction: req.Introduction,
			AdminEmail: req.AdminEmail, FirstName: req.FirstName, LastName: req.LastName,
			SiteID: protocol.SiteID(site.ID), SiteName: tokenSiteName(site.Name), SiteURL: h.publicURL,
			IssuedAt: h.now(), ExpiresAt: sh.ExpiresAt,
		}, site.Key)
		if err != nil {
			return store.Mail{}, err
		}
		return h.shareEmail(site, from, mail.ShareData{To: req.AdminEmail, HolderFirst: req.FirstName, HolderLast: req.LastName, Token: tok, ExpiresAt: sh.ExpiresAt})
	})
	if err != nil {
		return shareFailed(c, err)
	}
	h.mailer.Wake()
	return c.JSON(http.StatusAccepted, KeyShareV2Response{KeyShareResponse: KeyShareResponse{Status: "queued", ExpiresAt: sh.ExpiresAt.UTC()}, TokenID: hex.EncodeToString(sh.TokenID[:])})
}

// KeyShareV2Response confirms the email is on its way, naming its token.
type KeyShareV2Response struct {
	KeyShareResponse
	TokenID string `json:"token_id"`
}
