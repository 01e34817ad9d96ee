package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

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
}

type accessPointListView struct {
	AccessPoints []access.AccessPoint
	Next         string
}

type accessPointFormView struct {
	AP            access.AccessPoint
	RSSI          string
	RSSIOffset    string
	UnlockSeconds string
	Errors        fieldErrors
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
	return v
}

func (h *handler) accessPointNew(c echo.Context) error {
	return render(c, http.StatusOK, accessPointFormPage(pageFor(c, "New access point"), apForm(access.AccessPoint{Mode: access.ModeDirect, State: access.StateNormal})))
}

// readAccessPointForm fills a from the form. An empty threshold takes the
// mode's default, so switching mode without touching it does the right thing.
func readAccessPointForm(c echo.Context, a *access.AccessPoint) accessPointFormView {
	a.Name = c.FormValue("name")
	a.Reader = c.FormValue("reader")
	a.Mode = access.Mode(c.FormValue("mode"))
	a.RequireUnlock = checked(c, "require_unlock")
	if s := c.FormValue("state"); s != "" {
		a.State = access.State(s)
	}
	v := accessPointFormView{AP: *a, RSSI: strings.TrimSpace(c.FormValue("rssi_threshold")), RSSIOffset: strings.TrimSpace(c.FormValue("rssi_offset")),
		UnlockSeconds: strings.TrimSpace(c.FormValue("unlock_seconds")), Errors: fieldErrors{}}
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
	return render(c, http.StatusOK, accessPointFormPage(pageFor(c, a.Name), apForm(a)))
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
