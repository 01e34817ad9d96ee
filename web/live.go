package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
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
	last, err := h.streamStart(c)
	if err != nil {
		return err
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
		var changed doorsChanged
		for _, e := range events {
			last = e.ID
			changed.add(e)
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
		if changed.any() {
			if err := h.pushDoors(c, w, loc, changed); err != nil {
				return nil
			}
		}
		if len(events) > 0 {
			// The browser sends it back as Last-Event-ID when it reconnects.
			fmt.Fprintf(w, "id: %d\n\n", last)
			w.Flush()
			keepalive = 0
		} else if keepalive++; keepalive >= 15 {
			fmt.Fprint(w, ": keepalive\n\n")
			w.Flush()
			keepalive = 0
		}
	}
}

// streamReplay is how old a page may be for its stream to send what came
// after the events it was read with. A browser that loads the dashboard
// connects within moments; a stream opened again long after (the
// appliance restarted, a laptop woke) starts from now, as a page of that
// age has been replaced by then or shows its gap plainly.
const streamReplay = 10 * time.Second

// streamStart is the id after which a stream sends events: the one the
// browser last received (Last-Event-ID, when it reconnects by itself),
// the one a fresh page was read at (?after=, with ?at= when it was
// served), or the newest.
func (h *handler) streamStart(c echo.Context) (int64, error) {
	newest, err := h.store.LastEventID(c.Request().Context())
	if err != nil {
		return 0, err
	}
	if n, err := strconv.ParseInt(c.Request().Header.Get("Last-Event-ID"), 10, 64); err == nil && n >= 0 && n <= newest {
		return n, nil
	}
	after, err1 := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	at, err2 := strconv.ParseInt(c.QueryParam("at"), 10, 64)
	if err1 == nil && err2 == nil && after >= 0 && after <= newest {
		if age := h.now().Sub(time.UnixMilli(at)); age >= -streamReplay && age <= streamReplay {
			return after, nil
		}
	}
	return newest, nil
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

// doorsChanged is which doors' tiles a batch of events may have changed:
// the access points of door events, or every door after a site-wide one
// (a lockdown, an evacuation).
type doorsChanged struct {
	all bool
	aps []int64
}

func (d *doorsChanged) add(e access.Event) {
	switch {
	case !changesDoors(e.Kind):
	case e.AccessPointID == 0 || strings.HasPrefix(e.Kind, "site."):
		d.all = true
	case !slices.Contains(d.aps, e.AccessPointID):
		d.aps = append(d.aps, e.AccessPointID)
	}
}

func (d doorsChanged) any() bool { return d.all || len(d.aps) > 0 }

// pushDoors sends the changed doors' tiles anew: "door-ID" carries its
// state, its contact and its buttons. At a site with a thousand doors, a
// door opening sends one tile, not a thousand.
func (h *handler) pushDoors(c echo.Context, w *echo.Response, loc *time.Location, changed doorsChanged) error {
	ctx := c.Request().Context()
	aps, err := h.store.AllAccessPoints(ctx)
	if err != nil {
		h.log.Warn("live doors", "err", err)
		return nil
	}
	if !changed.all {
		aps = slices.DeleteFunc(slices.Clone(aps), func(ap access.AccessPoint) bool { return !slices.Contains(changed.aps, ap.ID) })
	}
	doors, err := h.doorViewsOf(ctx, aps)
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
