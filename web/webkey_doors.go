package web

import (
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
)

// webKeyRequestSkew is how far a signed web key request's time may be
// from the appliance's clock: a phone's clock is not trusted further.
const webKeyRequestSkew = 5 * time.Minute

// WebKeySignedRequest is a web key asking about itself: signed by its tap
// key (protocol.WebKeyRequestDigest, r || s) at At, unix milliseconds.
type WebKeySignedRequest struct {
	CredentialID string `json:"credential_id"`
	At           int64  `json:"at"`
	Signature    []byte `json:"signature"`
}

// WebKeyDoor is an access point as the key page lists it.
type WebKeyDoor struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Phone: it opens from the phone over the network from where the
	// request came; Passkey: and asks for the passkey when it does.
	Phone   bool `json:"phone"`
	Passkey bool `json:"passkey"`
}

func (h *handler) webKeyDoorRoutes(api *echo.Group) {
	api.POST("/doors", h.webKeyDoors)
	api.GET("/doors/:id", h.webKeyDoor)
	api.POST("/remove", h.webKeyRemove)
}

// signedCredential checks a web key's signed request for action and
// returns its credential, answering a bad one itself (ok false).
func (h *handler) signedCredential(c echo.Context, action string) (access.Credential, bool, error) {
	var req WebKeySignedRequest
	if ok, err := decodeKeyJSON(c, &req); !ok {
		return access.Credential{}, false, err
	}
	id, err := access.ParseCredentialID(req.CredentialID)
	if err != nil {
		return access.Credential{}, false, keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "credential_id must be 32 hex digits")
	}
	at := time.UnixMilli(req.At)
	if d := h.now().Sub(at); d > webKeyRequestSkew || d < -webKeyRequestSkew {
		return access.Credential{}, false, keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "The phone's clock is too far from the site's. Set it to the network time.")
	}
	cred, err := h.store.CredentialByID(c.Request().Context(), id)
	if errors.Is(err, access.ErrNotFound) {
		return access.Credential{}, false, keyFail(c, http.StatusNotFound, KeyErrCredential, "This site does not know this key.")
	}
	if err != nil {
		return access.Credential{}, false, err
	}
	tap, err := protocol.ParsePublicKey(cred.TapKey)
	if err != nil || protocol.VerifyWebKeyRequest(action, protocol.CredentialID(id), at, req.Signature, tap) != nil {
		return access.Credential{}, false, keyFail(c, http.StatusUnauthorized, KeyErrCredential, "The request is not signed by this key.")
	}
	return cred, true, nil
}

// webKeyDoors lists the doors the holder may open, the ones that open from
// the phone from where the request came first. A revoked key lists none.
func (h *handler) webKeyDoors(c echo.Context) error {
	ctx := c.Request().Context()
	cred, ok, err := h.signedCredential(c, "doors")
	if !ok {
		return err
	}
	if cred.Status != access.CredentialActive {
		return keyFail(c, http.StatusForbidden, KeyErrCredential, "This key is no longer active. Ask your administrator for a new invitation.")
	}
	aps, err := h.store.AllAccessPoints(ctx)
	if err != nil {
		return err
	}
	from := clientAddr(c)
	doors := []WebKeyDoor{}
	for _, ap := range aps {
		in, err := h.store.PresentationInputs(ctx, cred.ID, ap)
		if err != nil {
			return err
		}
		if len(in.Grants) == 0 {
			continue
		}
		doors = append(doors, webKeyDoor(ap, from))
	}
	// Doors that open from here first; the others open over Bluetooth.
	slices.SortStableFunc(doors, func(a, b WebKeyDoor) int {
		switch {
		case a.Phone == b.Phone:
			return 0
		case a.Phone:
			return -1
		}
		return 1
	})
	return c.JSON(http.StatusOK, map[string]any{"doors": doors})
}

// webKeyDoor is an access point as a phone at from sees it.
func webKeyDoor(ap access.AccessPoint, from netip.Addr) WebKeyDoor {
	return WebKeyDoor{ID: ap.ID, Name: ap.Name, Passkey: ap.RequireUnlock || ap.PhonePasskey, Phone: ap.PhoneAllowedFrom(from)}
}

// webKeyRemove is the holder's "remove this phone": the credential is
// revoked, as an admin's revoke would, and logged as the holder's act.
func (h *handler) webKeyRemove(c echo.Context) error {
	cred, ok, err := h.signedCredential(c, "remove")
	if !ok {
		return err
	}
	if cred.Status == access.CredentialActive {
		if err := h.store.RevokeCredential(c.Request().Context(), "holder (web key)", cred.ID); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusNoContent)
}

// webKeyDoor names one door for its own link (an NFC sticker or a QR code
// at the door), so the key page shows it first. Only doors that open from
// the phone are named to anyone who asks.
func (h *handler) webKeyDoor(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return keyFail(c, http.StatusNotFound, KeyErrNotHere, "No such door.")
	}
	ap, err := h.store.AccessPointByID(c.Request().Context(), id)
	if errors.Is(err, access.ErrNotFound) || err == nil && !ap.PhoneOpen {
		return keyFail(c, http.StatusNotFound, KeyErrNotHere, "This door does not open from the phone.")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webKeyDoor(ap, clientAddr(c)))
}
