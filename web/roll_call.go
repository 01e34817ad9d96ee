package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

func (h *handler) rollCallRoutes(g *echo.Group) {
	g.GET("/roll-call", h.rollCall)
}

type rollCallView struct {
	People []access.Presence
	Since  time.Time // the start of the site's day
	At     time.Time // when the list was made
	// Entries and Exits count the doors set as each: without both the
	// list cannot be right, and the page says so.
	Entries, Exits int
	Loc            *time.Location
}

// rollCall lists who is on site now, for an evacuation: people let in at
// an entry door today and not out at an exit door since.
func (h *handler) rollCall(c echo.Context) error {
	ctx := c.Request().Context()
	loc := h.location(ctx)
	now := h.now().In(loc)
	v := rollCallView{At: now, Since: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc), Loc: loc}
	aps, err := h.store.AllAccessPoints(ctx)
	if err != nil {
		return err
	}
	for _, ap := range aps {
		switch ap.Direction {
		case access.DirectionEntry:
			v.Entries++
		case access.DirectionExit:
			v.Exits++
		}
	}
	if v.People, err = h.store.OnSite(ctx, v.Since); err != nil {
		return err
	}
	return render(c, http.StatusOK, rollCallPage(pageFor(c, "Roll call"), v))
}
