package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
)

// The key-facing API: what the phone app (or `postern key`) calls. It has
// no admin token; every failure has a stable error code the key can show.

// KeyRegisterRequest binds a device to the credential its code was issued
// for. Keys are SEC1 uncompressed P-256 public keys and signatures are r||s,
// both base64 (standard, padded) as encoding/json writes []byte.
type KeyRegisterRequest struct {
	Code   string `json:"code"`
	TapKey []byte `json:"tap_key"`
	UVKey  []byte `json:"uv_key"`
	TapSig []byte `json:"tap_sig"` // protocol.SignRegistration over the code and both keys
	UVSig  []byte `json:"uv_sig"`
	Device string `json:"device"` // free text, e.g. "postern key 1.0 (linux)"
}

// KeySite is a site's identity as a key keeps it.
type KeySite struct {
	ID        string `json:"id"` // 32 hex digits
	Name      string `json:"name"`
	URL       string `json:"url"`
	PublicKey []byte `json:"public_key"` // SEC1 uncompressed P-256
}

// KeyRegisterResponse tells the key what it now is.
type KeyRegisterResponse struct {
	CredentialID string  `json:"credential_id"`
	Site         KeySite `json:"site"`
	FirstName    string  `json:"first_name"`
	LastName     string  `json:"last_name"`
}

// KeyError is the body of every key API failure. Codes are stable:
// registration_error, bad_request, rate_limited, and later ones.
type KeyError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Key API error codes.
const (
	KeyErrRegistration = "registration_error"
	KeyErrBadRequest   = "bad_request"
	KeyErrRateLimited  = "rate_limited"
)

func (h *handler) keyRoutes(g *echo.Group) {
	g.POST("/register", h.keyRegister)
	g.POST("/share", h.keyShare)
}

func keyFail(c echo.Context, status int, code, msg string) error {
	return c.JSON(status, KeyError{Error: code, Message: msg})
}

// keyRateLimit bounds every key API call per client address, so a
// registration code cannot be guessed and the site cannot be made to send
// mail in bulk.
func (h *handler) keyRateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		h.refusals.flush(ctx)
		wait, err := h.store.TakeThrottle(ctx, h.now(), keyAddrLimit.bucket("key-addr:"+clientAddress(c)))
		if err != nil {
			return err
		}
		if wait > 0 {
			h.refusals.count(ctx, "key.limited")
			setRetryAfter(c, wait)
			return keyFail(c, http.StatusTooManyRequests, KeyErrRateLimited, "Too many requests from this device. Try again in "+inWords(wait)+".")
		}
		return next(c)
	}
}

func (h *handler) keyRegister(c echo.Context) error {
	ctx := c.Request().Context()
	var req KeyRegisterRequest
	if err := decodeJSON(c, &req); err != nil {
		var br *badRequest
		if errors.As(err, &br) {
			return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, br.msg)
		}
		return err
	}
	code, ok := access.NormalizeCode(req.Code)
	if !ok {
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "malformed code", Actor: "key", Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "The registration code must be 32 digits.")
	}
	// The proof signs the code exactly as sent (docs/protocol.md), which
	// may be grouped with spaces or dashes as the email shows it.
	if err := protocol.VerifyRegistration(req.Code, req.TapKey, req.UVKey, req.TapSig, req.UVSig); err != nil {
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "bad keys or proof", Actor: "key", Detail: err.Error()})
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "The device keys or their signatures are not valid: "+err.Error())
	}
	device := cleanDevice(req.Device)
	cred, u, err := h.store.RegisterCredential(ctx, access.Registration{Code: code, TapKey: req.TapKey, UVKey: req.UVKey, DeviceInfo: device, At: h.now()})
	if errors.Is(err, access.ErrRegistration) {
		// The code itself is never logged: a used code may be a typo of a
		// live one.
		h.refusals.record(ctx, &access.Event{Kind: "registration.failed", Reason: "code used, expired, reissued or unknown", Actor: "key", Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusConflict, KeyErrRegistration, access.ErrRegistration.Error())
	}
	if err != nil {
		return err
	}
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	pub, err := protocol.MarshalPublicKey(&site.Key.PublicKey)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, KeyRegisterResponse{
		CredentialID: cred.ID.String(),
		Site:         KeySite{ID: hexID(site.ID), Name: site.Name, URL: h.publicURL, PublicKey: pub},
		FirstName:    u.FirstName, LastName: u.LastName,
	})
}

// keyRegisterView is the page an invitation's link opens in a browser.
type keyRegisterView struct {
	SiteName string
	Code     string           // the link's code, when it carries a well-formed one
	State    access.CodeState // what the code can still do; "" without a code
	Expires  string           // when a valid code stops working
	Holder   string           // whom a valid code is for
	WebKey   bool             // the appliance has a public URL, so the phone's browser can register
	Limited  bool             // too many looks from this address: try later
}

// keyRegisterPage is where an invitation's link lands when it is opened in
// a browser rather than the key app: it names the site, says whether the
// code still works, and what to do next, in the holder's words. Looking a
// code up is rate limited like registering with one, so the page is no
// faster a way to try codes than the key API.
func (h *handler) keyRegisterPage(c echo.Context) error {
	ctx := c.Request().Context()
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	v := keyRegisterView{SiteName: site.Name}
	_, v.WebKey = RelyingParty(h.publicURL)
	code, ok := access.NormalizeCode(c.QueryParam("code"))
	status := http.StatusOK
	var wait time.Duration
	if ok {
		if wait, err = h.store.TakeThrottle(ctx, h.now(), keyAddrLimit.bucket("key-addr:"+clientAddress(c))); err != nil {
			return err
		}
	}
	switch {
	case !ok:
	case wait > 0:
		h.refusals.count(ctx, "key.limited")
		v.Limited, status = true, http.StatusTooManyRequests
		setRetryAfter(c, wait)
	default:
		var expires time.Time
		if v.State, expires, err = h.store.RegistrationCodeState(ctx, code, h.now()); err != nil {
			return err
		}
		if v.State == access.CodeValid {
			v.Code, v.Expires = code, formatTime(expires, h.location(ctx))
			if inv, err := h.store.InvitationByCode(ctx, code, h.now()); err == nil {
				v.Holder = inv.User.Name()
			}
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, status, keyRegisterPage(pageFor(c, "Your Postern key"), v))
}
