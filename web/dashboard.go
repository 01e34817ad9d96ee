package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

// Readers reports how access points' readers are doing on this gateway;
// the reader manager (ble.Manager) is one.
type Readers interface {
	ReaderState(ap access.AccessPoint) access.ReaderState
}

// dashboardView is the dashboard: counts, a tile per access point and the
// newest events.
type dashboardView struct {
	Users            int
	AccessPointCount int
	Tiles            []accessPointTile // the access points shown
	Events           []access.Event
	// After is the newest event id the page was read at: its live stream
	// sends what came after.
	After int64
	Now   time.Time
	// All shows every event; the dashboard shows door events unless asked.
	All       bool
	Loc       *time.Location
	PlainHTTP bool // this page crossed the network unencrypted
}

// accessPointTile is what the dashboard says about one access point. Each
// thing it reports (its door, its reader, its last decision) is a field of
// its own, so the tile can grow without the page changing shape.
type accessPointTile struct {
	AP access.AccessPoint
	// Door is its door's state, contact and buttons; nil when the doors
	// could not say.
	Door *doorView
	// Reader is how its reader is doing; empty when this server runs no
	// readers.
	Reader access.ReaderState
	// Last is its newest door event; zero when there is none.
	Last access.Event
}

// showAll reads the dashboard's and the live stream's choice between door
// events (the default) and every event.
func showAll(c echo.Context) bool {
	return c.QueryParam("show") == "all"
}

// dashboardDoors bounds the access points the dashboard shows, the most
// recently used first: at a site with a thousand doors the page stays a
// page's work, and the access points page lists them all.
const dashboardDoors = 24

func (h *handler) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := h.dashboardData(ctx, showAll(c))
	if err != nil {
		return err
	}
	v := dashboardView{Users: d.users, AccessPointCount: len(d.aps), Events: d.events, After: d.after, Now: h.now(), All: showAll(c), Loc: h.location(ctx), PlainHTTP: h.tls.PlainOnNetwork && !h.secure(c)}
	doors, last, shown := d.doors, d.last, d.shown
	byAP := map[int64]*doorView{}
	for i := range doors {
		byAP[doors[i].AP.ID] = &doors[i]
	}
	for _, ap := range shown {
		t := accessPointTile{AP: ap, Door: byAP[ap.ID], Last: last[ap.ID]}
		if h.readers != nil {
			t.Reader = h.readers.ReaderState(ap)
		}
		v.Tiles = append(v.Tiles, t)
	}
	return render(c, http.StatusOK, dashboardPage(pageFor(c, "Dashboard"), v))
}
