package web

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"postern/access"
	"postern/store"
)

// Refused attempts by callers with no session or token (a wrong password,
// a bad registration code, a request over the rate limit) are what an
// admin wants to see, and what a flood would fill the log with. The first
// refusalsLogged of each refusalWindow are events of their own; the rest
// are counted and written as one summary event when the window ends. A
// flood therefore adds a few events a minute whatever its size.
const (
	refusalWindow  = time.Minute
	refusalsLogged = 20
	// kindRefusals is the summary event's kind.
	kindRefusals = "refused.summary"
)

// refusalWords name each kind of refusal in a summary.
var refusalWords = map[string]string{
	"admin.login_failed":          "failed sign-ins",
	"admin.login_limited":         "sign-ins over the rate limit",
	"registration.failed":         "failed key registrations",
	"share.failed":                "refused share requests",
	"credential.migration_failed": "refused key migrations",
	"key.limited":                 "key requests over the rate limit",
}

// refusalLog logs refusals, or counts them once a window's share is used.
type refusalLog struct {
	store    *store.Store
	log      *slog.Logger
	now      func() time.Time
	location func(context.Context) *time.Location

	mu      sync.Mutex
	start   time.Time      // the current window's start
	logged  int            // events written in it
	counted map[string]int // refusals only counted in it, by kind
}

// record writes e as an event while the window's share lasts, and counts
// it after that.
func (r *refusalLog) record(ctx context.Context, e *access.Event) {
	r.note(ctx, e.Kind, e)
}

// count counts a refusal of kind without logging it one by one: requests
// over a rate limit are a flood's bulk and say nothing each.
func (r *refusalLog) count(ctx context.Context, kind string) {
	r.note(ctx, kind, nil)
}

func (r *refusalLog) note(ctx context.Context, kind string, e *access.Event) {
	r.mu.Lock()
	summary := r.roll(false)
	if e != nil && r.logged < refusalsLogged {
		r.logged++
	} else {
		r.counted[kind]++
		e = nil
	}
	r.mu.Unlock()
	r.write(ctx, summary)
	r.write(ctx, e)
}

// flush writes the summary of a window that has ended. The server calls it
// every window, and every unauthenticated request does, so the last one of
// a flood is not left unwritten.
func (r *refusalLog) flush(ctx context.Context) {
	r.mu.Lock()
	summary := r.roll(false)
	r.mu.Unlock()
	r.write(ctx, summary)
}

// run flushes every window until stop is closed, then once more.
func (r *refusalLog) run(stop <-chan struct{}) {
	t := time.NewTicker(refusalWindow)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			r.flush(context.Background())
		case <-stop:
			r.mu.Lock()
			summary := r.roll(true)
			r.mu.Unlock()
			r.write(context.Background(), summary)
			return
		}
	}
}

// roll starts a new window when the current one has ended (or, with end,
// at once), returning the summary event of the one that ended, if anything
// in it was only counted. The caller holds mu.
func (r *refusalLog) roll(end bool) *access.Event {
	now := r.now()
	if !end && !r.start.IsZero() && now.Sub(r.start) < refusalWindow {
		return nil
	}
	var summary *access.Event
	if len(r.counted) > 0 {
		summary = r.summary(r.start, now)
	}
	r.start, r.logged, r.counted = now, 0, map[string]int{}
	return summary
}

func (r *refusalLog) summary(from, to time.Time) *access.Event {
	total := 0
	var parts []string
	for kind, n := range r.counted {
		total += n
		words := refusalWords[kind]
		if words == "" {
			words = kind
		}
		parts = append(parts, fmt.Sprintf("%s %d", words, n))
	}
	sort.Strings(parts)
	loc := r.location(context.Background())
	return &access.Event{
		Kind: kindRefusals, Actor: "system", Reason: "too many to log one by one",
		Detail: fmt.Sprintf("%d more refused attempts between %s and %s: %s", total,
			from.In(loc).Format("15:04:05"), to.In(loc).Format("15:04:05"), strings.Join(parts, ", ")),
	}
}

func (r *refusalLog) write(ctx context.Context, e *access.Event) {
	if e == nil {
		return
	}
	if err := r.store.AppendEvent(ctx, e); err != nil {
		r.log.Warn("logging a refused attempt", "kind", e.Kind, "err", err)
	}
}
