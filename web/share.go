package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
	"postern/mail"
	"postern/store"
)

// "Add credential to new site": the key asks its home site to email another
// site's administrator a signed credential token; that admin adds it to a
// user. The two sites share nothing but that email.

// Share settings and limits.
const (
	settingShareDays = "share_token_days"
	// shareLimit shares per credential per shareWindow keep the appliance
	// from being used to send mail in bulk.
	shareLimit  = 5
	shareWindow = 24 * time.Hour
	// shareSkew is how far a share request's time may be from ours.
	shareSkew = 5 * time.Minute
)

// Headers of a share request: the time (unix ms) and the tap key's signature
// (protocol.SignShare over the credential id, the body and the time).
const (
	HeaderShareTime      = "X-Postern-Time"
	HeaderShareSignature = "X-Postern-Signature"
)

// KeyShareRequest asks the home site to send the credential to another
// site's administrator.
type KeyShareRequest struct {
	CredentialID string `json:"credential_id"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	AdminEmail   string `json:"admin_email"`
}

// KeyShareResponse confirms the email is on its way.
type KeyShareResponse struct {
	Status    string    `json:"status"` // "queued"
	ExpiresAt time.Time `json:"expires_at"`
}

// Key API error codes for sharing.
const (
	KeyErrCredentialRevoked = "credential_revoked"
	KeyErrUnknownCredential = "unknown_credential"
	KeyErrBadSignature      = "bad_signature"
	KeyErrReplayed          = "replayed"
	KeyErrInvalidEmail      = "invalid_email"
	KeyErrClockSkew         = "clock_skew"
	KeyErrNotHomeSite       = "not_home_site"
)

func (h *handler) shareLifetime(ctx context.Context) time.Duration {
	s, _ := h.store.Setting(ctx, settingShareDays, "")
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 365 {
		return time.Duration(n) * 24 * time.Hour
	}
	return 30 * 24 * time.Hour
}

func (h *handler) keyShare(c echo.Context) error {
	ctx := c.Request().Context()
	var req KeyShareRequest
	r, done, err := h.readShare(c, &req, &req)
	if done {
		return err
	}
	pub, err := protocol.ParsePublicKey(r.cred.TapKey)
	if err != nil {
		return keyFail(c, http.StatusConflict, KeyErrCredentialRevoked, "This credential has no registered device.")
	}
	if err := protocol.VerifyShare(protocol.CredentialID(r.id), r.body, r.at, r.sig, pub); err != nil {
		h.refusals.record(ctx, &access.Event{Kind: "share.failed", Reason: "bad signature", Actor: "key", CredentialID: r.id.String(), Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusUnauthorized, KeyErrBadSignature, "The request is not signed by this credential's device.")
	}
	id, at := r.id, r.at
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	expires := h.now().Add(h.shareLifetime(ctx))
	from := h.mailer.From(ctx, h.publicURL)
	err = h.store.QueueShare(ctx, id, at, shareLimit, shareWindow, func(cr access.Credential, u access.User) (store.Mail, error) {
		tok, err := protocol.EncodeToken(protocol.Token{
			CredentialID: protocol.CredentialID(cr.ID), TapKey: cr.TapKey, UVKey: cr.UVKey,
			FirstName: req.FirstName, LastName: req.LastName,
			SiteID: protocol.SiteID(site.ID), SiteName: tokenSiteName(site.Name), SiteURL: h.publicURL,
			IssuedAt: h.now(), ExpiresAt: expires,
		}, site.Key)
		if err != nil {
			return store.Mail{}, err
		}
		return h.shareEmail(site, from, mail.ShareData{To: req.AdminEmail, HolderFirst: req.FirstName, HolderLast: req.LastName, Token: tok, ExpiresAt: expires})
	})
	if err != nil {
		return shareFailed(c, err)
	}
	h.mailer.Wake()
	return c.JSON(http.StatusAccepted, KeyShareResponse{Status: "queued", ExpiresAt: expires.UTC()})
}

// shareRequest is a share request that passed the checks every version
// makes before its signature is verified.
type shareRequest struct {
	body []byte
	at   time.Time
	sig  []byte
	id   access.CredentialID
	cred access.Credential
}

// readShare decodes a share request into into, whose common fields are
// req, and checks its time, its signature header, the names and the
// address, and that the credential is known. When done is set the answer
// has been written (err is what the handler returns).
func (h *handler) readShare(c echo.Context, into any, req *KeyShareRequest) (r shareRequest, done bool, err error) {
	ctx := c.Request().Context()
	fail := func(status int, code, msg string) (shareRequest, bool, error) {
		return r, true, keyFail(c, status, code, msg)
	}
	r.body, err = readBody(c)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return r, true, err // 413, as on every route
	}
	if err != nil {
		return fail(http.StatusBadRequest, KeyErrBadRequest, "the request body could not be read")
	}
	if err := decodeJSON(c, into); err != nil {
		var br *badRequest
		if errors.As(err, &br) {
			return fail(http.StatusBadRequest, KeyErrBadRequest, br.msg)
		}
		return r, true, err
	}
	ms, err := strconv.ParseInt(c.Request().Header.Get(HeaderShareTime), 10, 64)
	if err != nil {
		return fail(http.StatusBadRequest, KeyErrBadRequest, "the request has no "+HeaderShareTime+" header (unix milliseconds)")
	}
	r.at = time.UnixMilli(ms)
	if d := h.now().Sub(r.at); d > shareSkew || d < -shareSkew {
		return fail(http.StatusBadRequest, KeyErrClockSkew, "The request's time is too far from the site's clock. Check the phone's date and time.")
	}
	if r.sig, err = base64.StdEncoding.DecodeString(c.Request().Header.Get(HeaderShareSignature)); err != nil || len(r.sig) == 0 {
		return fail(http.StatusBadRequest, KeyErrBadRequest, "the request has no valid "+HeaderShareSignature+" header")
	}
	if r.id, err = access.ParseCredentialID(req.CredentialID); err != nil {
		return fail(http.StatusBadRequest, KeyErrBadRequest, "credential_id must be 32 hex digits")
	}
	req.FirstName, req.LastName, req.AdminEmail = strings.TrimSpace(req.FirstName), strings.TrimSpace(req.LastName), strings.TrimSpace(req.AdminEmail)
	if err := access.ValidateEmail(req.AdminEmail); err != nil || len(req.AdminEmail) > protocol.MaxTokenEmail {
		return fail(http.StatusUnprocessableEntity, KeyErrInvalidEmail, "The administrator's email address is not valid.")
	}
	if req.FirstName == "" && req.LastName == "" || len(req.FirstName) > protocol.MaxTokenName || len(req.LastName) > protocol.MaxTokenName {
		return fail(http.StatusUnprocessableEntity, KeyErrBadRequest, "Give your first and last name, so the administrator knows who is asking (each at most 64 bytes: about 64 Latin letters, fewer in other scripts).")
	}
	// The token refuses control characters; refuse them here, where the
	// holder can correct them, rather than fail while composing the mail.
	if access.CheckLine(req.FirstName) != nil || access.CheckLine(req.LastName) != nil {
		return fail(http.StatusUnprocessableEntity, KeyErrBadRequest, "Your name may not contain line breaks, control characters or invisible formatting characters.")
	}
	r.cred, err = h.store.CredentialByID(ctx, r.id)
	if errors.Is(err, access.ErrNotFound) {
		return fail(http.StatusNotFound, KeyErrUnknownCredential, "This site does not know this credential.")
	}
	if err != nil {
		return r, true, err
	}
	return r, false, nil
}

// shareEmail composes the email that carries a token to the other site's
// administrator, naming this site as its issuer.
func (h *handler) shareEmail(site access.Site, from string, d mail.ShareData) (store.Mail, error) {
	d.From, d.IssuerSiteName, d.IssuerSiteURL, d.IssuerFingerprint = from, site.Name, h.publicURL, siteFingerprint(site)
	return encodeMail("share", mail.CredentialShare(d))
}

// shareFailed maps the store's share refusals to the key's answers.
func shareFailed(c echo.Context, err error) error {
	switch {
	case errors.Is(err, store.ErrShareRevoked):
		return keyFail(c, http.StatusConflict, KeyErrCredentialRevoked, "This credential is revoked and cannot be added to another site.")
	case errors.Is(err, store.ErrShareImported):
		return keyFail(c, http.StatusConflict, KeyErrNotHomeSite, "This site added your credential from another site, so it cannot send it on. Ask the site that issued it.")
	case errors.Is(err, store.ErrShareReplayed):
		return keyFail(c, http.StatusConflict, KeyErrReplayed, "This request was already sent.")
	case errors.Is(err, store.ErrShareLimit):
		return keyFail(c, http.StatusTooManyRequests, KeyErrRateLimited, "This credential has been sent to other sites too often today. Try again tomorrow.")
	}
	return err
}

// tokenSiteName fits the site's name into a token: Settings allows longer
// names than a token carries, so it is cut on a character boundary.
func tokenSiteName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	for len(name) > protocol.MaxTokenName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return strings.TrimSpace(name)
}

// readBody reads the whole body and puts it back, for handlers that verify
// a signature over the exact bytes before decoding them.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, err
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}
