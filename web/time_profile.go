package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

func (h *handler) timeProfileRoutes(g *echo.Group) {
	g.GET("/time-profiles", h.timeProfileList)
	g.GET("/time-profiles/new", h.timeProfileNew)
	g.POST("/time-profiles", h.timeProfileCreate)
	g.GET("/time-profiles/:id", h.timeProfileShow)
	g.POST("/time-profiles/:id", h.timeProfileUpdate)
	g.POST("/time-profiles/:id/delete", h.timeProfileDelete)
}

type timeProfileListView struct {
	Profiles []access.TimeProfile
	Next     string
	Zone     string
}

type timeProfileFormView struct {
	Profile  access.TimeProfile
	Windows  string
	Holidays string
	Zone     string
	Errors   fieldErrors
	// UsedBy are the permissions that use the profile, each with a link to
	// its user or group and a Remove button: they must go before it can.
	UsedBy []access.Permission
}

func (h *handler) timeProfileList(c echo.Context) error {
	page, err := h.store.TimeProfiles(c.Request().Context(), store.ListOptions{After: c.QueryParam("after")})
	if err != nil {
		return err
	}
	v := timeProfileListView{page.Items, page.Next, h.location(c.Request().Context()).String()}
	return render(c, http.StatusOK, timeProfileListPage(pageFor(c, "Time profiles"), v))
}

func (h *handler) tpForm(c echo.Context, p access.TimeProfile) timeProfileFormView {
	return timeProfileFormView{Profile: p, Windows: access.FormatWindows(p.Windows), Holidays: access.FormatHolidays(p.Holidays),
		Zone: h.location(c.Request().Context()).String(), Errors: fieldErrors{}}
}

// usedBy fills in what uses a stored profile.
func (h *handler) usedBy(c echo.Context, v *timeProfileFormView) error {
	if v.Profile.ID == 0 {
		return nil
	}
	var err error
	v.UsedBy, err = h.store.TimeProfilePermissions(c.Request().Context(), v.Profile.ID)
	return err
}

func (h *handler) timeProfileNew(c echo.Context) error {
	v := h.tpForm(c, access.TimeProfile{})
	v.Windows = "Mon-Fri 08:00-18:00"
	return render(c, http.StatusOK, timeProfileFormPage(pageFor(c, "New time profile"), v))
}

func (h *handler) readTimeProfileForm(c echo.Context, p *access.TimeProfile) timeProfileFormView {
	v := h.tpForm(c, *p)
	p.Name = c.FormValue("name")
	v.Profile.Name = p.Name
	v.Windows, v.Holidays = c.FormValue("windows"), c.FormValue("holidays")
	var err error
	if p.Windows, err = access.ParseWindows(v.Windows); err != nil {
		v.Errors["windows"] = err.Error()
	}
	if p.Holidays, err = access.ParseHolidays(v.Holidays); err != nil {
		v.Errors["holidays"] = err.Error()
	}
	addFieldErrors(v.Errors, validateDraft(*p))
	return v
}

func (h *handler) timeProfileCreate(c echo.Context) error {
	var p access.TimeProfile
	v := h.readTimeProfileForm(c, &p)
	if len(v.Errors) == 0 {
		err := h.store.CreateTimeProfile(c.Request().Context(), actor(c), &p)
		if err == nil {
			return redirect(c, "/time-profiles/"+strconv.FormatInt(p.ID, 10)+"?flash=created")
		}
		if err := formError(err, v.Errors); err != nil {
			return err
		}
	}
	return render(c, http.StatusUnprocessableEntity, timeProfileFormPage(pageFor(c, "New time profile"), v))
}

func (h *handler) timeProfileShow(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	p, err := h.store.TimeProfileByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := h.tpForm(c, p)
	if err := h.usedBy(c, &v); err != nil {
		return err
	}
	return render(c, http.StatusOK, timeProfileFormPage(pageFor(c, p.Name), v))
}

func (h *handler) timeProfileUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	p, err := h.store.TimeProfileByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := h.readTimeProfileForm(c, &p)
	if len(v.Errors) == 0 {
		err := h.store.UpdateTimeProfile(c.Request().Context(), actor(c), &p)
		if err == nil {
			return redirect(c, "/time-profiles/"+strconv.FormatInt(id, 10)+"?flash=saved")
		}
		if err := formError(err, v.Errors); err != nil {
			return err
		}
	}
	if err := h.usedBy(c, &v); err != nil {
		return err
	}
	return render(c, http.StatusUnprocessableEntity, timeProfileFormPage(pageFor(c, p.Name), v))
}

func (h *handler) timeProfileDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	err = h.store.DeleteTimeProfile(c.Request().Context(), actor(c), id)
	var ce *access.ConflictError
	if errors.As(err, &ce) {
		// In use: back to the profile's page, which lists what uses it.
		return redirect(c, "/time-profiles/"+strconv.FormatInt(id, 10)+"?flash=inuse#used-by")
	}
	if err != nil {
		return err
	}
	return redirect(c, "/time-profiles?flash=deleted")
}
