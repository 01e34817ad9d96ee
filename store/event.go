package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"postern/access"
)

// insertEvent appends e inside the caller's transaction, so a change and its
// log line are written together or not at all.
func (s *Store) insertEvent(ctx context.Context, x querier, e *access.Event) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.Clip()
	res, err := x.ExecContext(ctx, `INSERT INTO events (at, kind, reason, actor, user_id, access_point_id, credential_id, rssi, latency_us, detail, uid, protocol)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At.UnixMilli(), e.Kind, e.Reason, e.Actor, nullID(e.UserID), nullID(e.AccessPointID), e.CredentialID, e.RSSI, e.Latency.Microseconds(), e.Detail, nullText(e.UID), e.Protocol)
	if err != nil {
		return fmt.Errorf("store: log %s event: %w", e.Kind, err)
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("store: log %s event: %w", e.Kind, err)
	}
	return nil
}

// AppendEvent writes one event. It returns once the event is committed, so
// a caller that acknowledges after it never acknowledges a lost event.
func (s *Store) AppendEvent(ctx context.Context, e *access.Event) error {
	return s.insertEvent(ctx, s.db, e)
}

// Events returns events newest first, after f.Before, narrowed by f.
func (s *Store) Events(ctx context.Context, f access.EventFilter) ([]access.Event, int64, error) {
	if len(f.Kinds) > 0 {
		return s.eventsOfKinds(ctx, f)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	var where []string
	var args []any
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	if f.UserID != 0 {
		where = append(where, "user_id = ?")
		args = append(args, f.UserID)
	}
	if f.AccessPointID != 0 {
		where = append(where, "access_point_id = ?")
		args = append(args, f.AccessPointID)
	}
	if f.Kind != "" {
		switch {
		case strings.HasSuffix(f.Kind, ".") && strings.Count(f.Kind, ".") == 1:
			// A whole family such as "access.": its own index, in id order.
			where = append(where, "family = ?")
			args = append(args, f.Kind)
		case strings.HasSuffix(f.Kind, "."):
			where = append(where, "kind >= ? AND kind < ?")
			args = append(args, f.Kind, f.Kind[:len(f.Kind)-1]+"/")
		default:
			where = append(where, "kind = ?")
			args = append(args, f.Kind)
		}
	}
	q := eventSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	events, err := queryAll(ctx, s.read, "list events", scanEvent, q, args...)
	if err != nil {
		return nil, 0, err
	}
	events, next := trimByID(events, limit, func(e access.Event) int64 { return e.ID })
	return events, next, nil
}

// eventsOfKinds is Events for several kinds: each kind's newest page by its
// own index, merged. The merged page's first limit rows are right because
// each kind's page holds that kind's first limit rows.
func (s *Store) eventsOfKinds(ctx context.Context, f access.EventFilter) ([]access.Event, int64, error) {
	var all []access.Event
	more := false
	for _, k := range f.Kinds {
		one := f
		one.Kinds, one.Kind = nil, k
		evs, next, err := s.Events(ctx, one)
		if err != nil {
			return nil, 0, err
		}
		all = append(all, evs...)
		more = more || next != 0
	}
	slices.SortFunc(all, func(a, b access.Event) int { return cmp.Compare(b.ID, a.ID) })
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	if len(all) > limit {
		all, more = all[:limit], true
	}
	if more && len(all) > 0 {
		return all, all[len(all)-1].ID, nil
	}
	return all, 0, nil
}

// EventsAfter returns events with ids above after, oldest first: what a
// live view has not shown yet.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]access.Event, error) {
	if limit <= 0 || limit > MaxLimit {
		limit = DefaultLimit
	}
	return queryAll(ctx, s.read, "list new events", scanEvent, eventSelect+` WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// LastEventID returns the newest event's id, 0 when there is none.
func (s *Store) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.read.QueryRowContext(ctx, `SELECT ifnull(max(id), 0) FROM events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: read last event id: %w", err)
	}
	return id, nil
}

// LastDecisions returns the newest access decision at each access point.
func (s *Store) LastDecisions(ctx context.Context) (map[int64]access.Event, error) {
	aps, err := s.AllAccessPoints(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64]access.Event{}
	for _, ap := range aps {
		evs, _, err := s.Events(ctx, access.EventFilter{AccessPointID: ap.ID, Kind: "access.", Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(evs) == 1 {
			out[ap.ID] = evs[0]
		}
	}
	return out, nil
}

const eventSelect = `SELECT id, at, kind, reason, actor, ifnull(user_id, 0), ifnull(access_point_id, 0), credential_id, rssi, latency_us, detail, ifnull(uid, ''), protocol,
	ifnull((SELECT trim(first_name || ' ' || last_name) FROM users WHERE users.id = events.user_id), ''),
	ifnull((SELECT name FROM access_points WHERE access_points.id = events.access_point_id), '')
	FROM events`

func scanEvent(sc scanner) (access.Event, error) {
	var e access.Event
	var at, lat int64
	err := sc.Scan(&e.ID, &at, &e.Kind, &e.Reason, &e.Actor, &e.UserID, &e.AccessPointID, &e.CredentialID, &e.RSSI, &lat, &e.Detail, &e.UID, &e.Protocol, &e.UserName, &e.AccessPointName)
	e.At = time.UnixMilli(at)
	e.Latency = time.Duration(lat) * time.Microsecond
	return e, err
}
