package store

import (
	"context"
	"fmt"
	"time"
)

// Population is the size of a made-up site for load tests and benchmarks.
type Population struct {
	Users        int // each in one group, each with an active credential
	Groups       int
	AccessPoints int // "Door 1" on sim:door1 …; door 1 is the busy front door
	Events       int // past decisions and the odd admin change
}

// Populate fills an empty site with made-up people, doors, permissions and
// history, in one transaction of SQL that generates the rows inside SQLite,
// so a million events take seconds, not hours of API calls. It is for load
// tests (postern bench) and benchmarks: the credentials' keys are random
// bytes, so none of them can present.
//
// Every group reaches one door at any time and every other group also the
// front door within a time profile; every tenth user has a permission of
// their own at the front door.
func (s *Store) Populate(ctx context.Context, p Population) error {
	if p.Groups < 1 || p.AccessPoints < 1 {
		return fmt.Errorf("store: populate: want at least one group and one access point")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: populate: %w", err)
	}
	defer conn.Close()
	// Rows by the million: the change feed need not hear of each. The
	// policy is read afresh below instead.
	s.changes.setQuiet(true)
	defer s.changes.setQuiet(false)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: populate: %w", err)
	}
	defer tx.Rollback()
	var existing int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM groups) + (SELECT count(*) FROM access_points) + (SELECT count(*) FROM time_profiles)`).Scan(&existing); err != nil {
		return fmt.Errorf("store: populate: %w", err)
	}
	if existing > 0 {
		return fmt.Errorf("store: populate: the site is not empty")
	}
	// n counts 1..?: each step below generates its rows from it.
	const n = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) `
	steps := []struct {
		q    string
		args []any
	}{
		{n + `INSERT INTO access_points (name, reader, mode, rssi_threshold, unlock_ms, created_at, updated_at)
			SELECT 'Door ' || i, 'sim:door' || i, 'direct', -60, 5000, 0, 0 FROM n`, []any{p.AccessPoints}},
		{n + `INSERT INTO time_profiles (name, windows, holidays)
			SELECT 'Profile ' || i, '[{"days":[1,2,3,4,5],"start":480,"end":1080}]', '["2026-12-25"]' FROM n`, []any{3}},
		{n + `INSERT INTO groups (name) SELECT 'Group ' || i FROM n`, []any{p.Groups}},
		{n + `INSERT INTO users (first_name, last_name, email, enabled, created_at, updated_at, sort_name, sort_email)
			SELECT 'First' || (i % 997), 'Last' || (i % 991), 'user' || i || '@example.com', 1, 0, 0,
				postern_name_sort_key('First' || (i % 997), 'Last' || (i % 991)), postern_email_sort_key('user' || i || '@example.com') FROM n`, []any{p.Users}},
		// The rows above are the first of their tables: ids count from 1.
		{n + `INSERT INTO group_members (group_id, user_id) SELECT (i - 1) % ? + 1, i FROM n`, []any{p.Users, p.Groups}},
		{n + `INSERT INTO credentials (id, user_id, kind, status, tap_key, uv_key, device_info, created_at, registered_at)
			SELECT randomblob(16), i, 'smart', 'active', randomblob(65), randomblob(65), 'made up', 0, 0 FROM n`, []any{p.Users}},
		{n + `INSERT INTO permissions (group_id, access_point_id) SELECT i, (i - 1) % ? + 1 FROM n`, []any{p.Groups, p.AccessPoints}},
		{n + `INSERT INTO permissions (group_id, access_point_id, time_profile_id) SELECT i, 1, i % 3 + 1 FROM n WHERE i % 2 = 0`, []any{p.Groups}},
		{n + `INSERT INTO permissions (user_id, access_point_id) SELECT i, 1 FROM n WHERE i % 10 = 1`, []any{p.Users}},
		// Decisions at every door, a tenth of them denials, with the odd
		// admin change in between, one a minute up to now.
		{n + `INSERT INTO events (at, kind, reason, actor, user_id, access_point_id, credential_id, rssi, latency_us, detail)
			SELECT ? + i * 60000,
				CASE WHEN i % 100 = 0 THEN 'user.updated' WHEN i % 10 = 0 THEN 'access.denied' ELSE 'access.granted' END,
				CASE WHEN i % 100 = 0 THEN '' WHEN i % 10 = 0 THEN 'no permission' ELSE 'granted' END,
				CASE WHEN i % 100 = 0 THEN 'admin:ann@example.com' ELSE 'reader:sim:door' || (i % ? + 1) END,
				(i * 7919) % ? + 1,
				CASE WHEN i % 100 = 0 THEN NULL ELSE i % ? + 1 END,
				lower(hex(randomblob(16))), -50 - i % 30, 2000 + i % 5000, ''
			FROM n`, []any{p.Events, s.now().Add(-time.Duration(p.Events) * time.Minute).UnixMilli(), p.AccessPoints, max(p.Users, 1), p.AccessPoints}},
	}
	for i, st := range steps {
		if st.args[0] == 0 {
			continue // n would still count one
		}
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("store: populate: step %d: %w", i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: populate: %w", err)
	}
	// Read whole again on next use.
	s.policy.Store(nil)
	return nil
}
