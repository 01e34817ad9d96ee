package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

type windowJSON struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

type timeProfileJSON struct {
	ID       int64        `json:"id"`
	Name     string       `json:"name"`
	Windows  []windowJSON `json:"windows"`
	Holidays []string     `json:"holidays"`
}

type timeProfileInput struct {
	Name     *string       `json:"name"`
	Windows  *[]windowJSON `json:"windows"`
	Holidays *[]string     `json:"holidays"`
}

var dayCodes = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func toTimeProfileJSON(p access.TimeProfile) timeProfileJSON {
	out := timeProfileJSON{ID: p.ID, Name: p.Name, Windows: []windowJSON{}, Holidays: []string{}}
	for _, w := range p.Windows {
		wj := windowJSON{Days: []string{}, Start: access.FormatClock(w.Start), End: access.FormatClock(w.End)}
		for _, d := range w.Days {
			wj.Days = append(wj.Days, dayCodes[d])
		}
		out.Windows = append(out.Windows, wj)
	}
	for _, d := range p.Holidays {
		out.Holidays = append(out.Holidays, d.String())
	}
	return out
}

// window reads the i-th window (from 0) of a request.
func (wj windowJSON) window(i int) (access.Window, error) {
	var w access.Window
	for _, d := range wj.Days {
		n := -1
		for k, code := range dayCodes {
			if strings.EqualFold(d, code) || strings.EqualFold(d, time.Weekday(k).String()) {
				n = k
			}
		}
		if n < 0 {
			return w, access.Invalid("windows", "window %d: %q is not a day (mon, tue, …)", i+1, d)
		}
		w.Days = append(w.Days, time.Weekday(n))
	}
	var err error
	if w.Start, err = access.ParseClock(wj.Start); err != nil {
		return w, access.Invalid("windows", "window %d: %v", i+1, err)
	}
	if w.End, err = access.ParseClock(wj.End); err != nil {
		return w, access.Invalid("windows", "window %d: %v", i+1, err)
	}
	return w, nil
}

// apply sets the fields the request has. A window or holiday that does not
// read is a field error; the first of each is kept.
func (in timeProfileInput) apply(p *access.TimeProfile) error {
	var errs access.ValidationErrors
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Windows != nil {
		p.Windows = nil
		for i, wj := range *in.Windows {
			w, err := wj.window(i)
			if err != nil {
				errs.Merge(err)
				break
			}
			p.Windows = append(p.Windows, w)
		}
	}
	if in.Holidays != nil {
		p.Holidays = nil
		for _, s := range *in.Holidays {
			d, err := access.ParseDate(s)
			if err != nil {
				errs.Add("holidays", "%v", err)
				break
			}
			p.Holidays = append(p.Holidays, d)
		}
	}
	return errs.Err()
}

func (h *handler) apiTimeProfileList(c echo.Context) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.store.TimeProfiles(c.Request().Context(), o)
	if err != nil {
		return err
	}
	out := make([]timeProfileJSON, len(page.Items))
	for i, p := range page.Items {
		out[i] = toTimeProfileJSON(p)
	}
	return c.JSON(http.StatusOK, map[string]any{"time_profiles": out, "next": nextCursor(page.Next)})
}

func (h *handler) apiTimeProfileCreate(c echo.Context) error {
	var in timeProfileInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var p access.TimeProfile
	if err := invalidInput(in.apply(&p), validateDraft(p)); err != nil {
		return err
	}
	if err := h.store.CreateTimeProfile(c.Request().Context(), actor(c), &p); err != nil {
		return err
	}
	return created(c, toTimeProfileJSON(p))
}

func (h *handler) apiTimeProfileGet(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	p, err := h.store.TimeProfileByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTimeProfileJSON(p))
}

func (h *handler) apiTimeProfileUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in timeProfileInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := h.store.TimeProfileByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := invalidInput(in.apply(&p), validateDraft(p)); err != nil {
		return err
	}
	if err := h.store.UpdateTimeProfile(c.Request().Context(), actor(c), &p); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTimeProfileJSON(p))
}

func (h *handler) apiTimeProfileDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteTimeProfile(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
