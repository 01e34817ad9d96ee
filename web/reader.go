package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

// Remote readers: boards at doors that decide from their own copy of the
// policy. The hub itself is not web's: the page lists what the store
// knows of them, and asks Config.FleetToken to compose enrolment tokens.

// readerSecret draws the secret of an enrolment token: 16 random bytes,
// in hex, as tokens carry it.
func readerSecret() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// readerTokenLifetime is how long an enrolment token works.
const readerTokenLifetime = 7 * 24 * time.Hour

// readerOnlineWithin is how recent a reader's last report must be for the
// page to call it online; readers report every few seconds.
const readerOnlineWithin = 15 * time.Second

// settingLeaseDays is the offline lease, in days.
const settingLeaseDays = "offline_lease_days"

func (h *handler) readerRoutes(g *echo.Group) {
	g.GET("/readers", h.readerList)
	g.POST("/readers", h.readerCreate)
	g.POST("/readers/lease", h.readerLeaseSave)
	g.POST("/readers/:id/token", h.readerNewToken)
	g.POST("/readers/:id/delete", h.readerDelete)
}

type readerRow struct {
	store.FleetReader
	Online bool
}

type readerListView struct {
	Readers   []readerRow
	Name      string
	LeaseDays string
	Enrolment *readerEnrolment // a token just made, shown once
	Errors    fieldErrors
}

// readerEnrolment is a new token and the command that uses it.
type readerEnrolment struct {
	Name    string
	Token   string
	Command string
}

func (h *handler) readerView(ctx context.Context) (readerListView, error) {
	rs, err := h.store.FleetReaders(ctx)
	if err != nil {
		return readerListView{}, err
	}
	v := readerListView{Errors: fieldErrors{}}
	for _, r := range rs {
		v.Readers = append(v.Readers, readerRow{FleetReader: r, Online: !r.LastSeen.IsZero() && h.now().Sub(r.LastSeen) < readerOnlineWithin})
	}
	days, err := h.store.Setting(ctx, settingLeaseDays, "7")
	v.LeaseDays = days
	return v, err
}

func (h *handler) readerList(c echo.Context) error {
	v, err := h.readerView(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, readerListPage(pageFor(c, "Readers"), v))
}

// newReaderToken draws a token for reader id and composes what the admin
// copies to the board.
func (h *handler) newReaderToken(id int64, name, secret string) (*readerEnrolment, error) {
	if h.fleetToken == nil {
		return nil, access.Conflict("remote readers are not available on this appliance")
	}
	tok, err := h.fleetToken(id, secret)
	if err != nil {
		return nil, err
	}
	return &readerEnrolment{Name: name, Token: tok, Command: "postern reader --hub " + h.fleetAddress + " --enrol " + tok}, nil
}

// createReader adds a reader and its first token.
func (h *handler) createReader(ctx context.Context, actor, name string) (store.FleetReader, *readerEnrolment, error) {
	if h.fleetToken == nil {
		return store.FleetReader{}, nil, access.Conflict("remote readers are not available on this appliance")
	}
	secret := readerSecret()
	r, err := h.store.CreateFleetReader(ctx, actor, strings.ToLower(strings.TrimSpace(name)), secret, h.now().Add(readerTokenLifetime))
	if err != nil {
		return r, nil, err
	}
	en, err := h.newReaderToken(r.ID, r.Name, secret)
	return r, en, err
}

func (h *handler) readerCreate(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.FormValue("name")
	_, en, err := h.createReader(ctx, actor(c), name)
	if err != nil {
		v, verr := h.readerView(ctx)
		if verr != nil {
			return verr
		}
		if err := formError(err, v.Errors); err != nil {
			return err
		}
		v.Name = name
		return render(c, http.StatusUnprocessableEntity, readerListPage(pageFor(c, "Readers"), v))
	}
	return h.showEnrolment(c, en)
}

// showEnrolment shows a token once, on the page itself rather than after a
// redirect, so it is never in a URL or a browser's history.
func (h *handler) showEnrolment(c echo.Context, en *readerEnrolment) error {
	v, err := h.readerView(c.Request().Context())
	if err != nil {
		return err
	}
	v.Enrolment = en
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, readerListPage(pageFor(c, "Readers"), v))
}

func (h *handler) readerNewToken(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := h.store.FleetReaderByID(ctx, id)
	if err != nil {
		return err
	}
	secret := readerSecret()
	en, err := h.newReaderToken(r.ID, r.Name, secret)
	if err != nil {
		return err
	}
	if err := h.store.NewFleetReaderToken(ctx, actor(c), id, secret, h.now().Add(readerTokenLifetime)); err != nil {
		return err
	}
	return h.showEnrolment(c, en)
}

func (h *handler) readerDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteFleetReader(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, "/readers?flash=deleted")
}

func (h *handler) readerLeaseSave(c echo.Context) error {
	ctx := c.Request().Context()
	days := strings.TrimSpace(c.FormValue("lease_days"))
	if n, err := strconv.Atoi(days); err != nil || n < 1 || n > 30 {
		v, verr := h.readerView(ctx)
		if verr != nil {
			return verr
		}
		v.LeaseDays, v.Errors["lease_days"] = days, "must be a whole number of days from 1 to 30"
		return render(c, http.StatusUnprocessableEntity, readerListPage(pageFor(c, "Readers"), v))
	}
	if err := h.store.SetSetting(ctx, actor(c), settingLeaseDays, days); err != nil {
		return err
	}
	return redirect(c, "/readers?flash=saved")
}

// readerJSON is a remote reader in the API.
type readerJSON struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Enrolled      bool       `json:"enrolled"`
	Online        bool       `json:"online"`
	LastSeen      *time.Time `json:"last_seen"`
	PolicyLag     uint64     `json:"policy_lag"`
	EventsWaiting int        `json:"events_waiting"`
	Version       string     `json:"version"`
	// Token and Command are only in the answer that created the reader.
	Token   string `json:"token,omitempty"`
	Command string `json:"command,omitempty"`
}

func (h *handler) toReaderJSON(r store.FleetReader) readerJSON {
	return readerJSON{ID: r.ID, Name: r.Name, Enrolled: !r.EnrolledAt.IsZero(), Online: !r.LastSeen.IsZero() && h.now().Sub(r.LastSeen) < readerOnlineWithin,
		LastSeen: apiTime(r.LastSeen), PolicyLag: r.PolicyLag, EventsWaiting: r.EventsWaiting, Version: r.Version}
}

func (h *handler) apiReaderList(c echo.Context) error {
	rs, err := h.store.FleetReaders(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]readerJSON, len(rs))
	for i, r := range rs {
		out[i] = h.toReaderJSON(r)
	}
	return c.JSON(http.StatusOK, map[string]any{"readers": out})
}

func (h *handler) apiReaderCreate(c echo.Context) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, en, err := h.createReader(c.Request().Context(), actor(c), in.Name)
	if err != nil {
		return err
	}
	out := h.toReaderJSON(r)
	out.Token, out.Command = en.Token, en.Command
	return c.JSON(http.StatusCreated, out)
}

func (h *handler) apiReaderDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteFleetReader(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
