package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"postern/access"
)

// Sizes of the benchmark site.
const (
	benchUsers        = 10_000
	benchGroups       = 100
	benchAccessPoints = 10
	// busyDoor is the access point where half the users also have a
	// permission of their own, as at a site that grants the front door
	// person by person.
	busyDoor = 1
	// groupDoor is reached only through groups.
	groupDoor = 5
)

var (
	benchFirst = []string{"Ann", "Bob", "Carla", "Dev", "Emma", "Femi", "Grace", "Hiro", "Ines", "Jon", "Kemal", "Lena", "Mo", "Nia", "Olu", "Pia", "Raj", "Sara", "Tom", "Uma"}
	benchLast  = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright",
		"Robinson", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
		"Clarke", "Hughes", "Edwards", "Lewis", "Harris", "Martin", "Cooper", "King", "Lee", "Baker",
		"Okafor", "Nguyen", "Kowalski", "Müller", "García", "Rossi", "Silva", "Kim", "Ivanova", "Haddad"}
)

// seedBench fills s in one transaction of raw SQL: benchUsers users in two
// of benchGroups groups each, permissions for every group at two access
// points (some within a time profile), and a direct permission at busyDoor
// for every other user.
func seedBench(ctx context.Context, s *Store) error {
	return s.tx(ctx, "seed the benchmark", func(tx *sql.Tx) error {
		exec := func(q string, rows int, args func(i int) []any) error {
			st, err := tx.PrepareContext(ctx, q)
			if err != nil {
				return err
			}
			defer st.Close()
			for i := range rows {
				if _, err := st.ExecContext(ctx, args(i)...); err != nil {
					return fmt.Errorf("%s (row %d): %w", q, i, err)
				}
			}
			return nil
		}
		steps := []struct {
			q    string
			rows int
			args func(i int) []any
		}{
			{`INSERT INTO access_points (id, name, reader, mode, rssi_threshold, unlock_ms, created_at, updated_at) VALUES (?, ?, ?, 'direct', -60, 5000, 0, 0)`,
				benchAccessPoints, func(i int) []any { return []any{i + 1, fmt.Sprintf("Door %d", i+1), fmt.Sprintf("sim:door%d", i+1)} }},
			{`INSERT INTO time_profiles (id, name, windows, holidays) VALUES (?, ?, '[{"days":[1,2,3,4,5],"start":480,"end":1080}]', '["2026-12-25"]')`,
				3, func(i int) []any { return []any{i + 1, fmt.Sprintf("Profile %d", i+1)} }},
			{`INSERT INTO groups (id, name) VALUES (?, ?)`,
				benchGroups, func(i int) []any { return []any{i + 1, fmt.Sprintf("Group %03d", i+1)} }},
			{`INSERT INTO users (id, first_name, last_name, email, enabled, created_at, updated_at, sort_name, sort_email, last_used_at) VALUES (?, ?, ?, ?, 1, 0, 0, ?, ?, ?)`,
				benchUsers, func(i int) []any {
					first, last, email := benchFirst[i%len(benchFirst)], benchLast[(i*7)%len(benchLast)], fmt.Sprintf("user%d@example.com", i+1)
					return []any{i + 1, first, last, email, nameSortKey(first, last), emailSortKey(email), (i * 7919) % 100_000}
				}},
			{`INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)`,
				2 * benchUsers, func(i int) []any {
					u := i / 2
					g := u % benchGroups
					if i%2 == 1 {
						g = (u / benchGroups) % benchGroups
					}
					return []any{g + 1, u + 1}
				}},
			{`INSERT INTO permissions (group_id, access_point_id, time_profile_id) VALUES (?, ?, ?)`,
				2 * benchGroups, func(i int) []any {
					g := i / 2
					ap := g%benchAccessPoints + 1
					if i%2 == 1 {
						ap = (g+3)%benchAccessPoints + 1
					}
					return []any{g + 1, ap, nullID(int64(g % 4))} // profiles 1-3, or none
				}},
			{`INSERT INTO permissions (user_id, access_point_id) VALUES (?, ?)`,
				benchUsers / 2, func(i int) []any { return []any{2*i + 1, busyDoor} }},
		}
		for _, st := range steps {
			if err := exec(st.q, st.rows, st.args); err != nil {
				return err
			}
		}
		return nil
	})
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := seedBench(b.Context(), s); err != nil {
		b.Fatalf("seed: %v", err)
	}
	return s
}

func BenchmarkGrants(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	doors := []struct {
		name string
		ap   int64
	}{
		{"group door", groupDoor},
		{"busy door", busyDoor},
	}
	for _, d := range doors {
		b.Run(d.name, func(b *testing.B) {
			user := int64(0)
			found := 0
			for b.Loop() {
				user = user%benchUsers + 1
				g, err := s.Grants(ctx, user, d.ap)
				if err != nil {
					b.Fatal(err)
				}
				found += len(g)
			}
			if found == 0 {
				b.Fatal("got no grants at all, want some")
			}
		})
	}
}

func BenchmarkUsersPage(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	first, err := s.Users(ctx, ListOptions{Query: "smi", Limit: DefaultLimit})
	if err != nil || first.Next == "" {
		b.Fatalf("got %d users, next %q, %v; want a full first page", len(first.Items), first.Next, err)
	}
	plain, err := s.Users(ctx, ListOptions{Limit: DefaultLimit})
	if err != nil || plain.Next == "" {
		b.Fatalf("got %d users, next %q, %v; want a full first page", len(plain.Items), plain.Next, err)
	}
	second, err := s.Users(ctx, ListOptions{Limit: DefaultLimit, After: plain.Next})
	if err != nil || second.Prev == "" {
		b.Fatalf("got %d users, prev %q, %v; want a second page", len(second.Items), second.Prev, err)
	}
	byUse, err := s.Users(ctx, ListOptions{Limit: DefaultLimit, Sort: SortLastUsed, Desc: true})
	if err != nil || byUse.Next == "" {
		b.Fatalf("got %d users by last use, next %q, %v; want a full first page", len(byUse.Items), byUse.Next, err)
	}
	pages := []struct {
		name string
		o    ListOptions
	}{
		{"search", ListOptions{Query: "smi", Limit: DefaultLimit}},
		{"search next page", ListOptions{Query: "smi", Limit: DefaultLimit, After: first.Next}},
		{"first page", ListOptions{Limit: DefaultLimit}},
		{"next page", ListOptions{Limit: DefaultLimit, After: plain.Next}},
		{"previous page", ListOptions{Limit: DefaultLimit, Before: second.Prev}},
		{"by email, descending", ListOptions{Limit: DefaultLimit, Sort: SortEmail, Desc: true}},
		{"by last use, next page", ListOptions{Limit: DefaultLimit, Sort: SortLastUsed, Desc: true, After: byUse.Next}},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.Users(ctx, p.o)
				if err != nil || len(page.Items) != DefaultLimit {
					b.Fatalf("got %d users, %v, want %d", len(page.Items), err, DefaultLimit)
				}
			}
		})
	}
}

// BenchmarkRecordDecision is the reader's durable write: a decision's event
// and the use of its credential and of its user, committed with
// synchronous=FULL. Most of it is the disk's flush.
func BenchmarkRecordDecision(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	const holders = 1000
	if _, err := s.db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO credentials (id, user_id, kind, status, created_at) SELECT unhex(printf('%032x', i)), i, 'smart', 'active', 0 FROM n`, holders); err != nil {
		b.Fatal(err)
	}
	var creds []access.CredentialID
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM credentials`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			b.Fatal(err)
		}
		var id access.CredentialID
		copy(id[:], raw)
		creds = append(creds, id)
	}
	rows.Close()
	at := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		id := creds[i%len(creds)]
		e := &access.Event{At: at, Kind: "access.granted", Reason: "granted", Actor: "reader:sim:door1", UserID: int64(i%holders + 1), AccessPointID: busyDoor, CredentialID: id.String(), RSSI: -55}
		if err := s.RecordDecision(ctx, e, &id, at.Add(time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
