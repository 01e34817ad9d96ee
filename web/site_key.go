package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
	"postern/store"
)

// The credential protocol's settings: whether keys of version 1 are still
// let in, and the site key, which an administrator rolls (Settings and the
// API).

// Rollover overlap bounds, in days: how long the previous key vouches for
// the new one to keys that pinned it.
const (
	defaultOverlapDays = 30
	maxOverlapDays     = 365
)

// protocolView is the protocol part of the settings page.
type protocolView struct {
	AcceptV1      bool
	V1Credentials int
	KeyID         string
	Fingerprint   string
	PreviousKeyID string
	OverlapUntil  string
	OverlapDays   string
	Error         string
}

func (h *handler) protocolView(ctx context.Context) (protocolView, error) {
	site, err := h.store.Site(ctx)
	if err != nil {
		return protocolView{}, err
	}
	n, err := h.store.CountActiveByProtocol(ctx, 1)
	if err != nil {
		return protocolView{}, err
	}
	id := protocol.PublicKeyID(&site.Key.PublicKey)
	v := protocolView{AcceptV1: site.AcceptV1, V1Credentials: n, KeyID: hex.EncodeToString(id[:]), Fingerprint: siteFingerprint(site),
		OverlapDays: strconv.Itoa(defaultOverlapDays)}
	if r := site.Rollover; r != nil {
		v.PreviousKeyID = hex.EncodeToString(r.OldKeyID[:])
		v.OverlapUntil = formatTime(r.NotAfter, h.location(ctx))
	}
	return v, nil
}

func (h *handler) protocolSave(c echo.Context) error {
	accept := "false"
	if checked(c, "accept_v1") {
		accept = "true"
	}
	if err := h.store.SetSetting(c.Request().Context(), actor(c), store.SettingAcceptV1, accept); err != nil {
		return err
	}
	return redirect(c, "/settings?flash=saved")
}

// overlapDays reads the overlap of a rollover, in days.
func overlapDays(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return defaultOverlapDays, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxOverlapDays {
		return 0, access.Invalid("overlap_days", "must be a whole number of days from 1 to %d", maxOverlapDays)
	}
	return n, nil
}

// rollSiteKey replaces the site key with a new one, certified by the
// retiring key for the overlap.
func (h *handler) rollSiteKey(ctx context.Context, actor string, days int) error {
	next, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	notAfter := h.now().Add(time.Duration(days) * 24 * time.Hour)
	return h.store.RollSiteKey(ctx, actor, next, func(old *ecdsa.PrivateKey) (access.SiteRollover, error) {
		r, err := protocol.CertifyRollover(protocol.SiteID(site.ID), old, &next.PublicKey, notAfter)
		if err != nil {
			return access.SiteRollover{}, err
		}
		return access.SiteRollover{OldKeyID: r.OldKeyID, NotAfter: r.NotAfter, Signature: r.Signature[:]}, nil
	})
}

func (h *handler) siteKeyRoll(c echo.Context) error {
	ctx := c.Request().Context()
	days, err := overlapDays(c.FormValue("overlap_days"))
	if err == nil && c.FormValue("confirm") != "roll" {
		err = access.Invalid("confirm", "tick the box to confirm: keys that do not present during the overlap must be registered again")
	}
	if err != nil {
		v, verr := h.settingsView(c)
		if verr != nil {
			return verr
		}
		_, _, v.Protocol.Error = classify(err)
		return render(c, http.StatusUnprocessableEntity, settingsPage(pageFor(c, "Settings"), v))
	}
	if err := h.rollSiteKey(ctx, actor(c), days); err != nil {
		return err
	}
	return redirect(c, "/settings?flash=rolled")
}

// protocolJSON is the protocol settings as the API shows them.
type protocolJSON struct {
	AcceptV1      bool    `json:"accept_v1"`
	V1Credentials int     `json:"v1_credentials"`
	SiteKeyID     string  `json:"site_key_id"`
	Fingerprint   string  `json:"site_fingerprint"`
	PreviousKeyID *string `json:"previous_key_id"`
	OverlapUntil  *string `json:"overlap_until"`
}

func (h *handler) apiProtocolSettings(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := h.protocolView(ctx)
	if err != nil {
		return err
	}
	out := protocolJSON{AcceptV1: v.AcceptV1, V1Credentials: v.V1Credentials, SiteKeyID: v.KeyID, Fingerprint: v.Fingerprint}
	if site, err := h.store.Site(ctx); err == nil && site.Rollover != nil {
		until := site.Rollover.NotAfter.UTC().Format(time.RFC3339)
		out.PreviousKeyID, out.OverlapUntil = &v.PreviousKeyID, &until
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handler) apiProtocolSettingsSave(c echo.Context) error {
	var in struct {
		AcceptV1 *bool `json:"accept_v1"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.AcceptV1 == nil {
		return access.Invalid("accept_v1", "is required: true or false")
	}
	if err := h.store.SetSetting(c.Request().Context(), actor(c), store.SettingAcceptV1, strconv.FormatBool(*in.AcceptV1)); err != nil {
		return err
	}
	return h.apiProtocolSettings(c)
}

func (h *handler) apiSiteKeyRoll(c echo.Context) error {
	var in struct {
		OverlapDays int `json:"overlap_days"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	days := in.OverlapDays
	if days == 0 {
		days = defaultOverlapDays
	}
	if _, err := overlapDays(strconv.Itoa(days)); err != nil {
		return err
	}
	if err := h.rollSiteKey(c.Request().Context(), actor(c), days); err != nil {
		return err
	}
	return h.apiProtocolSettings(c)
}
