package web

import (
	"net/http"
	"strconv"

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
	if v.Permissions, err = h.store.GroupPermissions(c.Request().Context(), g.ID); err != nil {
		return v, err
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
