package web

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
	"postern/store"
)

// The key-facing API for protocol version 2 keys, beside version 1's: a
// nonce in every request the site answers, and the answer signed by the
// site key (docs/protocol.md, "Registration").

// KeyRegisterV2Request binds a version 2 device to the credential its code
// was issued for, with the key pair made for this site.
type KeyRegisterV2Request struct {
	Code   string `json:"code"`
	Nonce  []byte `json:"nonce"` // 16 random bytes the answer's signature covers
	TapKey []byte `json:"tap_key"`
	UVKey  []byte `json:"uv_key"`
	TapSig []byte `json:"tap_sig"` // protocol.SignRegistration2
	UVSig  []byte `json:"uv_sig"`
	Device string `json:"device"`
}

// KeySiteV2 is a site's identity as a version 2 key pins it.
type KeySiteV2 struct {
	ID        string `json:"id"` // 32 hex digits
	Name      string `json:"name"`
	URL       string `json:"url"`
	KeyID     string `json:"key_id"`     // 16 hex digits
	PublicKey []byte `json:"public_key"` // SEC1 uncompressed P-256
}

// KeySiteAnswer is the site's signed answer to a registration or a
// migration: Signature is protocol.SignSiteAnswer over the request.
type KeySiteAnswer struct {
	CredentialID string    `json:"credential_id"`
	Site         KeySiteV2 `json:"site"`
	FirstName    string    `json:"first_name"`
	LastName     string    `json:"last_name"`
	Signature    []byte    `json:"signature"`
}

// ProtocolAnswer is the answer as the protocol package signs and checks it.
func (a KeySiteAnswer) ProtocolAnswer() (protocol.SiteAnswer, error) {
	cred, err := access.ParseCredentialID(a.CredentialID)
	if err != nil {
		return protocol.SiteAnswer{}, err
	}
	site, err := hex.DecodeString(a.Site.ID)
	if err != nil || len(site) != 16 {
		return protocol.SiteAnswer{}, errors.New("the site id is not 32 hex digits")
	}
	return protocol.SiteAnswer{CredentialID: protocol.CredentialID(cred), SiteID: protocol.SiteID(site), SiteKey: a.Site.PublicKey,
		SiteName: a.Site.Name, SiteURL: a.Site.URL, FirstName: a.FirstName, LastName: a.LastName}, nil
}

// KeyMigrateRequest moves a version 1 credential to version 2: signed by
// the old keys and the new (protocol.SignMigration).
type KeyMigrateRequest struct {
	CredentialID string `json:"credential_id"`
	Nonce        []byte `json:"nonce"`
	TapKey       []byte `json:"tap_key"`
	UVKey        []byte `json:"uv_key"`
	OldTapSig    []byte `json:"old_tap_sig"`
	OldUVSig     []byte `json:"old_uv_sig"`
	TapSig       []byte `json:"tap_sig"`
	UVSig        []byte `json:"uv_sig"`
	Device       string `json:"device"`
}

// Key API error codes of version 2.
const (
	// KeyErrUpdateRequired: the site no longer accepts version 1 keys.
	KeyErrUpdateRequired = "update_required"
	// KeyErrMigration: the credential cannot be migrated (already moved,
	// not this site's, not active).
	KeyErrMigration = "migration_error"
	// Answers to an importing site's confirmation of a token.
	KeyErrUnknownShare   = "unknown_share"
	KeyErrShareWithdrawn = "share_withdrawn"
	KeyErrShareRedeemed  = "share_redeemed"
	KeyErrShareExpired   = "share_expired"
)

func (h *handler) keyRoutesV2(g *echo.Group) {
	g.POST("/register", h.keyRegisterV2)
	g.POST("/migrate", h.keyMigrate)
	g.POST("/share", h.keyShareV2)
	g.POST("/shares/redeem", h.keyShareRedeem)
}

// refuseV1 answers a version 1 request once version 1 is turned off.
func (h *handler) refuseV1(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		site, err := h.store.Site(c.Request().Context())
		if err != nil {
			return err
		}
		if !site.AcceptV1 {
			return keyFail(c, http.StatusGone, KeyErrUpdateRequired, "Update your key: this site no longer accepts this version of the key app.")
		}
		return next(c)
	}
}

// decodeKeyJSON reads a key API body, answering a malformed one itself.
func decodeKeyJSON(c echo.Context, v any) (bool, error) {
	if err := decodeJSON(c, v); err != nil {
		var br *badRequest
		if errors.As(err, &br) {
			return false, keyFail(c, http.StatusBadRequest, KeyErrBadRequest, br.msg)
		}
		return false, err
	}
	return true, nil
}

// cleanDevice bounds the free-text device description, as version 1's
// registration does.
func cleanDevice(s string) string {
	return access.Clip(strings.TrimSpace(access.Printable(s)), 200)
}

func (h *handler) keyRegisterV2(c echo.Context) error {
	ctx := c.Request().Context()
	var req KeyRegisterV2Request
	if ok, err := decodeKeyJSON(c, &req); !ok {
		return err
	}
	code, ok := access.NormalizeCode(req.Code)
	if !ok {
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "malformed code", Actor: "key", Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "The registration code must be 32 digits.")
	}
	digest, err := protocol.VerifyRegistration2(req.Code, req.Nonce, req.TapKey, req.UVKey, req.TapSig, req.UVSig)
	if err != nil {
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "bad keys or proof", Actor: "key", Detail: err.Error()})
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "The device keys or their signatures are not valid: "+err.Error())
	}
	cred, u, err := h.store.RegisterCredential(ctx, access.Registration{Code: code, TapKey: req.TapKey, UVKey: req.UVKey, DeviceInfo: cleanDevice(req.Device), At: h.now(), Protocol: 2})
	if errors.Is(err, access.ErrRegistration) {
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "code used, expired, reissued or unknown", Actor: "key", Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusConflict, KeyErrRegistration, access.ErrRegistration.Error())
	}
	if err != nil {
		return err
	}
	return h.siteAnswer(c, digest, cred, u)
}

// siteAnswer signs and sends the answer to a registration or migration.
func (h *handler) siteAnswer(c echo.Context, request [32]byte, cred access.Credential, u access.User) error {
	site, err := h.store.Site(c.Request().Context())
	if err != nil {
		return err
	}
	a := protocol.SiteAnswer{CredentialID: protocol.CredentialID(cred.ID), SiteID: protocol.SiteID(site.ID),
		SiteName: site.Name, SiteURL: h.publicURL, FirstName: u.FirstName, LastName: u.LastName}
	sig, err := protocol.SignSiteAnswer(request, &a, site.Key)
	if err != nil {
		return err
	}
	id := a.KeyID()
	return c.JSON(http.StatusOK, KeySiteAnswer{
		CredentialID: cred.ID.String(),
		Site:         KeySiteV2{ID: hexID(site.ID), Name: a.SiteName, URL: a.SiteURL, KeyID: hex.EncodeToString(id[:]), PublicKey: a.SiteKey},
		FirstName:    u.FirstName, LastName: u.LastName, Signature: sig,
	})
}

func (h *handler) keyMigrate(c echo.Context) error {
	ctx := c.Request().Context()
	var req KeyMigrateRequest
	if ok, err := decodeKeyJSON(c, &req); !ok {
		return err
	}
	id, err := access.ParseCredentialID(req.CredentialID)
	if err != nil {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "credential_id must be 32 hex digits")
	}
	proof := protocol.MigrationProof{OldTapSig: req.OldTapSig, OldUVSig: req.OldUVSig, TapSig: req.TapSig, UVSig: req.UVSig}
	var digest [32]byte
	cred, u, err := h.store.MigrateCredential(ctx, store.Migration{ID: id, TapKey: req.TapKey, UVKey: req.UVKey, DeviceInfo: cleanDevice(req.Device)},
		func(old access.Credential) error {
			var err error
			digest, err = protocol.VerifyMigration(protocol.CredentialID(id), req.Nonce, old.TapKey, old.UVKey, req.TapKey, req.UVKey, proof)
			return err
		})
	var conflict *access.ConflictError
	switch {
	case err == nil:
	case errors.Is(err, access.ErrNotFound):
		return keyFail(c, http.StatusNotFound, KeyErrUnknownCredential, "This site does not know this credential.")
	case errors.As(err, &conflict):
		return keyFail(c, http.StatusConflict, KeyErrMigration, "This credential cannot be moved: "+conflict.Error()+".")
	case protocol.RefusalCode(err) != "error":
		// Signatures that do not verify, or keys that do not parse.
		h.refusals.record(ctx, &access.Event{Kind: "credential.migration_failed", Reason: protocol.RefusalCode(err), Actor: "key", CredentialID: id.String(), Detail: err.Error()})
		return keyFail(c, http.StatusUnauthorized, KeyErrBadSignature, "The request is not signed by this credential's device and its new keys.")
	default:
		return err
	}
	if digest == ([32]byte{}) {
		// Asked again after an answer was lost: answer the same request.
		digest = protocol.MigrationDigest(protocol.CredentialID(id), req.Nonce, req.TapKey, req.UVKey)
		if err := protocol.VerifyMigrationNew(digest, req.TapKey, req.UVKey, req.TapSig, req.UVSig); err != nil {
			return keyFail(c, http.StatusUnauthorized, KeyErrBadSignature, "The request is not signed by the credential's new keys.")
		}
	}
	return h.siteAnswer(c, digest, cred, u)
}
