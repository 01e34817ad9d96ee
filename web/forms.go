package web

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/access/protocol"
)

// draft is a domain value that a form or an API body fills; the store
// normalizes and validates it before keeping it.
type draft[T any] interface {
	*T
	Normalize()
	Validate() error
}

// validateDraft is what the store would refuse in v, asked without the
// store: a form that stops before the store because a field did not even
// parse still names every other field that is wrong.
func validateDraft[T any, P draft[T]](v T) error {
	p := P(&v)
	p.Normalize()
	return p.Validate()
}

// addFieldErrors puts each field error that err holds next to its field
// (one that names no field at the top of the form); a field that already
// has a message keeps it, since a field that did not parse says more than
// what its zero value fails. It reports whether err held any.
func addFieldErrors(errs fieldErrors, err error) bool {
	ves, ok := access.AsValidationErrors(err)
	for _, ve := range ves {
		field := ve.Field
		if field == "" {
			field = "form"
		}
		if _, have := errs[field]; !have {
			errs[field] = ve.Message
		}
	}
	return ok
}

// formError shows a refused save on the form: field errors next to their
// fields, a clash next to the field that clashes (at the top when it is not
// one field's) with a link to the record it clashes with. Any other error
// is returned for the error handler.
func formError(err error, errs fieldErrors) error {
	var ce *access.ConflictError
	switch {
	case addFieldErrors(errs, err):
		return nil
	case errors.As(err, &ce):
		field := ce.Field
		if field == "" {
			field = "form"
		}
		errs[field] = ce.Message
		errs.setLink(field, refURL(ce.With))
		return nil
	}
	return err
}

// linkKey is where fieldErrors keeps the link that goes with a field's
// message: beside it in the same map, so every form view that has an
// Errors map can show one without a field of its own.
func linkKey(field string) string { return "link:" + field }

// setLink links a field's message to a page, such as the record it
// clashes with; "" sets nothing.
func (e fieldErrors) setLink(field, href string) {
	if href != "" {
		e[linkKey(field)] = href
	}
}

// link is the page a field's message links to, or "".
func (e fieldErrors) link(field string) string { return e[linkKey(field)] }

// refURL is the page of a stored record, or "" for one without a page.
func refURL(r access.Ref) string {
	if r.ID == 0 {
		return ""
	}
	id := strconv.FormatInt(r.ID, 10)
	switch r.Kind {
	case "user":
		return "/users/" + id
	case "group":
		return "/groups/" + id
	case "access point":
		return "/access-points/" + id
	case "time profile":
		return "/time-profiles/" + id
	}
	return ""
}

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
