package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"postern/access"
)

type groupJSON struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Members     int    `json:"members"`
}

type groupInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func toGroupJSON(g access.Group) groupJSON {
	return groupJSON{ID: g.ID, Name: g.Name, Description: g.Description, Members: g.Members}
}

func (in groupInput) apply(g *access.Group) {
	if in.Name != nil {
		g.Name = *in.Name
	}
	if in.Description != nil {
		g.Description = *in.Description
	}
}

func (h *handler) apiGroupList(c echo.Context) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.store.Groups(c.Request().Context(), o)
	if err != nil {
		return err
	}
	out := make([]groupJSON, len(page.Items))
	for i, g := range page.Items {
		out[i] = toGroupJSON(g)
	}
	return c.JSON(http.StatusOK, map[string]any{"groups": out, "next": nextCursor(page.Next)})
}

func (h *handler) apiGroupCreate(c echo.Context) error {
	var in groupInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var g access.Group
	in.apply(&g)
	if err := h.store.CreateGroup(c.Request().Context(), actor(c), &g); err != nil {
		return err
	}
	return created(c, toGroupJSON(g))
}

func (h *handler) apiGroupGet(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	g, err := h.store.GroupByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toGroupJSON(g))
}

func (h *handler) apiGroupUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in groupInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	g, err := h.store.GroupByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	in.apply(&g)
	if err := h.store.UpdateGroup(c.Request().Context(), actor(c), &g); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toGroupJSON(g))
}

func (h *handler) apiGroupDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteGroup(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
