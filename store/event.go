package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
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
	where, args := eventWhere(f)
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
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

// eventWhere turns a filter, but for its cursor and limit, into SQL
// conditions, one for each field set.
func eventWhere(f access.EventFilter) ([]string, []any) {
	var where []string
	var args []any
	if f.UserID != 0 {
		where = append(where, "user_id = ?")
		args = append(args, f.UserID)
	}
	if q := ftsQuery(f.Who); q != "" {
		where = append(where, "user_id IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ?)")
		args = append(args, q)
	}
	if f.AccessPointID != 0 {
		where = append(where, "access_point_id = ?")
		args = append(args, f.AccessPointID)
	}
	if !f.From.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		where = append(where, "at < ?")
		args = append(args, f.To.UnixMilli())
	}
	kinds := f.Kinds
	if len(kinds) == 0 && f.Kind != "" {
		kinds = []string{f.Kind}
	}
	var anyOf []string
	for _, k := range kinds {
		switch {
		case strings.HasSuffix(k, ".") && strings.Count(k, ".") == 1:
			// A whole family such as "access.": its own index, in id order.
			anyOf = append(anyOf, "family = ?")
			args = append(args, k)
		case strings.HasSuffix(k, "."):
			anyOf = append(anyOf, "kind >= ? AND kind < ?")
			args = append(args, k, k[:len(k)-1]+"/")
		default:
			anyOf = append(anyOf, "kind = ?")
			args = append(args, k)
		}
	}
	switch len(anyOf) {
	case 0:
	case 1:
		where = append(where, anyOf[0])
	default:
		where = append(where, "(("+strings.Join(anyOf, ") OR (")+"))")
	}
	return where, args
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

// LastDecisions returns the newest access event at each of the access
// points ids.
//
// The dashboard asks for it on every load, and a site may have a thousand
// doors: the store keeps the id of each door's newest access event, folds
// in the events written since it last looked (an id range, since the log
// is append-only, whoever wrote them) and reads only the events asked for.
func (s *Store) LastDecisions(ctx context.Context, ids []int64) (map[int64]access.Event, error) {
	newest, err := s.lastDecisions.refresh(ctx, s.read)
	if err != nil {
		return nil, err
	}
	var want []int64
	for _, id := range ids {
		if e, ok := newest[id]; ok {
			want = append(want, e)
		}
	}
	out := map[int64]access.Event{}
	if len(want) == 0 {
		return out, nil
	}
	events, err := queryAll(ctx, s.read, "list last decisions", scanEvent, eventSelect+` WHERE id IN `+inJSON, jsonIDs(want))
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		out[e.AccessPointID] = e
	}
	return out, nil
}

// LastDecisionIDs returns, for every access point with one, the id of its
// newest access event; a larger id is a more recent decision.
func (s *Store) LastDecisionIDs(ctx context.Context) (map[int64]int64, error) {
	newest, err := s.lastDecisions.refresh(ctx, s.read)
	if err != nil {
		return nil, err
	}
	return newest, nil
}

// decisionKinds are the kinds of the "access." family: the decisions and
// the keys refused before one.
var decisionKinds = []string{"access.granted", "access.denied", "access.rejected"}

// lastDecisions is the id of the newest access event at each access point,
// as of event upTo.
type lastDecisions struct {
	mu     sync.Mutex
	upTo   int64
	newest map[int64]int64 // access point → event id; nil until first read
}

// refresh folds in the access events written since the last call and
// returns a copy of the map.
func (l *lastDecisions) refresh(ctx context.Context, db *sql.DB) (map[int64]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The newest event first, then what came before it: events are
	// appended in id order by one writer, so nothing can fall between.
	var upTo int64
	if err := db.QueryRowContext(ctx, `SELECT ifnull(max(id), 0) FROM events`).Scan(&upTo); err != nil {
		return nil, fmt.Errorf("store: list last decisions: %w", err)
	}
	var rows *sql.Rows
	var err error
	if l.newest == nil {
		// Each door's newest decision: one index seek per kind. It may
		// see decisions after upTo; folding them in again next time
		// leaves the same newest.
		rows, err = db.QueryContext(ctx, `SELECT a.id, `+newestOfKinds("a.id", decisionKinds)+` FROM access_points a`)
	} else {
		rows, err = db.QueryContext(ctx, `SELECT access_point_id, id FROM events WHERE id > ? AND id <= ? AND family = 'access.' AND access_point_id IS NOT NULL ORDER BY id`, l.upTo, upTo)
	}
	if err != nil {
		return nil, fmt.Errorf("store: list last decisions: %w", err)
	}
	newest := l.newest
	if newest == nil {
		newest = map[int64]int64{}
	}
	if err := scanPairs(rows, newest); err != nil {
		return nil, fmt.Errorf("store: list last decisions: %w", err)
	}
	l.newest, l.upTo = newest, upTo
	return maps.Clone(newest), nil
}

// scanPairs reads (access point, event id) rows into m, later rows winning;
// a NULL event id is no decision yet.
func scanPairs(rows *sql.Rows, m map[int64]int64) error {
	defer rows.Close()
	for rows.Next() {
		var ap int64
		var id sql.NullInt64
		if err := rows.Scan(&ap, &id); err != nil {
			return err
		}
		if id.Valid {
			m[ap] = id.Int64
		}
	}
	return rows.Err()
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
