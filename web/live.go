package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"postern/access"
)

// livePoll is how often the live view looks for new events. Polling an
// indexed "id > last" query is cheap and needs no broker between the reader
// loop and the pages: whatever writes an event, the dashboard shows it.
const livePoll = time.Second

// liveWriteTimeout bounds each write to a live stream. The server's own
// read and write timeouts would end a stream that is meant to stay open,
// so the stream lifts them and sets this one before every write instead:
// a browser that stops reading is let go, one that reads stays (a
// keep-alive comment goes out every 15 s).
const liveWriteTimeout = 30 * time.Second

// eventStream is a Server-Sent Events feed of new events for the dashboard:
// "access-row" carries a table row for every new door event (every new
// event with ?show=all), "ap-ID" the last result of access point ID, and
// "door-ID" its door's tile when a door may have changed.
func (h *handler) eventStream(c echo.Context) error {
	ctx := c.Request().Context()
	last, err := h.store.LastEventID(ctx)
	if err != nil {
		return err
	}
	if s := c.QueryParam("after"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
			last = n
		}
	}
	w := c.Response()
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	extend := func() { rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout)) }
	extend()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": postern live events\n\n")
	w.Flush()
	loc := h.location(ctx)
	all := showAll(c)
	tick := time.NewTicker(livePoll)
	defer tick.Stop()
	keepalive := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.stop:
			return nil
		case <-tick.C:
		}
		events, err := h.store.EventsAfter(ctx, last, 100)
		if err != nil {
			h.log.Warn("live events", "err", err)
			return nil
		}
		extend()
		doorsChanged := false
		for _, e := range events {
			last = e.ID
			doorsChanged = doorsChanged || changesDoors(e.Kind)
			if !all && !isDoorEvent(e) {
				continue
			}
			if err := sseComponent(w, "access-row", eventRows([]access.Event{e}, loc)); err != nil {
				return nil
			}
			if isDecision(e) && e.AccessPointID != 0 {
				if err := sseComponent(w, "ap-"+strconv.FormatInt(e.AccessPointID, 10), lastResult(e, loc)); err != nil {
					return nil
				}
			}
		}
		if doorsChanged {
			if err := h.pushDoors(c, w, loc); err != nil {
				return nil
			}
		}
		if len(events) > 0 {
			w.Flush()
			keepalive = 0
		} else if keepalive++; keepalive >= 15 {
			fmt.Fprint(w, ": keepalive\n\n")
			w.Flush()
			keepalive = 0
		}
	}
}

// sseComponent renders cmp and writes it as one SSE message; SSE data
// cannot hold a bare newline, so each line gets its own data field.
func sseComponent(w *echo.Response, name string, cmp templ.Component) error {
	var buf bytes.Buffer
	if err := cmp.Render(context.Background(), &buf); err != nil {
		return err
	}
	fmt.Fprintf(w, "event: %s\n", name)
	for _, line := range strings.Split(buf.String(), "\n") {
		fmt.Fprintf(w, "data: %s\n", line)
	}
	_, err := fmt.Fprint(w, "\n")
	return err
}

// changesDoors reports whether an event of kind may change a door's state
// or contact as the dashboard shows them.
func changesDoors(kind string) bool {
	return strings.HasPrefix(kind, "door.") || strings.HasPrefix(kind, "site.") || strings.HasPrefix(kind, "access_point.")
}

// pushDoors sends every door's tile anew: "door-ID" carries its state, its
// contact and its buttons.
func (h *handler) pushDoors(c echo.Context, w *echo.Response, loc *time.Location) error {
	doors, err := h.doorViews(c.Request().Context())
	if err != nil {
		h.log.Warn("live doors", "err", err)
		return nil
	}
	p := pageFor(c, "")
	for _, d := range doors {
		if err := sseComponent(w, "door-"+strconv.FormatInt(d.AP.ID, 10), doorControls(p, d, loc, "dashboard")); err != nil {
			return err
		}
	}
	return nil
}
