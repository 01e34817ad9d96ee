package web

import (
	"encoding/json"
	"errors"
	"net/http"

	wa "github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
)

// errWebKeyOff: without a public URL there is no origin for passkeys.
var errWebKeyOff = errors.New("the web key needs the appliance's public URL (--public-url)")

// webKeyRegistration is a passkey registration in progress: the WebAuthn
// session and the code it was begun with.
type webKeyRegistration struct {
	session webauthn.SessionData
	code    string
}

// webAuthnUser is the holder as WebAuthn names them: the user handle is
// the credential id, so a passkey belongs to one credential.
type webAuthnUser struct {
	id          []byte
	name, email string
}

func (u webAuthnUser) WebAuthnID() []byte { return u.id }
func (u webAuthnUser) WebAuthnName() string {
	if u.email != "" {
		return u.email
	}
	return u.name
}
func (u webAuthnUser) WebAuthnDisplayName() string                { return u.name }
func (u webAuthnUser) WebAuthnCredentials() []webauthn.Credential { return nil }

// WebKeyBeginRequest starts a web key's registration with the code from
// the invitation.
type WebKeyBeginRequest struct {
	Code string `json:"code"`
}

// WebKeyBeginResponse carries the passkey's creation options and the
// session the finish request names.
type WebKeyBeginResponse struct {
	Session string                                `json:"session"`
	Options wa.PublicKeyCredentialCreationOptions `json:"options"`
	Holder  string                                `json:"holder"`
}

func (h *handler) webKeyRegisterBegin(c echo.Context) error {
	ctx := c.Request().Context()
	var req WebKeyBeginRequest
	if ok, err := decodeKeyJSON(c, &req); !ok {
		return err
	}
	code, ok := access.NormalizeCode(req.Code)
	if !ok {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "The registration code must be 32 digits.")
	}
	inv, err := h.store.InvitationByCode(ctx, code, h.now())
	if errors.Is(err, access.ErrRegistration) {
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "code used, expired, reissued or unknown", Actor: "web key", Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusConflict, KeyErrRegistration, access.ErrRegistration.Error())
	}
	if err != nil {
		return err
	}
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	w, err := h.webauthnFor(site.Name)
	if err != nil {
		return keyFail(c, http.StatusConflict, KeyErrWebKeyOff, err.Error())
	}
	user := webAuthnUser{id: inv.Credential.ID[:], name: inv.User.Name(), email: inv.User.Email}
	creation, session, err := w.BeginRegistration(user,
		// The phone's own authenticator, behind its biometric or passcode.
		webauthn.WithAuthenticatorSelection(wa.AuthenticatorSelection{
			AuthenticatorAttachment: wa.Platform,
			ResidentKey:             wa.ResidentKeyRequirementPreferred,
			UserVerification:        wa.VerificationRequired,
		}),
		// P-256 only: the reader verifies the passkey as it verifies
		// every other key in the protocol.
		webauthn.WithCredentialParameters([]wa.CredentialParameter{{Type: wa.PublicKeyCredentialType, Algorithm: webauthncose.AlgES256}}),
		webauthn.WithConveyancePreference(wa.PreferNoAttestation),
	)
	if err != nil {
		return err
	}
	id := h.webKeyRegistrations.put(webKeyRegistration{session: *session, code: code})
	return c.JSON(http.StatusOK, WebKeyBeginResponse{Session: id, Options: creation.Response, Holder: inv.User.Name()})
}

// WebKeyFinishRequest completes a web key's registration: the tap key's
// proof (protocol.WebKeyRegistrationDigest, r || s) and the passkey's
// registration as the browser returned it (PublicKeyCredential JSON).
type WebKeyFinishRequest struct {
	Session    string          `json:"session"`
	Code       string          `json:"code"`
	Nonce      []byte          `json:"nonce"`
	TapKey     []byte          `json:"tap_key"`
	TapSig     []byte          `json:"tap_sig"`
	Credential json.RawMessage `json:"credential"`
	Device     string          `json:"device"`
}

func (h *handler) webKeyRegisterFinish(c echo.Context) error {
	ctx := c.Request().Context()
	var req WebKeyFinishRequest
	if ok, err := decodeKeyJSON(c, &req); !ok {
		return err
	}
	reg, ok := h.webKeyRegistrations.take(req.Session)
	code, _ := access.NormalizeCode(req.Code)
	if !ok || code != reg.code {
		return keyFail(c, http.StatusGone, KeyErrSession, "The registration took too long. Press Register this phone again.")
	}
	// The session keeps the challenge as the browser saw it, base64url.
	var challenge wa.URLEncodedBase64
	if err := challenge.UnmarshalJSON([]byte(`"` + reg.session.Challenge + `"`)); err != nil {
		return err
	}
	digest, err := protocol.VerifyWebKeyRegistration(req.Code, req.Nonce, req.TapKey, challenge, req.TapSig)
	if err != nil {
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "bad keys or proof", Actor: "web key", Detail: err.Error()})
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "The phone's key or its signature is not valid.")
	}
	uvKey, err := h.verifyPasskey(c, reg, req.Credential)
	if err != nil {
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "passkey did not verify", Actor: "web key", Detail: err.Error()})
		return keyFail(c, http.StatusBadRequest, KeyErrPasskey, "The phone's passkey could not be checked. Make sure the phone has a screen lock, then try again.")
	}
	device := cleanDevice("Web key: " + req.Device)
	cred, u, err := h.store.RegisterCredential(ctx, access.Registration{Code: code, TapKey: req.TapKey, UVKey: uvKey, DeviceInfo: device, At: h.now(), Protocol: 2})
	if errors.Is(err, access.ErrRegistration) {
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "code used, expired, reissued or unknown", Actor: "web key", Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusConflict, KeyErrRegistration, access.ErrRegistration.Error())
	}
	if err != nil {
		return err
	}
	return h.siteAnswer(c, digest, cred, u)
}

// verifyPasskey checks the passkey's registration ceremony with
// go-webauthn (attestation object, client data, origin, RP ID, user
// verification, algorithm) and returns its public key as a SEC1 point,
// the form every key in the protocol has.
func (h *handler) verifyPasskey(c echo.Context, reg webKeyRegistration, body json.RawMessage) ([]byte, error) {
	site, err := h.store.Site(c.Request().Context())
	if err != nil {
		return nil, err
	}
	w, err := h.webauthnFor(site.Name)
	if err != nil {
		return nil, err
	}
	parsed, err := wa.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, err
	}
	cred, err := w.CreateCredential(webAuthnUser{id: reg.session.UserID}, reg.session, parsed)
	if err != nil {
		return nil, err
	}
	key, err := webauthncose.ParsePublicKey(cred.PublicKey)
	if err != nil {
		return nil, err
	}
	ec, ok := key.(webauthncose.EC2PublicKeyData)
	if !ok || webauthncose.COSEAlgorithmIdentifier(ec.Algorithm) != webauthncose.AlgES256 || len(ec.XCoord) != 32 || len(ec.YCoord) != 32 {
		return nil, errors.New("the passkey is not an ES256 (P-256) key")
	}
	sec1 := append(append([]byte{4}, ec.XCoord...), ec.YCoord...)
	if _, err := protocol.ParsePublicKey(sec1); err != nil {
		return nil, err
	}
	return sec1, nil
}
