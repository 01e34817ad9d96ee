package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"postern/access"
)

type permissionJSON struct {
	ID            int64  `json:"id"`
	UserID        *int64 `json:"user_id"`
	GroupID       *int64 `json:"group_id"`
	AccessPointID int64  `json:"access_point_id"`
	TimeProfileID *int64 `json:"time_profile_id"`
}

type permissionInput struct {
	UserID        *int64 `json:"user_id"`
	GroupID       *int64 `json:"group_id"`
	AccessPointID *int64 `json:"access_point_id"`
	TimeProfileID *int64 `json:"time_profile_id"`
}

func toPermissionJSON(p access.Permission) permissionJSON {
	return permissionJSON{ID: p.ID, UserID: optID(p.UserID), GroupID: optID(p.GroupID), AccessPointID: p.AccessPointID, TimeProfileID: optID(p.TimeProfileID)}
}

func (in permissionInput) apply(p *access.Permission, raw map[string]any) {
	get := func(v *int64) int64 {
		if v == nil {
			return 0
		}
		return *v
	}
	if _, ok := raw["user_id"]; ok {
		p.UserID = get(in.UserID)
		if p.UserID != 0 {
			if _, ok := raw["group_id"]; !ok {
				p.GroupID = 0
			}
		}
	}
	if _, ok := raw["group_id"]; ok {
		p.GroupID = get(in.GroupID)
		if p.GroupID != 0 {
			if _, ok := raw["user_id"]; !ok {
				p.UserID = 0
			}
		}
	}
	if in.AccessPointID != nil {
		p.AccessPointID = *in.AccessPointID
	}
	if _, ok := raw["time_profile_id"]; ok {
		p.TimeProfileID = get(in.TimeProfileID)
	}
}

func (h *handler) decodePermission(c echo.Context, in *permissionInput) (map[string]any, error) {
	raw, err := decodeInput(c, in)
	m := map[string]any{}
	for k := range raw {
		m[k] = true
	}
	return m, err
}

func (h *handler) apiPermissionList(c echo.Context) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	var userID, apID int64
	if s := c.QueryParam("user"); s != "" {
		if userID, err = strconv.ParseInt(s, 10, 64); err != nil {
			return errBadRequest("user must be an id")
		}
	}
	if s := c.QueryParam("access_point"); s != "" {
		if apID, err = strconv.ParseInt(s, 10, 64); err != nil {
			return errBadRequest("access_point must be an id")
		}
	}
	page, err := h.store.Permissions(c.Request().Context(), o, userID, apID)
	if err != nil {
		return err
	}
	out := make([]permissionJSON, len(page.Items))
	for i, p := range page.Items {
		out[i] = toPermissionJSON(p)
	}
	return c.JSON(http.StatusOK, map[string]any{"permissions": out, "next": nextCursor(page.Next)})
}

func (h *handler) apiPermissionCreate(c echo.Context) error {
	var in permissionInput
	raw, err := h.decodePermission(c, &in)
	if err != nil {
		return err
	}
	var p access.Permission
	in.apply(&p, raw)
	if err := h.store.CreatePermission(c.Request().Context(), actor(c), &p); err != nil {
		return err
	}
	return created(c, toPermissionJSON(p))
}

func (h *handler) apiPermissionGet(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	p, err := h.store.PermissionByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPermissionJSON(p))
}

func (h *handler) apiPermissionUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in permissionInput
	raw, err := h.decodePermission(c, &in)
	if err != nil {
		return err
	}
	p, err := h.store.PermissionByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	in.apply(&p, raw)
	if err := h.store.UpdatePermission(c.Request().Context(), actor(c), &p); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPermissionJSON(p))
}

func (h *handler) apiPermissionDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeletePermission(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
