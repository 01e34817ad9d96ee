package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"postern/access"
)

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertEvent appends e inside the caller's transaction, so a change and its
// log line are written together or not at all.
func (s *Store) insertEvent(ctx context.Context, x execer, e *access.Event) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	res, err := x.ExecContext(ctx, `INSERT INTO events (at, kind, reason, actor, user_id, access_point_id, credential_id, rssi, latency_us, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At.UnixMilli(), e.Kind, e.Reason, e.Actor, nullID(e.UserID), nullID(e.AccessPointID), e.CredentialID, e.RSSI, e.Latency.Microseconds(), e.Detail)
	if err != nil {
		return err
	}
	e.ID, err = res.LastInsertId()
	return err
}

// AppendEvent writes one event. It returns once the event is committed, so
// a caller that acknowledges after it never acknowledges a lost event.
func (s *Store) AppendEvent(ctx context.Context, e *access.Event) error {
	return s.insertEvent(ctx, s.db, e)
}

// Events returns events newest first, after f.Before, narrowed by f.
func (s *Store) Events(ctx context.Context, f access.EventFilter) ([]access.Event, int64, error) {
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
		if strings.HasSuffix(f.Kind, ".") {
			where = append(where, "kind >= ? AND kind < ?")
			args = append(args, f.Kind, f.Kind[:len(f.Kind)-1]+"/")
		} else {
			where = append(where, "kind = ?")
			args = append(args, f.Kind)
		}
	}
	q := `SELECT id, at, kind, reason, actor, ifnull(user_id, 0), ifnull(access_point_id, 0), credential_id, rssi, latency_us, detail,
		ifnull((SELECT first_name || ' ' || last_name FROM users WHERE users.id = events.user_id), ''),
		ifnull((SELECT name FROM access_points WHERE access_points.id = events.access_point_id), '')
		FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	events := []access.Event{}
	for rows.Next() {
		var e access.Event
		var at, lat int64
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Reason, &e.Actor, &e.UserID, &e.AccessPointID, &e.CredentialID, &e.RSSI, &lat, &e.Detail, &e.UserName, &e.AccessPointName); err != nil {
			return nil, 0, err
		}
		e.At = time.UnixMilli(at)
		e.Latency = time.Duration(lat) * time.Microsecond
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(events) > limit {
		events = events[:limit]
		next = events[limit-1].ID
	}
	return events, next, nil
}
