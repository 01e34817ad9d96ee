package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"postern/access"
	"postern/store"
)

// eventPoll is how often the event log is read for new lines. The live
// dashboard reads it the same way: an indexed "id > last" query costs
// nothing, and whatever wrote an event (a reader, a page, the API,
// `postern admin` in another process), it is logged once, after it is
// committed, in order.
const eventPoll = 250 * time.Millisecond

// eventLog writes every committed event to the process log as one line
// with stable keys, and hands it to observe (the metrics).
type eventLog struct {
	st      *store.Store
	log     *slog.Logger
	observe func(access.Event)
	last    int64
}

// newEventLog starts after the newest event already in the database:
// what happened before this start was logged by the run that did it.
func newEventLog(ctx context.Context, st *store.Store, log *slog.Logger, observe func(access.Event)) (*eventLog, error) {
	last, err := st.LastEventID(ctx)
	if err != nil {
		return nil, err
	}
	return &eventLog{st: st, log: log, observe: observe, last: last}, nil
}

// run follows the event log until ctx ends, then reads it once more so
// the last decisions before a shutdown are logged too: call it after the
// readers have stopped writing.
func (l *eventLog) run(ctx context.Context) {
	tick := time.NewTicker(eventPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			l.drain(final)
			return
		case <-tick.C:
			l.drain(ctx)
		}
	}
}

func (l *eventLog) drain(ctx context.Context) {
	for {
		events, err := l.st.EventsAfter(ctx, l.last, 500)
		if err != nil {
			if ctx.Err() == nil {
				l.log.Warn("reading the event log", "err", err)
			}
			return
		}
		for _, e := range events {
			l.last = e.ID
			l.write(ctx, e)
			if l.observe != nil {
				l.observe(e)
			}
		}
		if len(events) < 500 {
			return
		}
	}
}

// write logs one event. The keys never change: an access event always
// has every key below, an admin change or registration always has its
// own set, so a log pipeline can rely on them; empty values stay in.
func (l *eventLog) write(ctx context.Context, e access.Event) {
	attrs := []slog.Attr{
		slog.Int64("event_id", e.ID),
		slog.String("kind", e.Kind),
		slog.String("actor", e.Actor),
	}
	if result, ok := strings.CutPrefix(e.Kind, "access."); ok {
		attrs = append(attrs,
			slog.String("result", result),
			slog.String("reason", e.Reason),
			slog.Int64("access_point_id", e.AccessPointID),
			slog.Int64("user_id", e.UserID),
			slog.String("credential_id", e.CredentialID),
			slog.Int("rssi", e.RSSI),
			slog.Float64("latency_ms", float64(e.Latency.Microseconds())/1000),
			slog.String("detail", e.Detail),
		)
		l.log.LogAttrs(ctx, slog.LevelInfo, "access", attrs...)
		return
	}
	attrs = append(attrs,
		slog.String("reason", e.Reason),
		slog.Int64("user_id", e.UserID),
		slog.Int64("access_point_id", e.AccessPointID),
		slog.String("credential_id", e.CredentialID),
		slog.String("detail", e.Detail),
	)
	l.log.LogAttrs(ctx, slog.LevelInfo, "event", attrs...)
}
