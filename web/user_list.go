package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

// userSorts are the users list's sort orders by their URL name, each with
// the direction a click on its heading first asks for: names and emails A
// to Z, last use newest first.
var userSorts = map[string]bool{ // sort → first asks for descending
	store.SortName:     false,
	store.SortEmail:    false,
	store.SortLastUsed: true,
}

type userListView struct {
	Query string
	Sort  string // a store.Sort… name
	Desc  bool
	Users []access.User
	Next  string // cursors of the pages either side; "" at an end
	Prev  string
	Now   time.Time
	Loc   *time.Location
	// Groups are for the bulk actions; Done says what one just did.
	Groups []access.Group
	Done   string
}

// url is the list with this view's search and order, and extra on top.
func (v userListView) url(extra url.Values) string {
	q := url.Values{}
	if v.Query != "" {
		q.Set("q", v.Query)
	}
	if v.Sort != store.SortName {
		q.Set("sort", v.Sort)
	}
	if v.Desc {
		q.Set("dir", "desc")
	}
	for k, vs := range extra {
		q[k] = vs
	}
	if len(q) == 0 {
		return "/users"
	}
	return "/users?" + q.Encode()
}

func (v userListView) nextURL() string { return v.url(url.Values{"after": {v.Next}}) }
func (v userListView) prevURL() string { return v.url(url.Values{"before": {v.Prev}}) }

// sortURL is where a column's heading leads: that column, turned the other
// way when it is already the order.
func (v userListView) sortURL(sort string) string {
	w := userListView{Query: v.Query, Sort: sort, Desc: userSorts[sort]}
	if sort == v.Sort {
		w.Desc = !v.Desc
	}
	return w.url(nil)
}

// sortMark is a column heading's arrow: which way the list runs by it.
func (v userListView) sortMark(sort string) string {
	switch {
	case sort != v.Sort:
		return ""
	case v.Desc:
		return " ↓"
	}
	return " ↑"
}

// ariaSort says the same to a screen reader.
func (v userListView) ariaSort(sort string) string {
	switch {
	case sort != v.Sort:
		return "none"
	case v.Desc:
		return "descending"
	}
	return "ascending"
}

func (h *handler) userList(c echo.Context) error {
	v := userListView{Query: c.QueryParam("q"), Sort: c.QueryParam("sort"), Desc: c.QueryParam("dir") == "desc"}
	if _, ok := userSorts[v.Sort]; !ok {
		v.Sort = store.SortName
	}
	o := store.ListOptions{Query: v.Query, Sort: v.Sort, Desc: v.Desc, After: c.QueryParam("after"), Before: c.QueryParam("before"), Limit: 50}
	page, err := h.store.Users(c.Request().Context(), o)
	if err != nil {
		return err
	}
	v.Users, v.Next, v.Prev = page.Items, page.Next, page.Prev
	v.Now, v.Loc = h.now(), h.location(c.Request().Context())
	v.Done = bulkDone(c)
	groups, err := h.store.Groups(c.Request().Context(), store.ListOptions{Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	v.Groups = groups.Items
	if isHTMX(c) {
		return render(c, http.StatusOK, userTable(pageFor(c, "Users"), v))
	}
	return render(c, http.StatusOK, userListPage(pageFor(c, "Users"), v))
}
