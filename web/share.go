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
	body, err := readBody(c)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err // 413, as on every route
	}
	if err != nil {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "the request body could not be read")
	}
	var req KeyShareRequest
	if err := decodeJSON(c, &req); err != nil {
		var br *badRequest
		if errors.As(err, &br) {
			return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, br.msg)
		}
		return err
	}
	ms, err := strconv.ParseInt(c.Request().Header.Get(HeaderShareTime), 10, 64)
	if err != nil {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "the request has no "+HeaderShareTime+" header (unix milliseconds)")
	}
	at := time.UnixMilli(ms)
	if d := h.now().Sub(at); d > shareSkew || d < -shareSkew {
		return keyFail(c, http.StatusBadRequest, KeyErrClockSkew, "The request's time is too far from the site's clock. Check the phone's date and time.")
	}
	sig, err := base64.StdEncoding.DecodeString(c.Request().Header.Get(HeaderShareSignature))
	if err != nil || len(sig) == 0 {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "the request has no valid "+HeaderShareSignature+" header")
	}
	id, err := access.ParseCredentialID(req.CredentialID)
	if err != nil {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "credential_id must be 32 hex digits")
	}
	req.FirstName, req.LastName, req.AdminEmail = strings.TrimSpace(req.FirstName), strings.TrimSpace(req.LastName), strings.TrimSpace(req.AdminEmail)
	if err := access.ValidateEmail(req.AdminEmail); err != nil {
		return keyFail(c, http.StatusUnprocessableEntity, KeyErrInvalidEmail, "The administrator's email address is not valid.")
	}
	if req.FirstName == "" && req.LastName == "" || len(req.FirstName) > protocol.MaxTokenName || len(req.LastName) > protocol.MaxTokenName {
		return keyFail(c, http.StatusUnprocessableEntity, KeyErrBadRequest, "Give your first and last name, so the administrator knows who is asking (each at most 64 bytes: about 64 Latin letters, fewer in other scripts).")
	}
	// The token refuses control characters; refuse them here, where the
	// holder can correct them, rather than fail while composing the mail.
	if access.CheckLine(req.FirstName) != nil || access.CheckLine(req.LastName) != nil {
		return keyFail(c, http.StatusUnprocessableEntity, KeyErrBadRequest, "Your name may not contain line breaks, control characters or invisible formatting characters.")
	}
	cred, err := h.store.CredentialByID(ctx, id)
	if errors.Is(err, access.ErrNotFound) {
		return keyFail(c, http.StatusNotFound, KeyErrUnknownCredential, "This site does not know this credential.")
	}
	if err != nil {
		return err
	}
	pub, err := protocol.ParsePublicKey(cred.TapKey)
	if err != nil {
		return keyFail(c, http.StatusConflict, KeyErrCredentialRevoked, "This credential has no registered device.")
	}
	if err := protocol.VerifyShare(protocol.CredentialID(id), body, at, sig, pub); err != nil {
		h.refusals.record(ctx, &access.Event{Kind: "share.failed", Reason: "bad signature", Actor: "key", CredentialID: id.String(), Detail: "from " + c.RealIP()})
		return keyFail(c, http.StatusUnauthorized, KeyErrBadSignature, "The request is not signed by this credential's device.")
	}
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
		return encodeMail("share", mail.CredentialShare(mail.ShareData{
			To: req.AdminEmail, From: from, HolderFirst: req.FirstName, HolderLast: req.LastName,
			IssuerSiteName: site.Name, IssuerSiteURL: h.publicURL, IssuerFingerprint: siteFingerprint(site),
			Token: tok, ExpiresAt: expires,
		}))
	})
	switch {
	case errors.Is(err, store.ErrShareRevoked):
		return keyFail(c, http.StatusConflict, KeyErrCredentialRevoked, "This credential is revoked and cannot be added to another site.")
	case errors.Is(err, store.ErrShareImported):
		return keyFail(c, http.StatusConflict, KeyErrNotHomeSite, "This site added your credential from another site, so it cannot send it on. Ask the site that issued it.")
	case errors.Is(err, store.ErrShareReplayed):
		return keyFail(c, http.StatusConflict, KeyErrReplayed, "This request was already sent.")
	case errors.Is(err, store.ErrShareLimit):
		return keyFail(c, http.StatusTooManyRequests, KeyErrRateLimited, "This credential has been sent to other sites too often today. Try again tomorrow.")
	case err != nil:
		return err
	}
	h.mailer.Wake()
	return c.JSON(http.StatusAccepted, KeyShareResponse{Status: "queued", ExpiresAt: expires.UTC()})
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

// ---- receiving side: "Add a credential"

// importPreview is what the admin sees before confirming an import.
type importPreview struct {
	UserID      int64
	Token       string
	Holder      string
	SiteName    string
	SiteURL     string
	Fingerprint string
	Expires     string
	Error       string
}

// readToken decodes a pasted token and refuses one this site issued.
func (h *handler) readToken(ctx context.Context, text string) (*protocol.Token, error) {
	tok, err := protocol.DecodeToken(text, h.now())
	if err != nil {
		return nil, access.Invalid("token", "%s", tokenMessage(err))
	}
	site, err := h.store.Site(ctx)
	if err != nil {
		return nil, err
	}
	if tok.SiteID == protocol.SiteID(site.ID) {
		return nil, access.Conflict("this credential was issued by this site: it is already one of ours")
	}
	return tok, nil
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

func tokenCredential(tok *protocol.Token) access.Credential {
	return access.Credential{
		ID: access.CredentialID(tok.CredentialID), TapKey: tok.TapKey, UVKey: tok.UVKey,
		DeviceInfo: "added from " + tok.SiteName,
		Issuer:     access.IssuerSite{ID: tok.SiteID, Name: tok.SiteName, URL: tok.SiteURL, Key: tok.SiteKey},
	}
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
		v.Holder = strings.TrimSpace(tok.FirstName + " " + tok.LastName)
		v.SiteName, v.SiteURL, v.Fingerprint = tok.SiteName, tok.SiteURL, tok.SiteFingerprint()
		v.Expires = formatTime(tok.ExpiresAt, h.location(ctx))
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
	if err := h.store.ImportCredential(ctx, actor(c), id, tokenCredential(tok)); err != nil {
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
	cred := tokenCredential(tok)
	if err := h.store.ImportCredential(ctx, actor(c), id, cred); err != nil {
		return err
	}
	got, err := h.store.CredentialByID(ctx, cred.ID)
	if err != nil {
		return err
	}
	return created(c, toCredentialJSON(got))
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
