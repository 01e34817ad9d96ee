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

func (h *handler) visitorRoutes(g *echo.Group) {
	g.GET("/visitors", h.visitorList)
	g.POST("/visitors", h.visitorCreate)
}

func (h *handler) apiVisitorRoutes(g *echo.Group) {
	g.GET("/visitors", h.apiVisitorList)
	g.POST("/visitors", h.apiVisitorCreate)
}

// visitTimeLayout is how the page's datetime-local inputs send a time.
const visitTimeLayout = "2006-01-02T15:04"

type visitorListView struct {
	Visitors []visitorRow
	Hosts    []access.User
	Profiles []access.Group
	Form     visitorForm
	Errors   fieldErrors
}

type visitorRow struct {
	Name, Email, Host, Profile, From, Until, In string
	UserID                                      int64
}

type visitorForm struct {
	FirstName, LastName, Email, From, Until string
	HostID, GroupID                         int64
}

func (h *handler) visitorView(c echo.Context) (visitorListView, error) {
	ctx := c.Request().Context()
	loc := h.location(ctx)
	v := visitorListView{Errors: fieldErrors{}}
	list, err := h.store.Visitors(ctx, h.now().Add(-24*time.Hour))
	if err != nil {
		return v, err
	}
	for _, x := range list {
		row := visitorRow{Name: x.User.Name(), Email: x.User.Email, Host: x.HostName, Profile: x.GroupName, UserID: x.User.ID,
			From: formatTime(x.User.ValidFrom, loc), Until: formatTime(x.User.ValidUntil, loc), In: "not yet"}
		if !x.FirstInAt.IsZero() {
			row.In = formatTime(x.FirstInAt, loc)
		}
		v.Visitors = append(v.Visitors, row)
	}
	users, err := h.store.Users(ctx, store.ListOptions{Limit: store.MaxLimit})
	if err != nil {
		return v, err
	}
	v.Hosts = users.Items
	groups, err := h.store.Groups(ctx, store.ListOptions{Limit: store.MaxLimit})
	if err != nil {
		return v, err
	}
	v.Profiles = groups.Items
	now := h.now().In(loc)
	v.Form = visitorForm{From: now.Format(visitTimeLayout), Until: now.Add(8 * time.Hour).Format(visitTimeLayout)}
	return v, nil
}

func (h *handler) visitorList(c echo.Context) error {
	v, err := h.visitorView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, visitorPage(pageFor(c, "Visitors"), v))
}

// visitorCreate registers a visitor and sends them a Smart credential at
// once; it works only in the visit's window.
func (h *handler) visitorCreate(c echo.Context) error {
	ctx := c.Request().Context()
	loc := h.location(ctx)
	f := visitorForm{FirstName: c.FormValue("first_name"), LastName: c.FormValue("last_name"), Email: c.FormValue("email"),
		From: c.FormValue("from"), Until: c.FormValue("until")}
	f.HostID, _ = formID(c, "host_id")
	f.GroupID, _ = formID(c, "group_id")
	d := store.VisitorDraft{FirstName: f.FirstName, LastName: f.LastName, Email: f.Email, HostID: f.HostID, GroupID: f.GroupID}
	errs := fieldErrors{}
	var err error
	if d.From, err = time.ParseInLocation(visitTimeLayout, f.From, loc); err != nil {
		errs["from"] = "is not a date and time"
	}
	if d.Until, err = time.ParseInLocation(visitTimeLayout, f.Until, loc); err != nil {
		errs["until"] = "is not a date and time"
	}
	if len(errs) == 0 {
		if err := h.registerVisitor(c, d); err != nil && !addFieldErrors(errs, err) {
			return err
		}
	}
	if len(errs) > 0 {
		v, err := h.visitorView(c)
		if err != nil {
			return err
		}
		v.Form, v.Errors = f, errs
		return render(c, http.StatusUnprocessableEntity, visitorPage(pageFor(c, "Visitors"), v))
	}
	return redirect(c, "/visitors?flash=visitor")
}

// registerVisitor stores the visit and queues the visitor's invitation.
func (h *handler) registerVisitor(c echo.Context, d store.VisitorDraft) error {
	v, err := h.store.CreateVisitor(c.Request().Context(), actor(c), d)
	if err != nil {
		return err
	}
	_, _, err = h.assign(c, v.User.ID, byEmail)
	return err
}

type visitorJSON struct {
	ID        int64      `json:"id"`
	UserID    int64      `json:"user_id"`
	FirstName string     `json:"first_name"`
	LastName  string     `json:"last_name"`
	Email     string     `json:"email"`
	HostID    int64      `json:"host_id"`
	GroupID   int64      `json:"group_id"`
	From      time.Time  `json:"from"`
	Until     time.Time  `json:"until"`
	FirstIn   *time.Time `json:"first_in,omitempty"`
	Code      string     `json:"code,omitempty"` // with ?show_code=1, once
}

func toVisitorJSON(v store.Visitor) visitorJSON {
	out := visitorJSON{ID: v.ID, UserID: v.User.ID, FirstName: v.User.FirstName, LastName: v.User.LastName, Email: v.User.Email,
		HostID: v.HostID, GroupID: v.GroupID, From: v.User.ValidFrom.UTC(), Until: v.User.ValidUntil.UTC()}
	if !v.FirstInAt.IsZero() {
		t := v.FirstInAt.UTC()
		out.FirstIn = &t
	}
	return out
}

func (h *handler) apiVisitorList(c echo.Context) error {
	list, err := h.store.Visitors(c.Request().Context(), h.now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	out := make([]visitorJSON, 0, len(list))
	for _, v := range list {
		out = append(out, toVisitorJSON(v))
	}
	return c.JSON(http.StatusOK, map[string]any{"visitors": out})
}

func (h *handler) apiVisitorCreate(c echo.Context) error {
	var in visitorJSON
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	d := store.VisitorDraft{FirstName: strings.TrimSpace(in.FirstName), LastName: strings.TrimSpace(in.LastName), Email: in.Email,
		HostID: in.HostID, GroupID: in.GroupID, From: in.From, Until: in.Until}
	v, err := h.store.CreateVisitor(c.Request().Context(), actor(c), d)
	if err != nil {
		return err
	}
	how := byEmail
	if c.QueryParam("show_code") == "1" {
		how = byEmailAndShown
	}
	_, code, err := h.assign(c, v.User.ID, how)
	if err != nil {
		return err
	}
	out := toVisitorJSON(v)
	if how == byEmailAndShown {
		out.Code = code
	}
	c.Response().Header().Set("Location", "/api/v1/users/"+strconv.FormatInt(v.User.ID, 10))
	return created(c, out)
}
