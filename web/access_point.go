package web

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"postern/access"
	"postern/store"
)

func (h *handler) accessPointRoutes(g *echo.Group) {
	g.GET("/access-points", h.accessPointList)
	g.GET("/access-points/new", h.accessPointNew)
	g.POST("/access-points", h.accessPointCreate)
	g.GET("/access-points/:id", h.accessPointShow)
	g.POST("/access-points/:id", h.accessPointUpdate)
	g.POST("/access-points/:id/delete", h.accessPointDelete)
	g.POST("/access-points/:id/calibrate", h.accessPointCalibrate)
	g.POST("/access-points/:id/unlock", h.accessPointUnlock)
	g.POST("/access-points/:id/lock", h.accessPointLock)
}

type accessPointListView struct {
	AccessPoints []access.AccessPoint
	Next         string
}

type accessPointFormView struct {
	AP              access.AccessPoint
	RSSI            string
	RSSIOffset      string
	UnlockSeconds   string
	HeldOpenSeconds string
	DebounceMS      string
	UnlockWindow    string
	DeadlineMS      string
	Schedules       []access.TimeProfile // to choose the unlock schedule from
	Door            *doorView            // the door now; nil on a new access point
	Loc             *time.Location
	History         []access.Event // the door's newest events
	Errors          fieldErrors
	// DoorLink opens the key page with this door first (for an NFC
	// sticker or a printed QR code at the door); DoorQR is its QR code as
	// a data: URL. Empty without a public URL.
	DoorLink string
	DoorQR   templ.SafeURL
}

func (h *handler) accessPointList(c echo.Context) error {
	page, err := h.store.AccessPoints(c.Request().Context(), store.ListOptions{After: c.QueryParam("after")})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, accessPointListPage(pageFor(c, "Access points"), accessPointListView{page.Items, page.Next}))
}

func apForm(a access.AccessPoint) accessPointFormView {
	v := accessPointFormView{AP: a, RSSIOffset: strconv.Itoa(a.RSSIOffset), Errors: fieldErrors{}}
	if a.RSSIThreshold != 0 {
		v.RSSI = strconv.Itoa(a.RSSIThreshold)
	}
	if a.UnlockDuration != 0 {
		v.UnlockSeconds = strconv.Itoa(int(a.UnlockDuration / time.Second))
	}
	if a.HeldOpenLimit != 0 {
		v.HeldOpenSeconds = strconv.Itoa(int(a.HeldOpenLimit / time.Second))
	}
	if a.IO.Debounce != 0 {
		v.DebounceMS = strconv.FormatInt(a.IO.Debounce.Milliseconds(), 10)
	}
	if a.UnlockWindow != 0 {
		v.UnlockWindow = strconv.Itoa(int(a.UnlockWindow / time.Second))
	}
	if a.ResponseDeadline != 0 {
		v.DeadlineMS = strconv.Itoa(int(a.ResponseDeadline / time.Millisecond))
	}
	return v
}

// withDoor adds what the form shows beside the access point: the time
// profiles to choose an unlock schedule from, and the door as it is now.
func (h *handler) withDoor(c echo.Context, v accessPointFormView) (accessPointFormView, error) {
	ctx := c.Request().Context()
	page, err := h.store.TimeProfiles(ctx, store.ListOptions{Limit: store.MaxLimit})
	if err != nil {
		return v, err
	}
	v.Schedules, v.Loc = page.Items, h.location(ctx)
	if v.AP.ID == 0 {
		return v, nil
	}
	if v.History, _, err = h.store.Events(ctx, access.EventFilter{AccessPointID: v.AP.ID, Limit: historyLimit}); err != nil {
		return v, err
	}
	// The door as stored, not as a refused form left it.
	stored, err := h.store.AccessPointByID(ctx, v.AP.ID)
	if err != nil {
		return v, err
	}
	doors, err := h.doorViewsOf(ctx, []access.AccessPoint{stored})
	if err != nil {
		return v, err
	}
	v.Door = &doors[0]
	return v, nil
}

func (h *handler) accessPointNew(c echo.Context) error {
	v, err := h.withDoor(c, apForm(access.AccessPoint{Mode: access.ModeDirect, State: access.StateNormal}))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, accessPointFormPage(pageFor(c, "New access point"), v))
}

// readAccessPointForm fills a from the form. An empty threshold takes the
// mode's default, so switching mode without touching it does the right thing.
func readAccessPointForm(c echo.Context, a *access.AccessPoint) accessPointFormView {
	a.Name = c.FormValue("name")
	a.Reader = c.FormValue("reader")
	a.Mode = access.Mode(c.FormValue("mode"))
	a.RequireUnlock = checked(c, "require_unlock")
	a.PhoneOpen = checked(c, "phone_open")
	a.PhonePasskey = checked(c, "phone_passkey")
	a.PhoneNetworks = strings.TrimSpace(c.FormValue("phone_networks"))
	if s := c.FormValue("state"); s != "" {
		a.State = access.State(s)
	}
	v := accessPointFormView{AP: *a, RSSI: strings.TrimSpace(c.FormValue("rssi_threshold")), RSSIOffset: strings.TrimSpace(c.FormValue("rssi_offset")),
		UnlockSeconds: strings.TrimSpace(c.FormValue("unlock_seconds")), UnlockWindow: strings.TrimSpace(c.FormValue("unlock_window_seconds")),
		DeadlineMS: strings.TrimSpace(c.FormValue("deadline_ms")), Errors: fieldErrors{}}
	a.RSSIThreshold = wholeNumber(v.RSSI, v.Errors, "rssi_threshold", "must be a whole number of dBm, such as -60")
	a.RSSIOffset = wholeNumber(v.RSSIOffset, v.Errors, "rssi_offset", "must be a whole number of dB, such as 6 or -4")
	a.UnlockDuration = 0
	if v.UnlockSeconds != "" {
		n, err := strconv.Atoi(v.UnlockSeconds)
		if err != nil || n <= 0 {
			v.Errors["unlock_seconds"] = "must be a whole number of seconds"
		}
		a.UnlockDuration = time.Duration(n) * time.Second
	}
	a.UnlockWindow = time.Duration(wholeNumber(v.UnlockWindow, v.Errors, "unlock_window_seconds", "must be a whole number of seconds")) * time.Second
	a.ResponseDeadline = time.Duration(wholeNumber(v.DeadlineMS, v.Errors, "deadline_ms", "must be a whole number of milliseconds")) * time.Millisecond
	readDoorForm(c, a, &v)
	v.AP = *a
	addFieldErrors(v.Errors, validateDraft(*a))
	return v
}

// wholeNumber reads a form's number field: empty is 0, and what is not a
// whole number is the field's error, msg.
func wholeNumber(v string, errs fieldErrors, field, msg string) int {
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		errs[field] = msg
	}
	return n
}

// readDoorForm reads the door's settings and lines. Empty numbers take
// their defaults.
func readDoorForm(c echo.Context, a *access.AccessPoint, v *accessPointFormView) {
	a.Exit = checked(c, "exit")
	a.Direction = access.Direction(c.FormValue("direction"))
	a.FirstPersonIn = checked(c, "first_person_in")
	a.UnlockProfileID = 0
	if s := c.FormValue("unlock_schedule_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			v.Errors["unlock_schedule_id"] = "choose a time profile"
		}
		a.UnlockProfileID = n
	}
	v.HeldOpenSeconds = strings.TrimSpace(c.FormValue("held_open_seconds"))
	a.HeldOpenLimit = 0
	if v.HeldOpenSeconds != "" {
		n, err := strconv.Atoi(v.HeldOpenSeconds)
		if err != nil || n <= 0 {
			v.Errors["held_open_seconds"] = "must be a whole number of seconds"
			n = -1
		}
		a.HeldOpenLimit = time.Duration(n) * time.Second
	}
	v.DebounceMS = strings.TrimSpace(c.FormValue("debounce_ms"))
	a.IO = access.DoorIO{
		Relay: c.FormValue("relay_line"), RelayActiveLow: checked(c, "relay_active_low"), FailSafe: c.FormValue("lock") == "fail-safe",
		Contact: c.FormValue("contact_line"), ContactOpenLow: checked(c, "contact_open_low"),
		Exit: c.FormValue("exit_line"), ExitPressedLow: checked(c, "exit_pressed_low"), ExitUnlocks: checked(c, "exit_unlocks"),
	}
	if v.DebounceMS != "" {
		n, err := strconv.Atoi(v.DebounceMS)
		if err != nil || n <= 0 {
			v.Errors["debounce_ms"] = "must be a whole number of milliseconds"
			n = -1
		}
		a.IO.Debounce = time.Duration(n) * time.Millisecond
	}
}

func (h *handler) accessPointCreate(c echo.Context) error {
	var a access.AccessPoint
	v := readAccessPointForm(c, &a)
	if len(v.Errors) == 0 {
		err := h.store.CreateAccessPoint(c.Request().Context(), actor(c), &a)
		if err == nil {
			return redirect(c, "/access-points/"+strconv.FormatInt(a.ID, 10)+"?flash=created")
		}
		if err := formError(err, v.Errors); err != nil {
			return err
		}
	}
	v, err := h.withDoor(c, v)
	if err != nil {
		return err
	}
	return render(c, http.StatusUnprocessableEntity, accessPointFormPage(pageFor(c, "New access point"), v))
}

func (h *handler) accessPointShow(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, err := h.store.AccessPointByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v, err := h.withDoor(c, apForm(a))
	if err != nil {
		return err
	}
	v.DoorLink, v.DoorQR = h.doorLink(a.ID)
	return render(c, http.StatusOK, accessPointFormPage(pageFor(c, a.Name), v))
}

// doorLink is the link a door's sticker or printed QR code carries, and
// the QR code as an inline PNG.
func (h *handler) doorLink(id int64) (string, templ.SafeURL) {
	if _, ok := RelyingParty(h.publicURL); !ok {
		return "", ""
	}
	link := h.publicURL + "/key?door=" + strconv.FormatInt(id, 10)
	png, err := qrcode.Encode(link, qrcode.Medium, 256)
	if err != nil {
		return link, ""
	}
	return link, templ.SafeURL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

func (h *handler) accessPointUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, err := h.store.AccessPointByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := readAccessPointForm(c, &a)
	if len(v.Errors) == 0 {
		err := h.store.UpdateAccessPoint(c.Request().Context(), actor(c), &a)
		if err == nil {
			return redirect(c, "/access-points/"+strconv.FormatInt(id, 10)+"?flash=saved")
		}
		if err := formError(err, v.Errors); err != nil {
			return err
		}
	}
	v, err = h.withDoor(c, v)
	if err != nil {
		return err
	}
	return render(c, http.StatusUnprocessableEntity, accessPointFormPage(pageFor(c, a.Name), v))
}

func (h *handler) accessPointDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteAccessPoint(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, "/access-points?flash=deleted")
}

// accessPointUnlock is "unlock now" from a page: for the minutes typed, or
// the access point's unlock time. It goes back to where it was clicked.
func (h *handler) accessPointUnlock(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var d time.Duration
	if s := strings.TrimSpace(c.FormValue("minutes")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || time.Duration(n)*time.Minute > maxUnlock {
			return errBadRequest("unlock for 1 minute to 7 days (10080 minutes)")
		}
		d = time.Duration(n) * time.Minute
	}
	if _, err := h.unlockNow(c, id, d); err != nil {
		return err
	}
	return redirect(c, backTo(c, id)+"flash=unlocked")
}

// accessPointLock ends an "unlock now" from a page.
func (h *handler) accessPointLock(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if _, err := h.store.UnlockAccessPoint(c.Request().Context(), actor(c), id, time.Time{}); err != nil {
		return err
	}
	return redirect(c, backTo(c, id)+"flash=locked")
}

// backTo is where a door button returns: the dashboard when clicked there,
// else the access point's page; ready for a query.
func backTo(c echo.Context, id int64) string {
	if c.FormValue("back") == "dashboard" {
		return "/?"
	}
	return "/access-points/" + strconv.FormatInt(id, 10) + "?"
}
