package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
	"postern/mail"
	"postern/store"
)

// WebKeyShareRequest is a web key's "Add this key to another site": the
// holder's name, the other site's administrator, and the address that
// site is to send its invitation to. A web key cannot carry its keys to
// another origin, so the token it asks for carries none
// (protocol.WebKeyToken). The request is signed by the credential's
// passkey: X-Postern-Signature is the base64 of a passkey assertion
// message (protocol.Assertion) whose challenge is protocol.ShareDigest2
// over the credential id, X-Postern-Time and the body.
type WebKeyShareRequest struct {
	KeyShareRequest
	HolderEmail string `json:"holder_email"`
}

func (h *handler) webKeyShare(c echo.Context) error {
	ctx := c.Request().Context()
	var req WebKeyShareRequest
	r, done, err := h.readShare(c, &req, &req.KeyShareRequest)
	if done {
		return err
	}
	req.HolderEmail = strings.TrimSpace(req.HolderEmail)
	if err := access.ValidateEmail(req.HolderEmail); err != nil || len(req.HolderEmail) > protocol.MaxTokenEmail {
		return keyFail(c, http.StatusUnprocessableEntity, KeyErrInvalidEmail, "Your email address is not valid: the other site sends its invitation there.")
	}
	rp, ok := RelyingParty(h.publicURL)
	if !ok {
		return keyFail(c, http.StatusConflict, KeyErrWebKeyOff, errWebKeyOff.Error())
	}
	uv, err := protocol.ParsePublicKey(r.cred.UVKey)
	if err != nil {
		return keyFail(c, http.StatusConflict, KeyErrCredentialRevoked, "This credential has no registered device.")
	}
	a, err := protocol.ParseAssertion(r.sig)
	if err == nil {
		err = protocol.VerifyShareAssertion(protocol.CredentialID(r.id), r.body, r.at, a, uv, rp)
	}
	if err != nil {
		h.refusals.record(ctx, &access.Event{Kind: "share.failed", Reason: "bad passkey assertion", Actor: "web key", CredentialID: r.id.String(), Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusUnauthorized, KeyErrBadSignature, "The phone did not confirm it's you with its fingerprint, face or passcode, so nothing was sent. Try again.")
	}
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	// A web key share has no credential at the other site yet: that site
	// makes one when its administrator adds the token.
	sh := store.SentShare{CredentialID: r.id, AdminEmail: req.AdminEmail, FirstName: req.FirstName, LastName: req.LastName,
		ExpiresAt: h.now().Add(h.shareLifetime(ctx))}
	rand.Read(sh.TokenID[:])
	from := h.mailer.From(ctx, h.publicURL)
	err = h.store.QueueShareV2(ctx, sh, r.at, shareLimit, shareWindow, func(cr access.Credential, u access.User) (store.Mail, error) {
		tok, err := protocol.EncodeWebKeyToken(protocol.WebKeyToken{
			ID: sh.TokenID, AdminEmail: req.AdminEmail, HolderEmail: req.HolderEmail, FirstName: req.FirstName, LastName: req.LastName,
			SiteID: protocol.SiteID(site.ID), SiteName: tokenSiteName(site.Name), SiteURL: h.publicURL,
			IssuedAt: h.now(), ExpiresAt: sh.ExpiresAt,
		}, site.Key)
		if err != nil {
			return store.Mail{}, err
		}
		return h.shareEmail(site, from, mail.ShareData{To: req.AdminEmail, HolderFirst: req.FirstName, HolderLast: req.LastName, HolderEmail: req.HolderEmail, Token: tok, ExpiresAt: sh.ExpiresAt})
	})
	if err != nil {
		return shareFailed(c, err)
	}
	h.mailer.Wake()
	return c.JSON(http.StatusAccepted, KeyShareV2Response{KeyShareResponse: KeyShareResponse{Status: "queued", ExpiresAt: sh.ExpiresAt.UTC()}, TokenID: hex.EncodeToString(sh.TokenID[:])})
}
