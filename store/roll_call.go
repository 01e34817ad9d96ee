package store

import (
	"context"
	"time"

	"postern/access"
)

// OnSite returns the people on site: those whose last grant since since
// (the start of the day) at an entry or exit door was at an entry door,
// sorted by name. Doors that are neither, inside the site, do not count:
// passing one says nothing of whether someone left.
func (s *Store) OnSite(ctx context.Context, since time.Time) ([]access.Presence, error) {
	// SQLite's bare columns: with max(e.id), the row's other columns come
	// from the newest grant of each user.
	return queryAll(ctx, s.read, "roll call", func(sc scanner) (access.Presence, error) {
		var p access.Presence
		var at int64
		err := sc.Scan(&p.UserID, &p.UserName, &p.Email, &p.AccessPointID, &p.AccessPointName, &at)
		p.At = time.UnixMilli(at)
		return p, err
	}, `SELECT u.id, trim(u.first_name || ' ' || u.last_name), u.email, last.ap, last.name, last.at
		FROM (SELECT e.user_id AS user_id, max(e.id), e.at AS at, a.id AS ap, a.name AS name, a.direction AS direction
			FROM events e JOIN access_points a ON a.id = e.access_point_id
			WHERE e.kind = 'access.granted' AND e.user_id IS NOT NULL AND e.at >= ? AND a.direction IN ('entry', 'exit')
			GROUP BY e.user_id) last
		JOIN users u ON u.id = last.user_id
		WHERE last.direction = 'entry'
		ORDER BY u.last_name COLLATE NOCASE, u.first_name COLLATE NOCASE, u.id`, since.UnixMilli())
}
