package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"postern/store"
)

func (h *handler) outboxRoutes(g *echo.Group) {
	g.GET("/outbox", h.outboxList)
	g.POST("/outbox/:id/retry", h.outboxRetry)
}

type outboxView struct {
	Items      []store.OutboxItem
	Next       string
	Configured bool
	Loc        *time.Location
}

func (h *handler) outboxList(c echo.Context) error {
	before, _, err := beforeLimit(c)
	if err != nil {
		return err
	}
	items, next, err := h.store.Outbox(c.Request().Context(), before, 50)
	if err != nil {
		return err
	}
	v := outboxView{Items: items, Configured: h.mailer.Configured(c.Request().Context()), Loc: h.location(c.Request().Context())}
	if next != 0 {
		v.Next = "/outbox?" + url.Values{"before": {strconv.FormatInt(next, 10)}}.Encode()
	}
	return render(c, http.StatusOK, outboxPage(pageFor(c, "Outbox"), v))
}

func (h *handler) outboxRetry(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.RetryMail(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	h.mailer.Wake()
	return redirect(c, "/outbox?flash=saved")
}
