package web

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"postern/access"
)

// dashboardFresh is how long the dashboard's reads serve every admin who
// opens it. Each reload by each admin would otherwise read the newest
// events, each shown door's last decision and its contacts again: the
// most expensive page of a large site, opened most. The page is live, so
// a copy a moment old is caught up at once: its stream starts after the
// newest event the copy had seen (dashboardData.after). Any change made
// through the store or these pages drops the copy.
const dashboardFresh = time.Second

// dashboardData is what the dashboard reads, the same for every admin.
type dashboardData struct {
	users  int
	aps    []access.AccessPoint
	shown  []access.AccessPoint // the dashboardDoors most recently used
	events []access.Event       // the newest, up to after
	last   map[int64]access.Event
	doors  []doorView
	after  int64 // the newest event id when read: the live stream goes on from it

	read    time.Time
	changes uint64 // the store's and the pages' changes when read
}

// dashboardCache keeps one dashboardData per choice of events (doors only
// or all).
type dashboardCache struct {
	mu   sync.Mutex
	data [2]*dashboardData
}

// dashboardData returns what the dashboard shows, from a copy younger
// than dashboardFresh when no change was made since it was read.
func (h *handler) dashboardData(ctx context.Context, all bool) (*dashboardData, error) {
	i := 0
	if all {
		i = 1
	}
	changes := h.store.Changes() + h.pageWrites.Load()
	h.dashboardCache.mu.Lock()
	d := h.dashboardCache.data[i]
	h.dashboardCache.mu.Unlock()
	if now := h.now(); d != nil && d.changes == changes && now.After(d.read) && now.Sub(d.read) < dashboardFresh {
		return d, nil
	}
	d, err := h.readDashboard(ctx, all)
	if err != nil {
		return nil, err
	}
	d.read, d.changes = h.now(), changes
	h.dashboardCache.mu.Lock()
	h.dashboardCache.data[i] = d
	h.dashboardCache.mu.Unlock()
	return d, nil
}

func (h *handler) readDashboard(ctx context.Context, all bool) (*dashboardData, error) {
	d := &dashboardData{}
	var err error
	// First, so that every event after it reaches the page by its stream.
	if d.after, err = h.store.LastEventID(ctx); err != nil {
		return nil, err
	}
	if d.users, err = h.store.CountUsers(ctx); err != nil {
		return nil, err
	}
	if d.aps, err = h.store.AllAccessPoints(ctx); err != nil {
		return nil, err
	}
	recent, err := h.store.LastDecisionIDs(ctx)
	if err != nil {
		return nil, err
	}
	// The most recently used first, then the others in their order by
	// name; positions are sorted, not the access points themselves.
	order := make([]int, len(d.aps))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(recent[d.aps[b].ID], recent[d.aps[a].ID]) })
	var ids []int64
	for _, i := range order[:min(len(order), dashboardDoors)] {
		d.shown = append(d.shown, d.aps[i])
		ids = append(ids, d.aps[i].ID)
	}
	f := access.EventFilter{Limit: 20, Kinds: doorFamilies}
	if all {
		f.Kinds = nil
	}
	if d.events, _, err = h.store.Events(ctx, f); err != nil {
		return nil, err
	}
	// Those written since after come by the stream.
	d.events = slices.DeleteFunc(d.events, func(e access.Event) bool { return e.ID > d.after })
	if d.last, err = h.store.LastDecisions(ctx, ids); err != nil {
		return nil, err
	}
	if d.doors, err = h.doorViewsOf(ctx, d.shown); err != nil {
		return nil, err
	}
	return d, nil
}
