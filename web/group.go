package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

func (h *handler) groupRoutes(g *echo.Group) {
	g.GET("/groups", h.groupList)
	g.GET("/groups/new", h.groupNew)
	g.POST("/groups", h.groupCreate)
	g.GET("/groups/:id", h.groupShow)
	g.POST("/groups/:id", h.groupUpdate)
	g.POST("/groups/:id/delete", h.groupDelete)
	g.POST("/groups/:id/members", h.groupMembersAdd)
	g.POST("/groups/:id/members/remove", h.groupMembersRemove)
}

type groupListView struct {
	Groups []access.Group
	Next   string
}

type groupFormView struct {
	Group       access.Group
	Errors      fieldErrors
	Permissions []access.Permission
	PermForm    permissionFormView
	Members     []access.User
	AddQuery    string        // who to find to add
	Candidates  []access.User // who matches it
}

func (h *handler) groupList(c echo.Context) error {
	page, err := h.store.Groups(c.Request().Context(), store.ListOptions{After: c.QueryParam("after")})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, groupListPage(pageFor(c, "Groups"), groupListView{page.Items, page.Next}))
}

func (h *handler) groupNew(c echo.Context) error {
	return render(c, http.StatusOK, groupFormPage(pageFor(c, "New group"), groupFormView{Errors: fieldErrors{}}))
}

func readGroupForm(c echo.Context, g *access.Group) {
	g.Name = c.FormValue("name")
	g.Description = c.FormValue("description")
}

func (h *handler) groupCreate(c echo.Context) error {
	v := groupFormView{Errors: fieldErrors{}}
	readGroupForm(c, &v.Group)
	err := h.store.CreateGroup(c.Request().Context(), actor(c), &v.Group)
	if err == nil {
		return redirect(c, "/groups/"+strconv.FormatInt(v.Group.ID, 10)+"?flash=created")
	}
	if err := formError(err, v.Errors); err != nil {
		return err
	}
	return render(c, http.StatusUnprocessableEntity, groupFormPage(pageFor(c, "New group"), v))
}

func (h *handler) groupView(c echo.Context, g access.Group) (groupFormView, error) {
	v := groupFormView{Group: g, Errors: fieldErrors{}}
	var err error
	ctx := c.Request().Context()
	if v.Permissions, err = h.store.GroupPermissions(ctx, g.ID); err != nil {
		return v, err
	}
	if v.Members, err = h.store.GroupMembers(ctx, g.ID, store.MaxLimit); err != nil {
		return v, err
	}
	if v.AddQuery = strings.TrimSpace(c.QueryParam("add")); v.AddQuery != "" {
		page, err := h.store.Users(ctx, store.ListOptions{Query: v.AddQuery, Limit: 20})
		if err != nil {
			return v, err
		}
		in := map[int64]bool{}
		for _, m := range v.Members {
			in[m.ID] = true
		}
		for _, u := range page.Items {
			if !in[u.ID] {
				v.Candidates = append(v.Candidates, u)
			}
		}
	}
	v.PermForm, err = h.permissionChoices(c, permissionFormView{Permission: access.Permission{GroupID: g.ID}, Errors: fieldErrors{}})
	return v, err
}

func (h *handler) groupShow(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	g, err := h.store.GroupByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v, err := h.groupView(c, g)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, groupFormPage(pageFor(c, g.Name), v))
}

func (h *handler) groupUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	g, err := h.store.GroupByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	readGroupForm(c, &g)
	v, err := h.groupView(c, g)
	if err != nil {
		return err
	}
	err = h.store.UpdateGroup(c.Request().Context(), actor(c), &v.Group)
	if err == nil {
		return redirect(c, "/groups/"+strconv.FormatInt(id, 10)+"?flash=saved")
	}
	if err := formError(err, v.Errors); err != nil {
		return err
	}
	return render(c, http.StatusUnprocessableEntity, groupFormPage(pageFor(c, g.Name), v))
}

func (h *handler) groupDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteGroup(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, "/groups?flash=deleted")
}

// groupMembersAdd adds the ticked people to the group.
func (h *handler) groupMembersAdd(c echo.Context) error {
	return h.changeGroupMembers(c, h.store.AddGroupMembers)
}

// groupMembersRemove takes people out of the group.
func (h *handler) groupMembersRemove(c echo.Context) error {
	return h.changeGroupMembers(c, h.store.RemoveGroupMembers)
}

func (h *handler) changeGroupMembers(c echo.Context, change func(ctx context.Context, actor string, groupID int64, userIDs []int64) (int, error)) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return errBadRequest("the form could not be read")
	}
	var users []int64
	for _, s := range form["user"] {
		uid, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errBadRequest("%q is not a user id", s)
		}
		users = append(users, uid)
	}
	if _, err := change(c.Request().Context(), actor(c), id, users); err != nil {
		return err
	}
	return redirect(c, "/groups/"+strconv.FormatInt(id, 10)+"?flash=saved")
}
