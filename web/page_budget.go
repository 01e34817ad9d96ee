package web

import (
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
// most pageShare of the slots' time. A quarter keeps the decisions' p99
// under four admins clicking flat out within a few times its idle value
// on a two-core gateway (BenchmarkDecisionsUnderAdminLoad); half let it
// grow to six times.
const (
	pageShare = 0.25
	pageBurst = 50 * time.Millisecond
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
	b.left -= d
}

func (b *pageBudget) fillLocked() {
	now := b.now()
	if !b.filled.IsZero() {
		b.left = min(pageBurst, b.left+time.Duration(float64(now.Sub(b.filled))*b.rate))
	}
	b.filled = now
}

// boundPages runs a request once the page budget allows and one of the
// page slots is free. The live event stream is neither bounded nor
// counted: it waits, mostly.
func (h *handler) boundPages(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Path() == "/events/stream" {
			return next(c)
		}
		ctx := c.Request().Context()
		for d := h.pageBudget.delay(); d > 0; d = h.pageBudget.delay() {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		select {
		case h.pageSlots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-h.pageSlots }()
		start := time.Now()
		defer func() { h.pageBudget.spend(time.Since(start)) }()
		return next(c)
	}
}
