package web

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// pageSlots is how many admin pages and API calls are worked on at once:
// half the CPUs, at least one. The doors' decisions run on the same
// machine, and admins browsing a large site must not take it from them; a
// page waits its turn instead, which an admin barely notices.
func pageSlots() int {
	return max(1, runtime.GOMAXPROCS(0)/2)
}

// Page time, beyond the slots: beyond a burst of pageBurst, pages get at
// most pageShare of the slots' time. On a two-core gateway at 100,000
// users, four admins reloading the heaviest pages flat out
// (BenchmarkDecisionsUnderAdminLoad) see a page p95 of 22 ms with a
// quarter and 12-15 ms with 0.35, while the decisions' p99 stays within
// 2x its idle value (0.6-1.7x); with a half it reached 2x. (A quarter was
// chosen when the pages cost four times what they do now.)
//
// What pages owe is bounded by pageMaxWait of earning: one slow page (a
// cold cache after a restart, an export) must not lock the admins out for
// four times as long as it took.
const (
	pageShare   = 0.35
	pageBurst   = 50 * time.Millisecond
	pageMaxWait = time.Second
)

// pageBudget is a token bucket of page time: it fills at pageShare of the
// slots' time, up to pageBurst, and each request spends what it took. One
// admin never empties it; admins clicking as fast as they are answered do,
// and then wait for it to fill, so the doors keep the rest of the machine.
type pageBudget struct {
	mu     sync.Mutex
	now    func() time.Time
	rate   float64       // page time earned per second
	left   time.Duration // page time that may be spent now; below zero, owed
	filled time.Time     // when left was last brought up to date
}

func newPageBudget(slots int, now func() time.Time) *pageBudget {
	return &pageBudget{now: now, rate: pageShare * float64(slots), left: pageBurst}
}

// delay is how long a request must wait before it may start, 0 for none.
func (b *pageBudget) delay() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fillLocked()
	if b.left > 0 {
		return 0
	}
	return time.Duration(float64(-b.left)/b.rate) + time.Millisecond
}

// spend takes what a request took from the budget.
func (b *pageBudget) spend(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fillLocked()
	b.left = max(b.left-d, -time.Duration(b.rate*float64(pageMaxWait)))
}

func (b *pageBudget) fillLocked() {
	now := b.now()
	if !b.filled.IsZero() {
		b.left = min(pageBurst, b.left+time.Duration(float64(now.Sub(b.filled))*b.rate))
	}
	b.filled = now
}

// boundPages runs a request once the page budget allows and one of the
// page slots is free. The live streams are neither bounded nor counted:
// they wait, mostly. Downloads that may run for minutes (CSV exports)
// take their turns as they go (pageTurn.pass), so they neither hold a
// slot throughout nor escape the budget.
func (h *handler) boundPages(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Path() {
		case "/events/stream", "/users/import/:job/progress",
			"/events/export.csv", "/users/export.csv": // these take their own turns
			return next(c)
		}
		t, err := h.takeTurn(c.Request().Context())
		if err != nil {
			return err
		}
		defer t.end()
		if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead {
			defer h.pageWrites.Add(1)
		}
		return next(c)
	}
}

// pageTurn is one page's hold on a page slot, counted against the page
// budget when it ends.
type pageTurn struct {
	h     *handler
	start time.Time
	held  bool
}

// takeTurn waits until the page budget allows and a page slot is free,
// and takes it.
func (h *handler) takeTurn(ctx context.Context) (*pageTurn, error) {
	t := &pageTurn{h: h}
	return t, t.take(ctx)
}

func (t *pageTurn) take(ctx context.Context) error {
	for d := t.h.pageBudget.delay(); d > 0; d = t.h.pageBudget.delay() {
		tm := time.NewTimer(d)
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		}
	}
	select {
	case t.h.pageSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	t.held, t.start = true, time.Now()
	return nil
}

// end gives the slot back and spends the time it was held.
func (t *pageTurn) end() {
	if !t.held {
		return
	}
	t.held = false
	<-t.h.pageSlots
	t.h.pageBudget.spend(time.Since(t.start))
}

// pass ends the turn, runs send (which should only wait, as on a slow
// browser), and takes the next turn.
func (t *pageTurn) pass(ctx context.Context, send func() error) error {
	t.end()
	if err := send(); err != nil {
		return err
	}
	return t.take(ctx)
}
