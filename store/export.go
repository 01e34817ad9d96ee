package store

import (
	"context"
	"fmt"
	"strings"

	"postern/access"
)

// exportBatch is how many rows an export reads per query: each read is
// short, so it holds back neither the writer's checkpoints nor memory,
// whatever the size of what is exported.
const exportBatch = 1000

// EachEvent calls fn with every event f matches, oldest first. It reads by
// id in batches, one event at a time, so a million events never sit in
// memory together. Events logged after it starts are left out: the export
// is the log as it was when asked for. fn must not keep e.
func (s *Store) EachEvent(ctx context.Context, f access.EventFilter, fn func(e *access.Event) error) error {
	last, err := s.LastEventID(ctx)
	if err != nil {
		return err
	}
	where, args := eventWhere(f)
	where = append(where, "id > ?", "id <= ?")
	q := eventSelect + " WHERE " + strings.Join(where, " AND ") + " ORDER BY id LIMIT ?"
	var after int64
	for {
		n := 0
		err := eachRow(ctx, s, "export events", q, append(args, after, last, exportBatch), func(sc scanner) error {
			e, err := scanEvent(sc)
			if err != nil {
				return err
			}
			n++
			after = e.ID
			return fn(&e)
		})
		if err != nil || n < exportBatch {
			return err
		}
	}
}

// CountEvents returns how many events f matches, for an export's progress.
func (s *Store) CountEvents(ctx context.Context, f access.EventFilter) (int, error) {
	where, args := eventWhere(f)
	q := "SELECT count(*) FROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	var n int
	if err := s.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count events: %w", err)
	}
	return n, nil
}

// UserRow is a user with the names of their groups, as exported.
type UserRow struct {
	access.User
	Groups []string
}

// EachUser calls fn with every user sorted by id, with their groups, in
// batches as EachEvent reads events.
func (s *Store) EachUser(ctx context.Context, fn func(u *UserRow) error) error {
	q := `SELECT ` + userColumns + `, ifnull((SELECT group_concat(name, char(31)) FROM (SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id
		WHERE m.user_id = users.id ORDER BY g.name)), '') FROM users WHERE id > ? ORDER BY id LIMIT ?`
	var after int64
	for {
		n := 0
		err := eachRow(ctx, s, "export users", q, []any{after, exportBatch}, func(sc scanner) error {
			var groups string
			var r UserRow
			var err error
			r.User, err = scanUser(groupScanner{sc, &groups})
			if err != nil {
				return err
			}
			if groups != "" {
				r.Groups = strings.Split(groups, "\x1f")
			}
			n++
			after = r.ID
			return fn(&r)
		})
		if err != nil || n < exportBatch {
			return err
		}
	}
}

// groupScanner scans a user's columns and then one more, the groups.
type groupScanner struct {
	sc     scanner
	groups *string
}

func (g groupScanner) Scan(dest ...any) error { return g.sc.Scan(append(dest, g.groups)...) }

// eachRow runs q on the read pool and calls fn for each row.
func eachRow(ctx context.Context, s *Store, op, q string, args []any, fn func(scanner) error) error {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return nil
}
