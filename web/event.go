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

// readEventFilter reads the filters the events page and API share.
func readEventFilter(c echo.Context) (access.EventFilter, string, error) {
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
	default:
		return f, "", errBadRequest("result must be granted or denied")
	}
	if k := c.QueryParam("kind"); k != "" {
		f.Kind = k
	}
	return f, result, err
}

func (h *handler) eventList(c echo.Context) error {
	f, result, err := readEventFilter(c)
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

func (h *handler) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	users, err := h.store.CountUsers(ctx)
	if err != nil {
		return err
	}
	aps, err := h.store.AllAccessPoints(ctx)
	if err != nil {
		return err
	}
	events, _, err := h.store.Events(ctx, access.EventFilter{Limit: 20})
	if err != nil {
		return err
	}
	last, err := h.store.LastDecisions(ctx)
	if err != nil {
		return err
	}
	doors, err := h.doorViews(ctx)
	if err != nil {
		return err
	}
	v := dashboardView{Users: users, AccessPoints: aps, Events: events, Last: last, Doors: map[int64]doorView{}, Loc: h.location(ctx),
		PlainHTTP: h.tls.PlainOnNetwork && !h.secure(c)}
	for _, d := range doors {
		v.Doors[d.AP.ID] = d
	}
	return render(c, http.StatusOK, dashboardPage(pageFor(c, "Dashboard"), v))
}

type dashboardView struct {
	Users        int
	AccessPoints []access.AccessPoint
	Events       []access.Event
	Last         map[int64]access.Event
	Doors        map[int64]doorView
	Loc          *time.Location
	PlainHTTP    bool // this page crossed the network unencrypted
}
