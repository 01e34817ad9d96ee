package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

// maxUnlock bounds an "unlock now": a week is "keep it unlocked until
// Monday", longer is a door that should be set to held open.
const maxUnlock = 7 * 24 * time.Hour

// apiAccessPointUnlock unlocks a door now for {"seconds": N}, by default
// the access point's unlock time.
func (h *handler) apiAccessPointUnlock(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		Seconds *int `json:"seconds"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
	}
	var d time.Duration
	if in.Seconds != nil {
		d = time.Duration(*in.Seconds) * time.Second
		if d < time.Second || d > maxUnlock {
			return access.Invalid("seconds", "must be between 1 second and 7 days (%d seconds)", int(maxUnlock/time.Second))
		}
	}
	a, err := h.unlockNow(c, id, d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccessPointJSON(a))
}

// unlockNow unlocks an access point's door for d, or for its unlock time
// when d is zero.
func (h *handler) unlockNow(c echo.Context, id int64, d time.Duration) (access.AccessPoint, error) {
	ctx := c.Request().Context()
	if d == 0 {
		a, err := h.store.AccessPointByID(ctx, id)
		if err != nil {
			return a, err
		}
		d = a.UnlockDuration
	}
	return h.store.UnlockAccessPoint(ctx, actor(c), id, h.now().Add(d))
}

// apiAccessPointLock ends an "unlock now" at once.
func (h *handler) apiAccessPointLock(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, err := h.store.UnlockAccessPoint(c.Request().Context(), actor(c), id, time.Time{})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccessPointJSON(a))
}

// apiAccessPointDoorInput reports a door input ({"input": "open"},
// "close" or "exit") at an access point: the simulated contact and exit
// button, for sites without a board and for tests.
func (h *handler) apiAccessPointDoorInput(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		Input string `json:"input"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Input != "open" && in.Input != "close" && in.Input != "exit" {
		return access.Invalid("input", "must be open, close or exit")
	}
	ctx := c.Request().Context()
	a, err := h.store.AccessPointByID(ctx, id)
	if err != nil {
		return err
	}
	if h.doorInput == nil {
		return access.Conflict("there are no doors on this appliance")
	}
	if err := h.doorInput(ctx, id, in.Input); err != nil {
		h.log.Warn("door input", "access_point", a.Name, "err", err)
		return access.Conflict("the door of %s did not take the input; it is known within a second of being created", a.Name)
	}
	return c.JSON(http.StatusOK, map[string]any{"input": in.Input})
}

// doorJSON is a door's state as the API shows it.
type doorJSON struct {
	AccessPointID int64      `json:"access_point_id"`
	Name          string     `json:"name"`
	State         string     `json:"state"`
	Unlocked      bool       `json:"unlocked"`
	Until         *time.Time `json:"until,omitempty"`
	BySite        bool       `json:"by_site,omitempty"`
	WaitingFirst  bool       `json:"waiting_for_first_person,omitempty"`
	Contact       string     `json:"contact,omitempty"`
}

// apiDoorList shows every door's state now, and its contact.
func (h *handler) apiDoorList(c echo.Context) error {
	views, err := h.doorViews(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]doorJSON, len(views))
	for i, v := range views {
		out[i] = doorJSON{AccessPointID: v.AP.ID, Name: v.AP.Name, State: v.State.Mode.String(), Unlocked: v.State.Unlocked(),
			Until: apiTime(v.State.Until), BySite: v.State.BySite, WaitingFirst: v.State.WaitingFirstIn, Contact: v.Contact}
	}
	return c.JSON(http.StatusOK, map[string]any{"doors": out})
}

type siteModeJSON struct {
	Mode      string     `json:"mode"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	StartedBy string     `json:"started_by,omitempty"`
}

func toSiteModeJSON(e access.Emergency) siteModeJSON {
	if e.Mode == access.SiteNormal {
		return siteModeJSON{Mode: string(access.SiteNormal)}
	}
	return siteModeJSON{Mode: string(e.Mode), StartedAt: apiTime(e.StartedAt), StartedBy: e.StartedBy}
}

// apiSiteMode shows the site's lockdown or evacuation, or normal.
func (h *handler) apiSiteMode(c echo.Context) error {
	e, err := h.store.Emergency(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSiteModeJSON(e))
}

// apiSiteModeSet starts a lockdown or an evacuation ({"mode": "lockdown"}
// or "evacuation"), or ends it ({"mode": "normal"}).
func (h *handler) apiSiteModeSet(c echo.Context) error {
	var in struct {
		Mode string `json:"mode"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := h.setSiteMode(c, access.SiteMode(in.Mode))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSiteModeJSON(e))
}

// setSiteMode starts or ends the site's emergency; ending none is no
// error, since the site is as asked.
func (h *handler) setSiteMode(c echo.Context, mode access.SiteMode) (access.Emergency, error) {
	ctx := c.Request().Context()
	switch mode {
	case access.SiteLockdown, access.SiteEvacuation:
		return h.store.StartEmergency(ctx, actor(c), mode)
	case access.SiteNormal:
		_, err := h.store.EndEmergency(ctx, actor(c))
		if err != nil && !errors.Is(err, access.ErrNotFound) {
			return access.Emergency{}, err
		}
		return access.Emergency{Mode: access.SiteNormal}, nil
	}
	return access.Emergency{}, access.Invalid("mode", "must be lockdown, evacuation or normal")
}
