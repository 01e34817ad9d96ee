package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

func (h *handler) permissionRoutes(g *echo.Group) {
	g.GET("/permissions", h.permissionList)
	g.GET("/permissions/user-choices", h.permissionUserChoices)
	g.POST("/permissions", h.permissionCreate)
	g.POST("/permissions/:id/delete", h.permissionDelete)
}

type permissionListView struct {
	Permissions []access.Permission
	Next        string
	Form        permissionFormView
}

type permissionFormView struct {
	Permission access.Permission
	// UserQuery is what was typed to find a user; UserChoices are the
	// users it found, or the one chosen when a refused form comes back.
	UserQuery    string
	UserChoices  []access.User
	Groups       []access.Group
	AccessPoints []access.AccessPoint
	// AccessPointOptions are AccessPoints rendered as options, none
	// selected; nil when they must be rendered afresh.
	AccessPointOptions templ.Component
	TimeProfiles       []access.TimeProfile
	ReturnTo           string
	Errors             fieldErrors
}

// permissionChoices fills the selects of a permission form. A site has
// tens of groups, doors and schedules; users are found by a search box
// instead of a select, since there may be thousands.
func (h *handler) permissionChoices(c echo.Context, v permissionFormView) (permissionFormView, error) {
	ctx := c.Request().Context()
	sc, err := h.siteChoices(ctx)
	if err != nil {
		return v, err
	}
	aps, err := h.store.AllAccessPoints(ctx)
	if err != nil {
		return v, err
	}
	v.Groups, v.AccessPoints, v.TimeProfiles = sc.groups, aps, sc.profiles
	if v.AccessPointOptions, err = h.accessPointOptions.options(ctx, aps); err != nil {
		return v, err
	}
	if v.ReturnTo == "" {
		switch {
		case v.Permission.UserID != 0:
			v.ReturnTo = "/users/" + strconv.FormatInt(v.Permission.UserID, 10)
		case v.Permission.GroupID != 0 && c.Request().URL.Path != "/permissions":
			v.ReturnTo = "/groups/" + strconv.FormatInt(v.Permission.GroupID, 10)
		default:
			v.ReturnTo = "/permissions"
		}
	}
	return v, nil
}

// userChoiceLimit is how many users a search on the permission form offers.
const userChoiceLimit = 10

// findUsers is what the permission form's search box offers for q.
func (h *handler) findUsers(c echo.Context, q string) ([]access.User, error) {
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	page, err := h.store.Users(c.Request().Context(), store.ListOptions{Query: q, Limit: userChoiceLimit})
	return page.Items, err
}

// permissionUserChoices answers the search box as the admin types.
func (h *handler) permissionUserChoices(c echo.Context) error {
	v := permissionFormView{UserQuery: c.QueryParam("user_q")}
	var err error
	if v.UserChoices, err = h.findUsers(c, v.UserQuery); err != nil {
		return err
	}
	return render(c, http.StatusOK, userChoices(v))
}

func (h *handler) permissionList(c echo.Context) error {
	page, err := h.store.Permissions(c.Request().Context(), store.ListOptions{After: c.QueryParam("after")}, 0, 0)
	if err != nil {
		return err
	}
	form, err := h.permissionChoices(c, permissionFormView{ReturnTo: "/permissions", UserQuery: c.QueryParam("user_q"), Errors: fieldErrors{}})
	if err != nil {
		return err
	}
	if form.UserChoices, err = h.findUsers(c, form.UserQuery); err != nil {
		return err
	}
	return render(c, http.StatusOK, permissionListPage(pageFor(c, "Permissions"), permissionListView{page.Items, page.Next, form}))
}

// safeReturn keeps the after-save redirect on one of our own pages.
func safeReturn(s string) string {
	for _, prefix := range []string{"/users/", "/groups/", "/time-profiles/", "/permissions"} {
		if strings.HasPrefix(s, prefix) && !strings.ContainsAny(s, "\\?#") {
			return s
		}
	}
	return "/permissions"
}

func (h *handler) permissionCreate(c echo.Context) error {
	ctx := c.Request().Context()
	v := permissionFormView{ReturnTo: safeReturn(c.FormValue("return_to")), Errors: fieldErrors{}}
	var ok bool
	p := &v.Permission
	if p.UserID, ok = formID(c, "user_id"); !ok {
		return errBadRequest("user_id is not an id")
	}
	if p.GroupID, ok = formID(c, "group_id"); !ok {
		return errBadRequest("group_id is not an id")
	}
	if p.AccessPointID, ok = formID(c, "access_point_id"); !ok {
		return errBadRequest("access_point_id is not an id")
	}
	if p.TimeProfileID, ok = formID(c, "time_profile_id"); !ok {
		return errBadRequest("time_profile_id is not an id")
	}
	addFieldErrors(v.Errors, p.Validate())
	if len(v.Errors) == 0 {
		err := h.store.CreatePermission(ctx, actor(c), p)
		if err == nil {
			return redirect(c, v.ReturnTo+"?flash=created")
		}
		if err := formError(err, v.Errors); err != nil {
			return err
		}
	}
	// Show the form again with what went wrong, on the page it came from:
	// a user's or a group's page names them only by a hidden id. The user
	// chosen stays chosen.
	if p.UserID != 0 {
		u, err := h.store.UserByID(ctx, p.UserID)
		if err != nil && !errors.Is(err, access.ErrNotFound) {
			return err
		}
		if err == nil {
			v.UserChoices = []access.User{u}
		}
	}
	form, err := h.permissionChoices(c, v)
	if err != nil {
		return err
	}
	origin, err := h.permissionOrigin(c, form)
	if err != nil {
		return err
	}
	if origin != nil {
		return render(c, http.StatusUnprocessableEntity, origin)
	}
	page, err := h.store.Permissions(ctx, store.ListOptions{}, 0, 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusUnprocessableEntity, permissionListPage(pageFor(c, "Permissions"), permissionListView{page.Items, page.Next, form}))
}

// permissionOrigin renders the user or group page a refused permission form
// was sent from, with that form; nil when it came from the permissions page
// or its user or group is gone.
func (h *handler) permissionOrigin(c echo.Context, form permissionFormView) (templ.Component, error) {
	ctx := c.Request().Context()
	p := form.Permission
	switch {
	case strings.HasPrefix(form.ReturnTo, "/users/") && p.UserID != 0 && p.GroupID == 0:
		u, err := h.store.UserByID(ctx, p.UserID)
		if errors.Is(err, access.ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		v, err := h.userShowView(c, u)
		if err != nil {
			return nil, err
		}
		v.PermForm = form
		return userShowPage(pageFor(c, u.Name()), v), nil
	case strings.HasPrefix(form.ReturnTo, "/groups/") && p.GroupID != 0 && p.UserID == 0:
		g, err := h.store.GroupByID(ctx, p.GroupID)
		if errors.Is(err, access.ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		v, err := h.groupView(c, g)
		if err != nil {
			return nil, err
		}
		v.PermForm = form
		return groupFormPage(pageFor(c, g.Name), v), nil
	}
	return nil, nil
}

func (h *handler) permissionDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeletePermission(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, safeReturn(c.FormValue("return_to"))+"?flash=deleted")
}
