package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

type accessPointJSON struct {
	ID               int64      `json:"id"`
	Name             string     `json:"name"`
	Reader           string     `json:"reader"`
	Mode             string     `json:"mode"`
	RSSIThreshold    int        `json:"rssi_threshold"`
	RSSIOffset       int        `json:"rssi_offset"`
	RequireUnlock    bool       `json:"require_unlock"`
	UnlockSeconds    int        `json:"unlock_seconds"`
	State            string     `json:"state"`
	Exit             bool       `json:"exit"`
	Direction        string     `json:"direction"`
	UnlockScheduleID *int64     `json:"unlock_schedule_id"`
	FirstPersonIn    bool       `json:"first_person_in"`
	UnlockedUntil    *time.Time `json:"unlocked_until"`
	HeldOpenSeconds  int        `json:"held_open_seconds"`
	DoorIO           doorIOJSON `json:"door_io"`
	// UnlockWindowSeconds is how long the holder has to unlock the phone
	// where it is required; DeadlineMS the response deadline, 0 for the
	// appliance's default.
	UnlockWindowSeconds int `json:"unlock_window_seconds"`
	DeadlineMS          int `json:"deadline_ms"`
	// PhoneOpen lets web keys open it over the network, from
	// PhoneNetworks (CIDR prefixes; empty: any) and with the passkey every
	// time when PhonePasskey is set.
	PhoneOpen     bool     `json:"phone_open"`
	PhoneNetworks []string `json:"phone_networks"`
	PhonePasskey  bool     `json:"phone_passkey"`
}

// doorIOJSON is an access point's GPIO lines, as the API shows and takes
// them.
type doorIOJSON struct {
	Relay          string `json:"relay_line"`
	RelayActiveLow bool   `json:"relay_active_low"`
	FailSafe       bool   `json:"fail_safe"`
	Contact        string `json:"contact_line"`
	ContactOpenLow bool   `json:"contact_open_low"`
	Exit           string `json:"exit_line"`
	ExitPressedLow bool   `json:"exit_pressed_low"`
	ExitUnlocks    bool   `json:"exit_unlocks"`
	DebounceMS     int64  `json:"debounce_ms"`
}

type accessPointInput struct {
	Name             *string     `json:"name"`
	Reader           *string     `json:"reader"`
	Mode             *string     `json:"mode"`
	RSSIThreshold    *int        `json:"rssi_threshold"`
	RSSIOffset       *int        `json:"rssi_offset"`
	RequireUnlock    *bool       `json:"require_unlock"`
	UnlockSeconds    *int        `json:"unlock_seconds"`
	State            *string     `json:"state"`
	Exit             *bool       `json:"exit"`
	Direction        *string     `json:"direction"`
	UnlockScheduleID *int64      `json:"unlock_schedule_id"`
	FirstPersonIn    *bool       `json:"first_person_in"`
	HeldOpenSeconds  *int        `json:"held_open_seconds"`
	DoorIO           *doorIOJSON `json:"door_io"`
	// UnlockWindowSeconds and DeadlineMS: see accessPointJSON.
	UnlockWindowSeconds *int `json:"unlock_window_seconds"`
	DeadlineMS          *int `json:"deadline_ms"`
	// PhoneOpen, PhoneNetworks, PhonePasskey: see accessPointJSON.
	PhoneOpen     *bool     `json:"phone_open"`
	PhoneNetworks *[]string `json:"phone_networks"`
	PhonePasskey  *bool     `json:"phone_passkey"`
}

// networkList is an access point's phone networks as the API lists them.
func networkList(s string) []string {
	out := []string{}
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func toAccessPointJSON(a access.AccessPoint) accessPointJSON {
	j := accessPointJSON{ID: a.ID, Name: a.Name, Reader: a.Reader, Mode: string(a.Mode), RSSIThreshold: a.RSSIThreshold,
		RSSIOffset: a.RSSIOffset, RequireUnlock: a.RequireUnlock, UnlockSeconds: int(a.UnlockDuration / time.Second), State: string(a.State),
		Exit: a.Exit, Direction: string(a.Direction), FirstPersonIn: a.FirstPersonIn, UnlockedUntil: apiTime(a.UnlockedUntil), HeldOpenSeconds: int(a.HeldOpenLimit / time.Second),
		DoorIO:              doorIOJSON{a.IO.Relay, a.IO.RelayActiveLow, a.IO.FailSafe, a.IO.Contact, a.IO.ContactOpenLow, a.IO.Exit, a.IO.ExitPressedLow, a.IO.ExitUnlocks, a.IO.Debounce.Milliseconds()},
		UnlockWindowSeconds: int(a.Window() / time.Second), DeadlineMS: int(a.ResponseDeadline / time.Millisecond),
		PhoneOpen: a.PhoneOpen, PhoneNetworks: networkList(a.PhoneNetworks), PhonePasskey: a.PhonePasskey}
	if a.UnlockProfileID != 0 {
		j.UnlockScheduleID = &a.UnlockProfileID
	}
	return j
}

func (in accessPointInput) apply(a *access.AccessPoint) {
	if in.Name != nil {
		a.Name = *in.Name
	}
	if in.Reader != nil {
		a.Reader = *in.Reader
	}
	if in.Mode != nil {
		m := access.Mode(*in.Mode)
		// A new mode without a threshold takes the new mode's default.
		if m != a.Mode && in.RSSIThreshold == nil {
			a.RSSIThreshold = 0
		}
		a.Mode = m
	}
	if in.RSSIThreshold != nil {
		a.RSSIThreshold = *in.RSSIThreshold
	}
	if in.RSSIOffset != nil {
		a.RSSIOffset = *in.RSSIOffset
	}
	if in.RequireUnlock != nil {
		a.RequireUnlock = *in.RequireUnlock
	}
	if in.UnlockSeconds != nil {
		a.UnlockDuration = time.Duration(*in.UnlockSeconds) * time.Second
		if *in.UnlockSeconds <= 0 {
			a.UnlockDuration = -1 // refused by Validate rather than defaulted
		}
	}
	if in.State != nil {
		a.State = access.State(*in.State)
	}
	if in.Exit != nil {
		a.Exit = *in.Exit
	}
	if in.Direction != nil {
		a.Direction = access.Direction(*in.Direction)
	}
	if in.UnlockScheduleID != nil {
		a.UnlockProfileID = *in.UnlockScheduleID
	}
	if in.FirstPersonIn != nil {
		a.FirstPersonIn = *in.FirstPersonIn
	}
	if in.HeldOpenSeconds != nil {
		a.HeldOpenLimit = time.Duration(*in.HeldOpenSeconds) * time.Second
		if *in.HeldOpenSeconds <= 0 {
			a.HeldOpenLimit = -1 // refused by Validate rather than defaulted
		}
	}
	if io := in.DoorIO; io != nil {
		a.IO = access.DoorIO{Relay: io.Relay, RelayActiveLow: io.RelayActiveLow, FailSafe: io.FailSafe, Contact: io.Contact, ContactOpenLow: io.ContactOpenLow,
			Exit: io.Exit, ExitPressedLow: io.ExitPressedLow, ExitUnlocks: io.ExitUnlocks, Debounce: time.Duration(io.DebounceMS) * time.Millisecond}
	}
	if in.UnlockWindowSeconds != nil {
		a.UnlockWindow = time.Duration(*in.UnlockWindowSeconds) * time.Second
		if *in.UnlockWindowSeconds <= 0 {
			a.UnlockWindow = -1 // refused by Validate rather than defaulted
		}
	}
	if in.DeadlineMS != nil {
		a.ResponseDeadline = time.Duration(*in.DeadlineMS) * time.Millisecond
		if *in.DeadlineMS < 0 {
			a.ResponseDeadline = -1
		}
	}
	if in.PhoneOpen != nil {
		a.PhoneOpen = *in.PhoneOpen
	}
	if in.PhoneNetworks != nil {
		a.PhoneNetworks = strings.Join(*in.PhoneNetworks, ", ")
	}
	if in.PhonePasskey != nil {
		a.PhonePasskey = *in.PhonePasskey
	}
}

func (h *handler) apiAccessPointList(c echo.Context) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.store.AccessPoints(c.Request().Context(), o)
	if err != nil {
		return err
	}
	out := make([]accessPointJSON, len(page.Items))
	for i, a := range page.Items {
		out[i] = toAccessPointJSON(a)
	}
	return c.JSON(http.StatusOK, map[string]any{"access_points": out, "next": nextCursor(page.Next)})
}

func (h *handler) apiAccessPointCreate(c echo.Context) error {
	var in accessPointInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var a access.AccessPoint
	in.apply(&a)
	if err := h.store.CreateAccessPoint(c.Request().Context(), actor(c), &a); err != nil {
		return err
	}
	return created(c, toAccessPointJSON(a))
}

func (h *handler) apiAccessPointGet(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, err := h.store.AccessPointByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccessPointJSON(a))
}

func (h *handler) apiAccessPointUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in accessPointInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := h.store.AccessPointByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	in.apply(&a)
	if err := h.store.UpdateAccessPoint(c.Request().Context(), actor(c), &a); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccessPointJSON(a))
}

func (h *handler) apiAccessPointDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteAccessPoint(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiAccessPointTouch arms a touch-mode reader for its nearest key: what a
// reader's touch sensor does. Whatever watches the sensor's input line
// calls it.
func (h *handler) apiAccessPointTouch(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, err := h.store.AccessPointByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if a.Mode != access.ModeTouch {
		return access.Conflict("%s is not a touch-mode access point", a.Name)
	}
	if h.touch == nil || !h.touch(id) {
		return access.Conflict("the reader of %s is not running", a.Name)
	}
	return c.JSON(http.StatusOK, map[string]any{"armed": true})
}
