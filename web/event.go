package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

func (h *handler) eventRoutes(g *echo.Group) {
	g.GET("/events", h.eventList)
	g.GET("/events/stream", h.eventStream)
}

type eventListView struct {
	Events []access.Event
	Next   string
	Filter access.EventFilter
	Result string
	Loc    *time.Location
}

// readEventFilter reads the filters the events page and API share. The page
// also offers result=doors: every event at a door.
func readEventFilter(c echo.Context, doors bool) (access.EventFilter, string, error) {
	var f access.EventFilter
	var err error
	num := func(name string) int64 {
		s := c.QueryParam(name)
		if s == "" || err != nil {
			return 0
		}
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || n < 0 {
			err = errBadRequest("%s must be a positive whole number", name)
		}
		return n
	}
	f.UserID = num("user")
	f.AccessPointID = num("access_point")
	f.Before = num("before")
	f.Limit = int(num("limit"))
	result := c.QueryParam("result")
	switch result {
	case "":
	case "granted", "denied":
		f.Kind = "access." + result
	case "doors":
		if !doors {
			return f, "", errBadRequest("result must be granted or denied")
		}
		f.Kinds = doorFamilies
	default:
		if doors {
			return f, "", errBadRequest("result must be doors, granted or denied")
		}
		return f, "", errBadRequest("result must be granted or denied")
	}
	if k := c.QueryParam("kind"); k != "" {
		f.Kind = k
	}
	return f, result, err
}

func (h *handler) eventList(c echo.Context) error {
	f, result, err := readEventFilter(c, true)
	if err != nil {
		return err
	}
	events, next, err := h.store.Events(c.Request().Context(), f)
	if err != nil {
		return err
	}
	v := eventListView{Events: events, Filter: f, Result: result, Loc: h.location(c.Request().Context())}
	if next != 0 {
		q := c.QueryParams()
		q.Set("before", strconv.FormatInt(next, 10))
		v.Next = "/events?" + url.Values(q).Encode()
	}
	return render(c, http.StatusOK, eventListPage(pageFor(c, "Events"), v))
}
