package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

type eventJSON struct {
	ID            int64     `json:"id"`
	At            time.Time `json:"at"`
	Kind          string    `json:"kind"`
	Reason        string    `json:"reason,omitempty"`
	Actor         string    `json:"actor,omitempty"`
	UserID        *int64    `json:"user_id,omitempty"`
	AccessPointID *int64    `json:"access_point_id,omitempty"`
	CredentialID  string    `json:"credential_id,omitempty"`
	RSSI          int       `json:"rssi,omitempty"`
	LatencyMS     float64   `json:"latency_ms,omitempty"`
	Detail        string    `json:"detail,omitempty"`
	// Protocol is how a presentation was made: v1, v2, v2 expedited or v2
	// passkey.
	Protocol string `json:"protocol,omitempty"`
}

func toEventJSON(e access.Event) eventJSON {
	return eventJSON{ID: e.ID, At: e.At.UTC(), Kind: e.Kind, Reason: e.Reason, Actor: e.Actor, UserID: optID(e.UserID),
		AccessPointID: optID(e.AccessPointID), CredentialID: e.CredentialID, RSSI: e.RSSI,
		LatencyMS: float64(e.Latency.Microseconds()) / 1000, Detail: e.Detail, Protocol: e.Protocol}
}

func (h *handler) apiEventList(c echo.Context) error {
	f, _, err := h.readEventFilter(c, false)
	if err != nil {
		return err
	}
	if f.Limit > store.MaxLimit {
		f.Limit = store.MaxLimit
	}
	events, next, err := h.store.Events(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]eventJSON, len(events))
	for i, e := range events {
		out[i] = toEventJSON(e)
	}
	var cursor *string
	if next != 0 {
		s := strconv.FormatInt(next, 10)
		cursor = &s
	}
	return c.JSON(http.StatusOK, map[string]any{"events": out, "next": cursor})
}
