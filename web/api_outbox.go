package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

type outboxJSON struct {
	ID           int64      `json:"id"`
	CreatedAt    time.Time  `json:"created_at"`
	Kind         string     `json:"kind"`
	To           string     `json:"to"`
	Subject      string     `json:"subject"`
	Status       string     `json:"status"`
	Attempts     int        `json:"attempts"`
	NextAttempt  *time.Time `json:"next_attempt"`
	LastError    string     `json:"last_error,omitempty"`
	SentAt       *time.Time `json:"sent_at"`
	CredentialID string     `json:"credential_id,omitempty"`
}

func (h *handler) apiOutbox(c echo.Context) error {
	before, limit, err := beforeLimit(c)
	if err != nil {
		return err
	}
	items, next, err := h.store.Outbox(c.Request().Context(), before, limit)
	if err != nil {
		return err
	}
	out := make([]outboxJSON, len(items))
	for i, it := range items {
		out[i] = outboxJSON{ID: it.ID, CreatedAt: it.CreatedAt.UTC(), Kind: it.Kind, To: it.Recipient, Subject: it.Subject, Status: it.Status,
			Attempts: it.Attempts, LastError: it.LastError, SentAt: apiTime(it.SentAt), CredentialID: lowerHexID(it.CredentialID)}
		if it.Status == "queued" {
			out[i].NextAttempt = apiTime(it.NextAttempt)
		}
	}
	var cursor *string
	if next != 0 {
		s := strconv.FormatInt(next, 10)
		cursor = &s
	}
	return c.JSON(http.StatusOK, map[string]any{"outbox": out, "next": cursor, "smtp_configured": h.mailer.Configured(c.Request().Context())})
}

func beforeLimit(c echo.Context) (int64, int, error) {
	var before int64
	var limit int
	var err error
	if s := c.QueryParam("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before < 0 {
			return 0, 0, errBadRequest("before must be a positive whole number")
		}
	}
	if s := c.QueryParam("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit <= 0 {
			return 0, 0, errBadRequest("limit must be a positive whole number")
		}
	}
	return before, limit, nil
}
