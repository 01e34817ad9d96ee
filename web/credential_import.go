package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
	"postern/store"
)

// The receiving side of "Add credential to new site": an administrator
// pastes the token a holder's home site emailed, checks who and which site
// it is from, and adds it to a user here.

// importPreview is what the admin sees before confirming an import.
type importPreview struct {
	UserID      int64
	Token       string
	Holder      string
	SiteName    string
	SiteURL     string
	Fingerprint string
	Expires     string
	SentTo      string // the administrator a version 2 token was sent to
	HolderEmail string // a web key token's: where this site's invitation goes
	Version     int
	Error       string
}

// importToken is a pasted token of either version, read and checked.
type importToken struct {
	cred        access.Credential
	holder      string
	siteName    string
	siteURL     string
	fingerprint string
	expires     time.Time
	sentTo      string
	id          [16]byte // a version 2 or web key token's id
	v2          bool
	// holderEmail is a web key token's: this site invites the holder
	// there to register a web key of its own, as cred carries no keys.
	holderEmail string
}

// readToken decodes a pasted token and checks what this site can: the
// signature, the expiry, that another site issued it; for version 1, that
// version 1 is still accepted here; for version 2, that it was sent to one
// of this site's administrators and has not been imported here before.
func (h *handler) readToken(ctx context.Context, text string) (importToken, error) {
	var t importToken
	site, err := h.store.Site(ctx)
	if err != nil {
		return t, err
	}
	if v, err := protocol.TokenVersionOf(text); err == nil && v == protocol.TokenVersionWebKey {
		return h.readWebKeyToken(ctx, site, text)
	} else if err == nil && v == protocol.TokenVersion2 {
		tok, err := protocol.DecodeTokenV2(text, h.now())
		if err != nil {
			return t, access.Invalid("token", "%s", tokenMessage(err))
		}
		if tok.SiteID == protocol.SiteID(site.ID) {
			return t, access.Conflict("this credential was issued by this site: it is already one of ours")
		}
		if _, err := h.store.AdminByEmail(ctx, tok.AdminEmail); errors.Is(err, access.ErrNotFound) {
			return t, access.Conflict("this token was sent to %s, who is not an administrator of this site: it can only be added where it was sent", tok.AdminEmail)
		} else if err != nil {
			return t, err
		}
		if _, err := h.store.CredentialByID(ctx, access.CredentialID(tok.CredentialID)); err == nil {
			return t, access.Conflict("this credential token has already been imported here: a token is imported once")
		}
		t = importToken{holder: strings.TrimSpace(tok.FirstName + " " + tok.LastName), siteName: tok.SiteName, siteURL: tok.SiteURL,
			fingerprint: tok.SiteFingerprint(), expires: tok.ExpiresAt, sentTo: tok.AdminEmail, id: tok.ID, v2: true}
		t.cred = access.Credential{ID: access.CredentialID(tok.CredentialID), TapKey: tok.TapKey, UVKey: tok.UVKey,
			DeviceInfo: "added from " + tok.SiteName, Protocol: 2, Introduction: tok.Introduction, TokenID: tok.ID[:],
			Issuer: access.IssuerSite{ID: tok.SiteID, Name: tok.SiteName, URL: tok.SiteURL, Key: tok.SiteKey}}
		return t, nil
	}
	tok, err := protocol.DecodeToken(text, h.now())
	if err != nil {
		return t, access.Invalid("token", "%s", tokenMessage(err))
	}
	if tok.SiteID == protocol.SiteID(site.ID) {
		return t, access.Conflict("this credential was issued by this site: it is already one of ours")
	}
	if !site.AcceptV1 {
		return t, access.Conflict("this token comes from a key of protocol version 1, which this site no longer accepts: ask the holder to update their key and send it again")
	}
	t = importToken{holder: strings.TrimSpace(tok.FirstName + " " + tok.LastName), siteName: tok.SiteName, siteURL: tok.SiteURL,
		fingerprint: tok.SiteFingerprint(), expires: tok.ExpiresAt}
	t.cred = access.Credential{ID: access.CredentialID(tok.CredentialID), TapKey: tok.TapKey, UVKey: tok.UVKey,
		DeviceInfo: "added from " + tok.SiteName, Protocol: 1,
		Issuer: access.IssuerSite{ID: tok.SiteID, Name: tok.SiteName, URL: tok.SiteURL, Key: tok.SiteKey}}
	return t, nil
}

func tokenMessage(err error) string {
	switch {
	case errors.Is(err, protocol.ErrExpired):
		return "this token has expired: ask the holder to send it again from their key"
	case errors.Is(err, protocol.ErrBadSignature):
		return "this token's signature does not verify: it was changed after the issuing site signed it"
	}
	return "this is not a complete credential token: paste the whole line that starts with postern-credential:"
}

// ShareRedeemRequest is what an importing site sends the issuing site
// before it adds a version 2 token: the first confirmation wins, and a
// withdrawn token is refused.
type ShareRedeemRequest struct {
	TokenID  string `json:"token_id"` // 32 hex digits
	SiteID   string `json:"site_id"`
	SiteName string `json:"site_name"`
}

// redeemTimeout bounds the call to the issuing site: an import waits for
// it, and a site that cannot be reached is not a refusal.
const redeemTimeout = 5 * time.Second

// importCredential adds a checked token to a user. A version 2 token is
// first confirmed with its issuing site, which refuses one it withdrew or
// that was imported elsewhere; when that site cannot be reached the import
// goes on (sites share nothing else, and may not reach each other) and the
// event says it was not confirmed.
func (h *handler) importCredential(ctx context.Context, actor string, userID int64, t importToken) (access.CredentialID, error) {
	if t.v2 || t.holderEmail != "" {
		confirmed, err := h.redeem(ctx, t)
		if err != nil {
			return access.CredentialID{}, err
		}
		if !confirmed {
			t.cred.DeviceInfo += " (not confirmed with the issuing site)"
		}
	}
	if t.holderEmail != "" {
		return h.inviteShared(ctx, actor, userID, t)
	}
	return t.cred.ID, h.store.ImportCredential(ctx, actor, userID, t.cred)
}

// redeem asks the issuing site to confirm a version 2 import. It returns
// false when the site could not be asked, and a conflict when it refused.
func (h *handler) redeem(ctx context.Context, t importToken) (bool, error) {
	site, err := h.store.Site(ctx)
	if err != nil {
		return false, err
	}
	body, err := json.Marshal(ShareRedeemRequest{TokenID: hex.EncodeToString(t.id[:]), SiteID: hexID(site.ID), SiteName: site.Name})
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, redeemTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(t.siteURL, "/")+"/api/key/v2/shares/redeem", bytes.NewReader(body))
	if err != nil {
		return false, nil
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		h.log.Info("could not confirm an import with its issuing site", "site", t.siteURL, "err", err)
		return false, nil
	}
	defer resp.Body.Close()
	var ke KeyError
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusOK:
		return true, nil
	case json.Unmarshal(data, &ke) == nil && (ke.Error == KeyErrShareWithdrawn || ke.Error == KeyErrShareRedeemed || ke.Error == KeyErrShareExpired):
		return false, access.Conflict("%s says: %s", t.siteName, strings.TrimSuffix(ke.Message, "."))
	}
	h.log.Info("the issuing site did not confirm an import", "site", t.siteURL, "status", resp.StatusCode)
	return false, nil
}

func (h *handler) importPreviewPage(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c)
	if err != nil {
		return err
	}
	u, err := h.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	v := importPreview{UserID: id, Token: strings.TrimSpace(c.FormValue("token"))}
	tok, err := h.readToken(ctx, v.Token)
	status := http.StatusOK
	if err != nil {
		status, _, v.Error = classify(err)
		if status >= 500 {
			return err
		}
	} else {
		v.Holder, v.SiteName, v.SiteURL, v.Fingerprint, v.SentTo, v.HolderEmail = tok.holder, tok.siteName, tok.siteURL, tok.fingerprint, tok.sentTo, tok.holderEmail
		v.Expires = formatTime(tok.expires, h.location(ctx))
		v.Version = 1
		if tok.v2 {
			v.Version = 2
		}
		if tok.holderEmail != "" {
			v.Version = protocol.TokenVersionWebKey
		}
	}
	return render(c, status, importPage(pageFor(c, "Add a credential"), u, v))
}

func (h *handler) importConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c)
	if err != nil {
		return err
	}
	tok, err := h.readToken(ctx, c.FormValue("token"))
	if err != nil {
		return err
	}
	if _, err := h.importCredential(ctx, actor(c), id, tok); err != nil {
		return err
	}
	return redirect(c, "/users/"+strconv.FormatInt(id, 10)+"?flash=imported")
}

func (h *handler) apiCredentialImport(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if _, err := h.store.UserByID(ctx, id); err != nil {
		return err
	}
	tok, err := h.readToken(ctx, in.Token)
	if err != nil {
		return err
	}
	cid, err := h.importCredential(ctx, actor(c), id, tok)
	if err != nil {
		return err
	}
	got, err := h.store.CredentialByID(ctx, cid)
	if err != nil {
		return err
	}
	return created(c, toCredentialJSON(got))
}

// keyShareRedeem is the issuing site's side of an import's confirmation.
func (h *handler) keyShareRedeem(c echo.Context) error {
	ctx := c.Request().Context()
	var req ShareRedeemRequest
	if ok, err := decodeKeyJSON(c, &req); !ok {
		return err
	}
	raw, err := hex.DecodeString(req.TokenID)
	if err != nil || len(raw) != 16 {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "token_id must be 32 hex digits")
	}
	by := strings.TrimSpace(req.SiteName)
	if len(by) > 100 || access.CheckLine(by) != nil {
		by = ""
	}
	if id, err := hex.DecodeString(req.SiteID); err == nil && len(id) == 16 {
		by = strings.TrimSpace(fmt.Sprintf("%s (site %s)", by, req.SiteID))
	}
	err = h.store.RedeemShare(ctx, [16]byte(raw), by)
	switch {
	case errors.Is(err, access.ErrNotFound):
		return keyFail(c, http.StatusNotFound, KeyErrUnknownShare, "This site did not send this credential token.")
	case errors.Is(err, store.ErrShareWithdrawn):
		return keyFail(c, http.StatusGone, KeyErrShareWithdrawn, "The credential's home site has withdrawn this token.")
	case errors.Is(err, store.ErrShareRedeemed):
		return keyFail(c, http.StatusConflict, KeyErrShareRedeemed, "This token has already been added at a site: a token is added once.")
	case errors.Is(err, store.ErrShareExpired):
		return keyFail(c, http.StatusGone, KeyErrShareExpired, "This token has expired.")
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "confirmed"})
}
