package web

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
)

// paramID reads the :id path parameter.
func paramID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errBadRequest("%q is not an id", c.Param("id"))
	}
	return id, nil
}

// formID reads an optional id field; empty is 0.
func formID(c echo.Context, name string) (int64, bool) {
	s := strings.TrimSpace(c.FormValue(name))
	if s == "" {
		return 0, true
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// location is the site's time zone: schedules and dates are read in it.
func (h *handler) location(ctx context.Context) *time.Location {
	return h.store.SiteLocation(ctx)
}

// parseDay reads a date field as the start of that day in loc; empty is the
// zero time.
func parseDay(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	return t, err == nil
}

// formatDay writes t as a date field's value.
func formatDay(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.DateOnly)
}

// formatTime writes a timestamp for people, in the site's zone.
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}

func checked(c echo.Context, name string) bool {
	v := c.FormValue(name)
	return v == "on" || v == "true" || v == "1"
}

func hexID(id [16]byte) string { return access.CredentialID(id).String() }

func lowerHexID(s string) string { return strings.ToLower(s) }

// siteFingerprint is the site key's fingerprint as people compare it.
func siteFingerprint(site access.Site) string {
	return protocol.KeyFingerprint(&site.Key.PublicKey)
}
