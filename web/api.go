package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

func (h *handler) apiRoutes(g *echo.Group) {
	g.GET("/users", h.apiUserList)
	g.POST("/users", h.apiUserCreate)
	g.GET("/users/:id", h.apiUserGet)
	g.PATCH("/users/:id", h.apiUserUpdate)
	g.DELETE("/users/:id", h.apiUserDelete)

	g.GET("/groups", h.apiGroupList)
	g.POST("/groups", h.apiGroupCreate)
	g.GET("/groups/:id", h.apiGroupGet)
	g.PATCH("/groups/:id", h.apiGroupUpdate)
	g.DELETE("/groups/:id", h.apiGroupDelete)

	g.GET("/access-points", h.apiAccessPointList)
	g.POST("/access-points", h.apiAccessPointCreate)
	g.GET("/access-points/:id", h.apiAccessPointGet)
	g.PATCH("/access-points/:id", h.apiAccessPointUpdate)
	g.DELETE("/access-points/:id", h.apiAccessPointDelete)
	g.POST("/access-points/:id/touch", h.apiAccessPointTouch)

	g.GET("/time-profiles", h.apiTimeProfileList)
	g.POST("/time-profiles", h.apiTimeProfileCreate)
	g.GET("/time-profiles/:id", h.apiTimeProfileGet)
	g.PATCH("/time-profiles/:id", h.apiTimeProfileUpdate)
	g.DELETE("/time-profiles/:id", h.apiTimeProfileDelete)

	g.GET("/permissions", h.apiPermissionList)
	g.POST("/permissions", h.apiPermissionCreate)
	g.GET("/permissions/:id", h.apiPermissionGet)
	g.PATCH("/permissions/:id", h.apiPermissionUpdate)
	g.DELETE("/permissions/:id", h.apiPermissionDelete)

	g.GET("/events", h.apiEventList)
}

// decodeJSON reads a request body strictly: one JSON object, no unknown
// fields, so a typo in a field name is an error rather than silently ignored.
func decodeJSON(c echo.Context, v any) error {
	// The body is read as JSON whatever Content-Type says: curl -d labels
	// JSON as a form, and refusing it would only confuse.
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		var te *json.UnmarshalTypeError
		var be base64.CorruptInputError
		switch {
		case errors.As(err, &mb):
			return err
		case errors.Is(err, io.EOF):
			return errBadRequest("the body is empty: send a JSON object")
		case errors.As(err, &te) && te.Field == "":
			return errBadRequest("the body must be a JSON object, not %s", te.Value)
		case errors.As(err, &te) && te.Type == reflect.TypeFor[[]byte]():
			return errBadRequest("field %s must be a base64 string", te.Field)
		case errors.As(err, &te):
			return errBadRequest("field %s must be %s", te.Field, jsonKind(te.Type.Kind().String()))
		case errors.As(err, &be):
			// encoding/json does not say which field; these are the keys
			// and signatures of the key API.
			return errBadRequest("a field holding bytes is not base64 (standard, padded): %v", err)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return errBadRequest("%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return errBadRequest("the body is not valid JSON: %v", err)
	}
	// Anything after the object is a mistake, even a stray "}" or "]",
	// which dec.More would let through.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errBadRequest("the body must hold one JSON object")
	}
	return nil
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "bool":
		return "true or false"
	case k == "string":
		return "a string"
	case k == "slice":
		return "a list"
	}
	return "an object"
}

// listOptions reads ?limit=&after= for name-sorted listings.
func listOptions(c echo.Context) (store.ListOptions, error) {
	o := store.ListOptions{After: c.QueryParam("after"), Query: c.QueryParam("q")}
	if !store.ValidCursor(o.After) {
		return o, errBadRequest("after must be the next value of an earlier page")
	}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return o, errBadRequest("limit must be a positive whole number")
		}
		o.Limit = n
	}
	return o, nil
}

// apiTime is a timestamp that is null when zero.
func apiTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func fromAPITime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// invalidInput gathers the field errors of the checks a handler makes before
// the store into one answer, so an API client hears of every field at once.
// An error that is not about a field is returned as it is.
func invalidInput(checks ...error) error {
	var errs access.ValidationErrors
	for _, err := range checks {
		if err != nil && !errs.Merge(err) {
			return err
		}
	}
	return errs.Err()
}

func created(c echo.Context, v any) error { return c.JSON(http.StatusCreated, v) }

// ---- users

type userJSON struct {
	ID         int64      `json:"id"`
	FirstName  string     `json:"first_name"`
	LastName   string     `json:"last_name"`
	Email      string     `json:"email"`
	Enabled    bool       `json:"enabled"`
	ValidFrom  *time.Time `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until"`
	GroupIDs   []int64    `json:"group_ids,omitempty"`
	CreatedAt  *time.Time `json:"created_at"`
	UpdatedAt  *time.Time `json:"updated_at"`
}

func toUserJSON(u access.User) userJSON {
	return userJSON{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Enabled: u.Enabled,
		ValidFrom: apiTime(u.ValidFrom), ValidUntil: apiTime(u.ValidUntil), CreatedAt: apiTime(u.CreatedAt), UpdatedAt: apiTime(u.UpdatedAt)}
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
	// A null clears a date; an absent field keeps it.
	if _, ok := raw["valid_from"]; ok {
		u.ValidFrom = fromAPITime(in.ValidFrom)
	}
	if _, ok := raw["valid_until"]; ok {
		u.ValidUntil = fromAPITime(in.ValidUntil)
	}
}

// decodeInput decodes into in and also keeps which fields were present.
func decodeInput(c echo.Context, in any) (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if len(strings.TrimSpace(string(body))) > 0 && json.Unmarshal(body, &raw) != nil {
		return nil, errBadRequest("the body must be a JSON object")
	}
	c.Request().Body = io.NopCloser(strings.NewReader(string(body)))
	return raw, decodeJSON(c, in)
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
	if err := h.store.CreateUser(c.Request().Context(), actor(c), &u); err != nil {
		return err
	}
	out := toUserJSON(u)
	if in.GroupIDs != nil {
		if err := h.store.SetUserGroups(c.Request().Context(), actor(c), u.ID, *in.GroupIDs); err != nil {
			return err
		}
		out.GroupIDs = *in.GroupIDs
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
	return c.JSON(http.StatusOK, toUserJSON(u))
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

// nextCursor is a listing's "next": the cursor of the next page, or null
// on the last page, the same in every listing.
func nextCursor(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
