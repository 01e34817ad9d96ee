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
	g.POST("/access-points/:id/calibrate", h.apiAccessPointCalibrate)
	g.POST("/access-points/:id/unlock", h.apiAccessPointUnlock)
	g.POST("/access-points/:id/lock", h.apiAccessPointLock)
	g.POST("/access-points/:id/door", h.apiAccessPointDoorInput)
	g.GET("/doors", h.apiDoorList)
	g.GET("/alarm-rules", h.apiAlarmRules)
	g.PUT("/alarm-rules", h.apiAlarmRulesSet)
	g.GET("/webhooks", h.apiWebhookList)
	g.POST("/webhooks", h.apiWebhookCreate)
	g.DELETE("/webhooks/:id", h.apiWebhookDelete)
	g.GET("/site/mode", h.apiSiteMode)
	g.POST("/site/mode", h.apiSiteModeSet)

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

	g.GET("/readers", h.apiReaderList)
	g.POST("/readers", h.apiReaderCreate)
	g.DELETE("/readers/:id", h.apiReaderDelete)

	g.GET("/events", h.apiEventList)
	g.GET("/outbox", h.apiOutbox)

	g.GET("/shares", h.apiShareList)
	g.POST("/shares/:token/withdraw", h.apiShareWithdraw)

	g.GET("/settings/protocol", h.apiProtocolSettings)
	g.PUT("/settings/protocol", h.apiProtocolSettingsSave)
	g.POST("/site/key/roll", h.apiSiteKeyRoll)
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

// optID is an optional reference as JSON: null when unset.
func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func created(c echo.Context, v any) error { return c.JSON(http.StatusCreated, v) }

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

// nextCursor is a listing's "next": the cursor of the next page, or null
// on the last page, the same in every listing.
func nextCursor(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
