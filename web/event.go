package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
	Query  eventQuery
	Loc    *time.Location
	// AccessPoints and Kinds fill the filter's choices.
	AccessPoints []access.AccessPoint
	Kinds        []string
	// UserName names the person of a user= filter, which has no field.
	UserName string
}

// eventQuery is the events filter as the page's form and its URL hold it,
// so a filtered view can be bookmarked or sent to someone.
type eventQuery struct {
	From, To string // days in the site's zone, To inclusive; or RFC 3339 times
	Who      string
	User     int64
	Point    int64
	Result   string
	Kind     string
	Limit    int
}

// values writes the query back as URL parameters, empty ones left out.
func (q eventQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("from", q.From)
	set("to", q.To)
	set("who", q.Who)
	if q.User != 0 {
		v.Set("user", strconv.FormatInt(q.User, 10))
	}
	if q.Point != 0 {
		v.Set("access_point", strconv.FormatInt(q.Point, 10))
	}
	set("result", q.Result)
	set("kind", q.Kind)
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// eventKinds are the families the page's kind filter offers: every
// family of access.EventKinds, in its order, so a new family is offered
// as soon as it is logged.
var eventKinds = func() []string {
	var families []string
	for _, k := range access.EventKinds {
		if f := k[:strings.IndexByte(k, '.')+1]; !slices.Contains(families, f) {
			families = append(families, f)
		}
	}
	return families
}()

// resultKinds are the decision kinds of each result the filter offers,
// wherever the key was: at the reader ("access.granted") or opening from
// the phone ("access.phone.granted"). They come from access.EventKinds, so
// a decision logged by a new path is found by its result at once.
var resultKinds = func() map[string][]string {
	m := map[string][]string{}
	for _, k := range access.EventKinds {
		for _, r := range []string{"granted", "denied"} {
			if strings.HasPrefix(k, "access.") && decisionKind(k) == "access."+r {
				m[r] = append(m[r], k)
			}
		}
	}
	return m
}()

// readEventFilter reads the filters the events page, its export and the
// API share. The page also offers result=doors: every event at a door.
func (h *handler) readEventFilter(c echo.Context, doors bool) (access.EventFilter, eventQuery, error) {
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
	q := eventQuery{From: c.QueryParam("from"), To: c.QueryParam("to"), Who: strings.TrimSpace(c.QueryParam("who")),
		User: f.UserID, Point: f.AccessPointID, Result: c.QueryParam("result"), Kind: c.QueryParam("kind"), Limit: f.Limit}
	f.Who = q.Who
	switch q.Result {
	case "":
	case "granted", "denied":
		f.Kinds = resultKinds[q.Result]
	case "doors":
		if !doors {
			return f, q, errBadRequest("result must be granted or denied")
		}
		f.Kinds = doorFamilies
	default:
		if doors {
			return f, q, errBadRequest("result must be doors, granted or denied")
		}
		return f, q, errBadRequest("result must be granted or denied")
	}
	if q.Kind != "" {
		// A chosen kind is the narrower question, whatever the result says.
		f.Kind, f.Kinds = q.Kind, nil
	}
	loc := h.location(c.Request().Context())
	var ok bool
	if f.From, ok = parseInstant(q.From, loc, false); !ok {
		return f, q, errBadRequest("from must be a date (2006-01-02) or a time (RFC 3339)")
	}
	if f.To, ok = parseInstant(q.To, loc, true); !ok {
		return f, q, errBadRequest("to must be a date (2006-01-02) or a time (RFC 3339)")
	}
	return f, q, err
}

// parseInstant reads a date in loc or an RFC 3339 time. A date as the end
// of a range includes that day.
func parseInstant(s string, loc *time.Location, end bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	t, ok := parseDay(s, loc)
	if ok && end && !t.IsZero() {
		t = t.AddDate(0, 0, 1)
	}
	return t, ok
}

func (h *handler) eventList(c echo.Context) error {
	f, q, err := h.readEventFilter(c, true)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	events, next, err := h.store.Events(ctx, f)
	if err != nil {
		return err
	}
	v := eventListView{Events: events, Query: q, Loc: h.location(ctx), Kinds: eventKinds}
	if v.AccessPoints, err = h.store.AllAccessPoints(ctx); err != nil {
		return err
	}
	if q.User != 0 {
		if u, err := h.store.UserByID(ctx, q.User); err == nil {
			v.UserName = u.Name()
		}
	}
	if next != 0 {
		p := q.values()
		p.Set("before", strconv.FormatInt(next, 10))
		v.Next = "/events?" + p.Encode()
	}
	return render(c, http.StatusOK, eventListPage(pageFor(c, "Events"), v))
}
