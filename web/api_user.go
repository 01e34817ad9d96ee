package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

type userJSON struct {
	ID         int64      `json:"id"`
	FirstName  string     `json:"first_name"`
	LastName   string     `json:"last_name"`
	Email      string     `json:"email"`
	Enabled    bool       `json:"enabled"`
	ValidFrom  *time.Time `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until"`
	GroupIDs   []int64    `json:"group_ids,omitempty"`
	// LockdownExempt: allowed in during a lockdown.
	LockdownExempt bool `json:"lockdown_exempt"`
	// AllowedOffline: let in by a remote reader offline past its lease.
	AllowedOffline bool       `json:"allowed_offline"`
	CreatedAt      *time.Time `json:"created_at"`
	UpdatedAt      *time.Time `json:"updated_at"`
	// Warnings say what was saved but may be a mistake, such as an email
	// address another user has too.
	Warnings []string `json:"warnings,omitempty"`
}

func toUserJSON(u access.User) userJSON {
	return userJSON{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Enabled: u.Enabled,
		ValidFrom: apiTime(u.ValidFrom), ValidUntil: apiTime(u.ValidUntil), LockdownExempt: u.LockdownExempt, AllowedOffline: u.AllowedOffline, CreatedAt: apiTime(u.CreatedAt), UpdatedAt: apiTime(u.UpdatedAt)}
}

// userInput is a create or a partial update: absent fields stay as they are.
type userInput struct {
	FirstName  *string    `json:"first_name"`
	LastName   *string    `json:"last_name"`
	Email      *string    `json:"email"`
	Enabled    *bool      `json:"enabled"`
	ValidFrom  *time.Time `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until"`
	GroupIDs   *[]int64   `json:"group_ids"`
	// LockdownExempt: allowed in during a lockdown.
	LockdownExempt *bool `json:"lockdown_exempt"`
	// AllowedOffline: let in by a remote reader offline past its lease.
	AllowedOffline *bool `json:"allowed_offline"`
}

func (in userInput) apply(u *access.User, raw map[string]json.RawMessage) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&u.FirstName, in.FirstName)
	set(&u.LastName, in.LastName)
	set(&u.Email, in.Email)
	if in.Enabled != nil {
		u.Enabled = *in.Enabled
	}
	if in.LockdownExempt != nil {
		u.LockdownExempt = *in.LockdownExempt
	}
	if in.AllowedOffline != nil {
		u.AllowedOffline = *in.AllowedOffline
	}
	// A null clears a date; an absent field keeps it.
	if _, ok := raw["valid_from"]; ok {
		u.ValidFrom = fromAPITime(in.ValidFrom)
	}
	if _, ok := raw["valid_until"]; ok {
		u.ValidUntil = fromAPITime(in.ValidUntil)
	}
}

func (h *handler) apiUserList(c echo.Context) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.store.Users(c.Request().Context(), o)
	if err != nil {
		return err
	}
	out := make([]userJSON, len(page.Items))
	for i, u := range page.Items {
		out[i] = toUserJSON(u)
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out, "next": nextCursor(page.Next)})
}

// emailWarnings names the other users with u's address: saved, since
// people may share one, but worth a second look.
func (h *handler) emailWarnings(c echo.Context, u access.User) ([]string, error) {
	same, err := h.store.UsersByEmail(c.Request().Context(), u.Email)
	var out []string
	for _, o := range same {
		if o.ID != u.ID {
			out = append(out, fmt.Sprintf("email: also the address of user %d (%s)", o.ID, o.Name()))
		}
	}
	return out, err
}

// checkGroupIDs refuses ids that name no group before anything is stored,
// so that a create or update with a bad group_ids is not left half done.
func (h *handler) checkGroupIDs(c echo.Context, ids *[]int64) error {
	if ids == nil {
		return nil
	}
	for _, id := range *ids {
		_, err := h.store.GroupByID(c.Request().Context(), id)
		if errors.Is(err, access.ErrNotFound) {
			return access.Invalid("group_ids", "there is no group %d", id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (h *handler) apiUserCreate(c echo.Context) error {
	var in userInput
	raw, err := decodeInput(c, &in)
	if err != nil {
		return err
	}
	u := access.User{Enabled: true}
	in.apply(&u, raw)
	if err := invalidInput(validateDraft(u), h.checkGroupIDs(c, in.GroupIDs)); err != nil {
		return err
	}
	var groups []int64
	if in.GroupIDs != nil {
		groups = *in.GroupIDs
	}
	if err := h.store.CreateUserInGroups(c.Request().Context(), actor(c), &u, groups); err != nil {
		return err
	}
	out := toUserJSON(u)
	out.GroupIDs = groups
	if out.Warnings, err = h.emailWarnings(c, u); err != nil {
		return err
	}
	return created(c, out)
}

func (h *handler) apiUserGet(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	u, err := h.store.UserByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	groups, err := h.store.UserGroups(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out := toUserJSON(u)
	out.GroupIDs = []int64{}
	for _, g := range groups {
		out.GroupIDs = append(out.GroupIDs, g.ID)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handler) apiUserUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in userInput
	raw, err := decodeInput(c, &in)
	if err != nil {
		return err
	}
	u, err := h.store.UserByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	in.apply(&u, raw)
	if err := invalidInput(validateDraft(u), h.checkGroupIDs(c, in.GroupIDs)); err != nil {
		return err
	}
	if err := h.store.UpdateUser(c.Request().Context(), actor(c), &u); err != nil {
		return err
	}
	if in.GroupIDs != nil {
		if err := h.store.SetUserGroups(c.Request().Context(), actor(c), u.ID, *in.GroupIDs); err != nil {
			return err
		}
	}
	out := toUserJSON(u)
	if in.Email != nil {
		if out.Warnings, err = h.emailWarnings(c, u); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handler) apiUserDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteUser(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
