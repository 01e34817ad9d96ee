package store

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"postern/access"
)

// openRaw opens the database file in dir without migrating it, so a test can
// build it at an older schema version.
func openRaw(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)")
	if err != nil {
		t.Fatalf("open raw: %v", err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatalf("read user_version: %v", err)
	}
	return v
}

// schema returns the CREATE statements of every table, index and trigger.
func schema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT type || ' ' || name || ': ' || ifnull(sql, '') FROM sqlite_schema ORDER BY type, name")
	if err != nil {
		t.Fatalf("read schema: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("read schema: %v", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema: %v", err)
	}
	return out
}

func hasTable(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", name).Scan(&n); err != nil {
		t.Fatalf("look up table %s: %v", name, err)
	}
	return n == 1
}

func openMigrated(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// farFuture is an expiry no test clock reaches.
var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// versionRows are rows that are valid once a schema version is reached,
// written with raw SQL as that version's code would have, and the checks
// that they survive the later migrations and read back through the store.
var versionRows = []struct {
	version int
	tables  []string
	seed    []string
	check   func(t *testing.T, s *Store)
}{
	{
		version: 1,
		tables:  []string{"settings", "admins", "sessions", "api_tokens"},
		seed: []string{
			`INSERT INTO settings (key, value) VALUES ('site_name', 'Main office')`,
			`INSERT INTO admins (id, email, password_hash, created_at) VALUES (1, 'ann@example.com', 'hash', 1000)`,
			fmt.Sprintf(`INSERT INTO sessions (token_hash, admin_id, csrf, created_at, expires_at) VALUES (x'%x', 1, 'csrf-1', 1000, %d)`, hashToken("session-1"), farFuture),
			fmt.Sprintf(`INSERT INTO api_tokens (admin_id, name, token_hash, created_at) VALUES (1, 'ci', x'%x', 1000)`, hashToken("api-1")),
		},
		check: func(t *testing.T, s *Store) {
			ctx := t.Context()
			if got, err := s.Setting(ctx, "site_name", ""); err != nil || got != "Main office" {
				t.Errorf("setting: got %q, %v, want %q", got, err, "Main office")
			}
			if got, err := s.AdminByEmail(ctx, "ann@example.com"); err != nil || got.ID != 1 || got.PasswordHash != "hash" {
				t.Errorf("admin: got %+v, %v, want id 1 with its hash", got, err)
			}
			if got, err := s.SessionByToken(ctx, "session-1"); err != nil || got.AdminID != 1 || got.CSRF != "csrf-1" {
				t.Errorf("session: got %+v, %v, want admin 1 with csrf-1", got, err)
			}
			if got, err := s.AdminByAPIToken(ctx, "api-1"); err != nil || got.ID != 1 {
				t.Errorf("api token: got %+v, %v, want admin 1", got, err)
			}
		},
	},
	{
		version: 2,
		tables:  []string{"users", "users_fts", "groups", "group_members", "access_points", "time_profiles", "permissions"},
		seed: []string{
			`INSERT INTO users (id, first_name, last_name, email, enabled, created_at, updated_at) VALUES (1, 'Grace', 'Hopper', 'grace@example.com', 1, 1000, 1000)`,
			`INSERT INTO users (id, first_name, last_name, email, enabled, created_at, updated_at) VALUES (2, 'Temp', 'Worker49', '', 1, 1000, 1000), (3, 'Temp', 'Worker5', 'T5@example.com', 1, 1000, 1000)`,
			`INSERT INTO groups (id, name) VALUES (1, 'Staff')`,
			`INSERT INTO group_members (group_id, user_id) VALUES (1, 1)`,
			`INSERT INTO access_points (id, name, reader, mode, rssi_threshold, unlock_ms, created_at, updated_at) VALUES (1, 'Front', 'sim:front', 'direct', -60, 5000, 1000, 1000)`,
			`INSERT INTO time_profiles (id, name, windows, holidays) VALUES (1, 'Office', '[{"days":[1,2,3,4,5],"start":480,"end":1080}]', '["2026-12-25"]')`,
			`INSERT INTO permissions (id, group_id, access_point_id, time_profile_id) VALUES (1, 1, 1, 1)`,
		},
		check: func(t *testing.T, s *Store) {
			ctx := t.Context()
			if got, err := s.UserByID(ctx, 1); err != nil || got.Name() != "Grace Hopper" {
				t.Errorf("user: got %+v, %v, want Grace Hopper", got, err)
			}
			page, err := s.Users(ctx, ListOptions{Query: "hop"})
			if err != nil || len(page.Items) != 1 || page.Items[0].ID != 1 {
				t.Errorf("search: got %+v, %v, want user 1", page.Items, err)
			}
			// Sorted as people read them, however old the rows.
			for _, tt := range []struct{ sort, want string }{{SortName, "[1 3 2]"}, {SortEmail, "[1 3 2]"}} {
				page, err := s.Users(ctx, ListOptions{Sort: tt.sort})
				if got := fmt.Sprint(ids(page.Items)); err != nil || got != tt.want {
					t.Errorf("by %s: got %s, %v, want %s: Hopper (grace@), Worker5 (T5@), Worker49 (no email)", tt.sort, got, err, tt.want)
				}
			}
			if got, err := s.GroupByID(ctx, 1); err != nil || got.Members != 1 {
				t.Errorf("group: got %+v, %v, want 1 member", got, err)
			}
			grants, err := s.Grants(ctx, 1, 1)
			if err != nil || len(grants) != 1 || grants[0].Profile == nil || grants[0].Profile.Name != "Office" {
				t.Errorf("grants: got %+v, %v, want permission 1 in Office", grants, err)
			}
		},
	},
	{
		version: 3,
		tables:  []string{"events"},
		seed: []string{
			`INSERT INTO events (at, kind, actor, user_id, access_point_id) VALUES (1000, 'access.granted', 'key', 1, 1)`,
		},
		check: func(t *testing.T, s *Store) {
			evs, _, err := s.Events(t.Context(), access.EventFilter{Kind: "access.granted"})
			if err != nil || len(evs) != 1 || evs[0].UserID != 1 || evs[0].AccessPointID != 1 {
				t.Errorf("events: got %+v, %v, want the granted event of user 1", evs, err)
			}
		},
	},
	{
		version: 4,
		tables:  []string{"site", "credentials", "registration_codes", "outbox"},
		seed: []string{
			`INSERT INTO site (one, site_id, name, signing_key, created_at) VALUES (1, x'000102030405060708090a0b0c0d0e0f', 'Main office', x'00', 1000)`,
			`INSERT INTO credentials (id, user_id, status, created_at) VALUES (x'101112131415161718191a1b1c1d1e1f', 1, 'invited', 1000)`,
			fmt.Sprintf(`INSERT INTO registration_codes (code_hash, credential_id, created_at, expires_at) VALUES (x'aa', x'101112131415161718191a1b1c1d1e1f', 1000, %d)`, farFuture),
			`INSERT INTO outbox (created_at, kind, recipient, subject, message, next_attempt) VALUES (1000, 'invitation', 'grace@example.com', 'Your key', '{}', 1000)`,
			`UPDATE credentials SET last_used_at = 7000`,
		},
		check: func(t *testing.T, s *Store) {
			items, _, err := s.Outbox(t.Context(), 0, 10)
			if err != nil || len(items) != 1 || items[0].Recipient != "grace@example.com" || items[0].Status != "queued" {
				t.Errorf("outbox: got %+v, %v, want the queued invitation to grace", items, err)
			}
			page, err := s.Users(t.Context(), ListOptions{Sort: SortLastUsed, Desc: true})
			if err != nil || len(page.Items) == 0 || page.Items[0].ID != 1 || page.Items[0].LastUsedAt.UnixMilli() < 7000 {
				t.Errorf("by last use: got %v, %v, want Grace first, her credential's use", ids(page.Items), err)
			}
			for _, table := range []string{"site", "credentials", "registration_codes"} {
				var n int
				if err := s.read.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 1 {
					t.Errorf("%s: got %d rows, %v, want 1", table, n, err)
				}
			}
		},
	},
	{
		version: 5,
		seed: []string{
			`INSERT INTO events (at, kind, access_point_id) VALUES (2000, 'access.denied', 1)`,
		},
		check: func(t *testing.T, s *Store) {
			evs, _, err := s.Events(t.Context(), access.EventFilter{Kind: "access."})
			if err != nil || len(evs) < 1 || evs[0].Kind != "access.denied" {
				t.Errorf("events by family: got %+v, %v, want the denied event first", evs, err)
			}
			var family string
			if err := s.read.QueryRowContext(t.Context(), "SELECT family FROM events WHERE kind = 'access.denied'").Scan(&family); err != nil || family != "access." {
				t.Errorf("family: got %q, %v, want access.", family, err)
			}
		},
	},
	{
		version: 6,
		seed: []string{
			`UPDATE credentials SET last_share_at = 5000`,
		},
		check: func(t *testing.T, s *Store) {
			var at int64
			if err := s.read.QueryRowContext(t.Context(), "SELECT last_share_at FROM credentials").Scan(&at); err != nil || at != 5000 {
				t.Errorf("last_share_at: got %d, %v, want 5000", at, err)
			}
		},
	},
	{
		version: 7,
		seed: []string{
			`UPDATE access_points SET rssi_offset = 7`,
		},
		check: func(t *testing.T, s *Store) {
			if a, err := s.AccessPointByID(t.Context(), 1); err != nil || a.RSSIOffset != 7 {
				t.Errorf("access point: got offset %d, %v, want 7", a.RSSIOffset, err)
			}
		},
	},
	{
		version: 8,
		tables:  []string{"emergencies"},
		seed: []string{
			`UPDATE access_points SET exit_door = 1, unlocked_until = 9000, door_io = '{"relay":"gpiochip0:17"}'`,
			`UPDATE users SET lockdown_exempt = 1`,
			`INSERT INTO emergencies (mode, started_at, started_by) VALUES ('lockdown', 1000, 'admin:ann@example.com')`,
		},
		check: func(t *testing.T, s *Store) {
			ctx := t.Context()
			ap, err := s.AccessPointByID(ctx, 1)
			if err != nil || !ap.Exit || ap.UnlockedUntil.UnixMilli() != 9000 || ap.IO.Relay != "gpiochip0:17" || ap.HeldOpenLimit != 30*time.Second {
				t.Errorf("access point: got %+v, %v", ap, err)
			}
			if u, err := s.UserByID(ctx, 1); err != nil || !u.LockdownExempt {
				t.Errorf("user: got %+v, %v, want allowed during lockdown", u, err)
			}
			if m, err := s.SiteMode(ctx); err != nil || m != access.SiteLockdown {
				t.Errorf("site: got %q, %v, want lockdown", m, err)
			}
		},
	},
	{
		version: 9,
		tables:  []string{"alarm_rules", "webhooks", "webhook_deliveries"},
		seed: []string{
			`INSERT INTO alarm_rules (kind, recipients) VALUES ('door.forced', 'ops@example.com')`,
			`INSERT INTO webhooks (id, url, secret, kinds, created_at) VALUES (1, 'https://hooks.example.com/x', 'k', '["door.forced"]', 1000)`,
			`INSERT INTO webhook_deliveries (webhook_id, event_id, kind, payload, next_attempt) VALUES (1, 1, 'door.forced', '{}', 1000)`,
		},
		check: func(t *testing.T, s *Store) {
			ctx := t.Context()
			rules, err := s.AlarmRules(ctx)
			if err != nil || len(rules) == 0 || rules[0].Kind != access.AlarmForced || len(rules[0].Recipients) != 1 {
				t.Errorf("alarm rules: got %+v, %v", rules, err)
			}
			due, err := s.DueWebhookDeliveries(ctx, time.UnixMilli(2000), 10)
			if err != nil || len(due) != 1 || due[0].URL != "https://hooks.example.com/x" {
				t.Errorf("deliveries: got %+v, %v", due, err)
			}
		},
	},
	{
		version: 10,
		tables:  []string{"throttle", "admin_devices"},
		seed: []string{
			fmt.Sprintf(`INSERT INTO throttle (key, tokens, updated_at, full_at) VALUES (x'%x', 0, 1000, %d)`, Bucket{Key: "login-pair:x"}.hash(), farFuture),
			fmt.Sprintf(`INSERT INTO admin_devices (token_hash, admin_id, created_at, last_used_at) VALUES (x'%x', 1, 1000, 1000)`, hashToken("device-1")),
		},
		check: func(t *testing.T, s *Store) {
			if a, err := s.AdminByDevice(t.Context(), "device-1"); err != nil || a.ID != 1 {
				t.Errorf("device: got %+v, %v, want admin 1", a, err)
			}
			b := Bucket{Key: "login-pair:x", Burst: 5, Every: time.Hour}
			if wait, err := s.TakeThrottle(t.Context(), time.UnixMilli(1000), b); err != nil || wait != time.Hour {
				t.Errorf("throttle: got wait %v, %v, want the stored empty bucket's hour", wait, err)
			}
		},
	},
	{
		version: 11,
		seed: []string{
			fmt.Sprintf(`INSERT INTO api_tokens (admin_id, name, token_hash, created_at, expires_at) VALUES (1, 'expired', x'%x', 1000, 2000)`, hashToken("api-expired")),
		},
		check: func(t *testing.T, s *Store) {
			if _, err := s.AdminByAPIToken(t.Context(), "api-expired"); !errors.Is(err, access.ErrNotFound) {
				t.Errorf("an expired token: got %v, want not found", err)
			}
			if got, err := s.AdminByAPIToken(t.Context(), "api-1"); err != nil || got.ID != 1 {
				t.Errorf("a token from before expiry existed: got %+v, %v, want admin 1", got, err)
			}
		},
	},
	{
		version: 12,
		tables:  []string{"replaced_devices"},
		seed: []string{
			`INSERT INTO replaced_devices (credential_id, tap_key, uv_key, device_info, replaced_at) VALUES (x'101112131415161718191a1b1c1d1e1f', x'04aa', x'04bb', 'old phone', 3000)`,
		},
		check: func(t *testing.T, s *Store) {
			got, err := s.ReplacedDevices(t.Context(), access.CredentialID{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f})
			if err != nil || len(got) != 1 || string(got[0].Tap) != "\x04\xaa" || string(got[0].UV) != "\x04\xbb" {
				t.Errorf("replaced devices: got %x, %v, want the old phone's keys", got, err)
			}
		},
	},
	{
		version: 13,
		// From here on a user row carries its sort keys and last use, as
		// the store writes them.
		seed: []string{
			`UPDATE users SET sort_name = postern_name_sort_key(first_name, last_name), sort_email = postern_email_sort_key(email),
				last_used_at = ifnull((SELECT max(c.last_used_at) FROM credentials c WHERE c.user_id = users.id), 0)`,
		},
		check: func(t *testing.T, s *Store) {
			// A use written to the user leaves the search index alone.
			if _, err := s.db.ExecContext(t.Context(), `UPDATE users SET last_used_at = 8000 WHERE id = 1`); err != nil {
				t.Fatal(err)
			}
			page, err := s.Users(t.Context(), ListOptions{Query: "hop"})
			if err != nil || len(page.Items) != 1 || page.Items[0].ID != 1 {
				t.Errorf("search after a use: got %v, %v, want user 1", ids(page.Items), err)
			}
		},
	},
	{
		version: 14,
		tables:  []string{"fleet_readers", "fleet_state", "policy_outbox"},
		seed: []string{
			`UPDATE users SET allowed_offline = 1 WHERE id = 1`,
			`INSERT INTO events (at, kind, uid) VALUES (3000, 'system.test', 'r1-0001')`,
		},
		check: func(t *testing.T, s *Store) {
			if u, err := s.UserByID(t.Context(), 1); err != nil || !u.AllowedOffline {
				t.Errorf("user: got allowed offline %v, %v, want true", u.AllowedOffline, err)
			}
			if _, err := s.db.ExecContext(t.Context(), `INSERT INTO events (at, kind, uid) VALUES (3001, 'system.test', 'r1-0001')`); !duplicate(err) {
				t.Errorf("a second event with one uid: got %v, want a unique failure", err)
			}
		},
	},
	{
		version: 15,
		tables:  []string{"site_keys", "shares"},
		seed: []string{
			`INSERT INTO shares (token_id, credential_id, admin_email, site_credential_id, first_name, last_name, created_at, expires_at) VALUES (x'01', x'101112131415161718191a1b1c1d1e1f', 'admin@b.example', x'02', 'Grace', 'Hopper', 1000, 2000)`,
			`INSERT INTO events (at, kind, protocol) VALUES (3000, 'test.protocol', 'v2 expedited')`,
		},
		check: func(t *testing.T, s *Store) {
			ctx := t.Context()
			// Credentials and access points from before version 2 read as
			// version 1 keys at doors with the default unlock window.
			c, err := s.CredentialByID(ctx, access.CredentialID{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f})
			if err != nil || c.Protocol != 1 || c.Introduction != nil {
				t.Errorf("credential: got %+v, %v, want protocol 1 and no introduction", c, err)
			}
			ap, err := s.AccessPointByID(ctx, 1)
			if err != nil || ap.UnlockWindow != access.DefaultUnlockWindow || ap.ResponseDeadline != 0 {
				t.Errorf("access point: got %+v, %v, want the default unlock window and deadline", ap, err)
			}
			evs, _, err := s.Events(ctx, access.EventFilter{Kind: "test.protocol"})
			if err != nil || len(evs) != 1 || evs[0].Protocol != "v2 expedited" {
				t.Errorf("events: got %+v, %v, want the event to show its protocol", evs, err)
			}
		},
	},
	{
		version: 16,
		seed: []string{
			`UPDATE access_points SET phone_open = 1, phone_networks = '192.168.10.0/24, fd00::/8', phone_passkey = 1`,
		},
		check: func(t *testing.T, s *Store) {
			ap, err := s.AccessPointByID(t.Context(), 1)
			if err != nil || !ap.PhoneOpen || !ap.PhonePasskey || ap.PhoneNetworks != "192.168.10.0/24, fd00::/8" {
				t.Errorf("access point: got %+v, %v, want open from the phone on two networks with the passkey", ap, err)
			}
		},
	},
	{
		version: 17,
		seed: []string{
			`UPDATE access_points SET direction = 'entry' WHERE id = 1`,
		},
		check: func(t *testing.T, s *Store) {
			if ap, err := s.AccessPointByID(t.Context(), 1); err != nil || ap.Direction != access.DirectionEntry {
				t.Errorf("access point: got %q, %v, want an entry", ap.Direction, err)
			}
			on, err := s.OnSite(t.Context(), time.UnixMilli(500))
			if err != nil || len(on) != 1 || on[0].UserName != "Grace Hopper" {
				t.Errorf("on site: got %+v, %v, want Grace", on, err)
			}
		},
	},
	{
		version: 18,
		tables:  []string{"import_jobs", "import_rows"},
		seed: []string{
			`INSERT INTO import_jobs (id, created_at, created_by, status, started_at) VALUES ('job1', 1000, 'admin:x', 'running', 1000)`,
			`INSERT INTO import_rows (job_id, line, first_name, last_name, email, plan) VALUES ('job1', 2, 'Ada', 'Lovelace', 'ada@example.com', 'create')`,
		},
		check: func(t *testing.T, s *Store) {
			ctx := t.Context()
			if ids, err := s.RunningImports(ctx); err != nil || len(ids) != 1 || ids[0] != "job1" {
				t.Errorf("running imports: got %v, %v, want job1", ids, err)
			}
			done, err := s.RunImportBatch(ctx, "test", "job1", 10, nil, time.Second)
			if err != nil || !done {
				t.Fatalf("run: got %v, %v, want done", done, err)
			}
			if us, err := s.UsersByEmail(ctx, "ada@example.com"); err != nil || len(us) != 1 || us[0].LastName != "Lovelace" {
				t.Errorf("imported user: got %+v, %v", us, err)
			}
		},
	},
	{
		version: 19,
		seed: []string{
			`INSERT INTO admins (id, email, password_hash, created_at, role) VALUES (2, 'vic@example.com', 'hash', 1000, 'viewer')`,
		},
		check: func(t *testing.T, s *Store) {
			// Admins from before roles could do everything: they stay owners.
			if a, err := s.AdminByID(t.Context(), 1); err != nil || a.Role != access.RoleOwner {
				t.Errorf("admin from before roles: got %+v, %v, want an owner", a, err)
			}
			if got, err := s.AdminByAPIToken(t.Context(), "api-1"); err != nil || got.Role != access.RoleOwner {
				t.Errorf("token from before roles: got %+v, %v, want an owner's", got, err)
			}
			if a, err := s.AdminByID(t.Context(), 2); err != nil || a.Role != access.RoleViewer {
				t.Errorf("viewer: got %+v, %v, want a viewer", a, err)
			}
		},
	},
	{
		version: 20,
		tables:  []string{"visitors"},
		check:   func(t *testing.T, s *Store) {},
	},
	{
		version: 21,
		tables:  []string{"admin_links"},
		check:   func(t *testing.T, s *Store) {},
	},
	{
		version: 22,
		tables:  []string{"admin_recovery_codes", "admin_logins"},
		check: func(t *testing.T, s *Store) {
			// Admins from before two-factor sign in with a password alone.
			if tf, err := s.TwoFactor(t.Context(), 1); err != nil || tf.Enrolled() || tf.Pending != "" {
				t.Errorf("admin from before two-factor: got %+v, %v, want none", tf, err)
			}
		},
	},
	{
		version: 23,
		check:   func(t *testing.T, s *Store) {},
	},
	{
		version: 24,
		check:   func(t *testing.T, s *Store) {},
	},
	{
		version: 25,
		check:   func(t *testing.T, s *Store) {},
	},
}

func ids(users []access.User) []int64 {
	out := make([]int64, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

func TestVersionRowsCoverEveryMigration(t *testing.T) {
	if got, want := len(versionRows), len(migrations); got != want {
		t.Errorf("got rows for %d versions, want %d: add rows for the new migration", got, want)
	}
}

func TestMigrateFromEveryVersion(t *testing.T) {
	for k := 0; k <= len(migrations); k++ {
		t.Run(fmt.Sprintf("from %d", k), func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			db := openRaw(t, dir)
			if err := migrateTo(ctx, db, k); err != nil {
				t.Fatalf("migrate to %d: %v", k, err)
			}
			if got := userVersion(t, db); got != k {
				t.Fatalf("user_version: got %d, want %d", got, k)
			}
			for _, vr := range versionRows {
				for _, table := range vr.tables {
					if got, want := hasTable(t, db, table), vr.version <= k; got != want {
						t.Errorf("table %s at version %d: got %v, want %v", table, k, got, want)
					}
				}
				if vr.version > k {
					continue
				}
				for _, q := range vr.seed {
					if _, err := db.ExecContext(ctx, q); err != nil {
						t.Fatalf("seed version %d: %s: %v", vr.version, q, err)
					}
				}
			}
			db.Close()

			s := openMigrated(t, dir)
			if got, want := userVersion(t, s.db), SchemaVersion(); got != want {
				t.Errorf("user_version: got %d, want %d", got, want)
			}
			for _, vr := range versionRows {
				if vr.version <= k {
					vr.check(t, s)
				}
			}
			// The migrated database takes new rows through the store.
			u := access.User{FirstName: "Ada", LastName: "Lovelace", Enabled: true}
			if err := s.CreateUser(ctx, "test", &u); err != nil {
				t.Fatalf("create user after migrating: %v", err)
			}
			if got, err := s.UserByID(ctx, u.ID); err != nil || got.Name() != "Ada Lovelace" {
				t.Errorf("got %+v, %v, want Ada Lovelace", got, err)
			}
		})
	}
}

func TestMigrateFromEmpty(t *testing.T) {
	s := openMigrated(t, t.TempDir())
	if got, want := userVersion(t, s.db), SchemaVersion(); got != want {
		t.Errorf("user_version: got %d, want %d", got, want)
	}
	for _, vr := range versionRows {
		for _, table := range vr.tables {
			if !hasTable(t, s.db, table) {
				t.Errorf("table %s: got missing, want present", table)
			}
		}
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	dir := t.TempDir()
	db := openRaw(t, dir)
	newer := SchemaVersion() + 1
	if _, err := db.ExecContext(t.Context(), fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(t.Context(), dir)
	if err == nil {
		s.Close()
		t.Fatalf("got no error, want a refusal of schema version %d", newer)
	}
	for _, want := range []string{fmt.Sprint(newer), "newer than this postern", "upgrade"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got error %q, want it to contain %q", err, want)
		}
	}
	db = openRaw(t, dir)
	if got := userVersion(t, db); got != newer {
		t.Errorf("user_version after refusal: got %d, want %d", got, newer)
	}
}

func TestMigrateFailureNamesStepAndRollsBack(t *testing.T) {
	dir := t.TempDir()
	db := openRaw(t, dir)
	if err := migrateTo(t.Context(), db, 1); err != nil {
		t.Fatal(err)
	}
	// Migration 2 creates groups; a stray table of that name makes it fail
	// after it has already created users.
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE groups (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(t.Context(), dir)
	if err == nil {
		s.Close()
		t.Fatal("got no error, want migration 2 to fail")
	}
	if !strings.Contains(err.Error(), "migration 2") {
		t.Errorf("got error %q, want it to name migration 2", err)
	}
	db = openRaw(t, dir)
	if got := userVersion(t, db); got != 1 {
		t.Errorf("user_version: got %d, want 1", got)
	}
	if hasTable(t, db, "users") {
		t.Error("got table users, want migration 2 rolled back whole")
	}
}

func TestReopenIsNoOp(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	u := access.User{FirstName: "Grace", LastName: "Hopper", Enabled: true}
	if err := s.CreateUser(t.Context(), "test", &u); err != nil {
		t.Fatal(err)
	}
	before := schema(t, s.db)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openMigrated(t, dir)
	if got, want := userVersion(t, s.db), SchemaVersion(); got != want {
		t.Errorf("user_version: got %d, want %d", got, want)
	}
	if got := schema(t, s.db); !reflect.DeepEqual(got, before) {
		t.Errorf("schema after reopening: got %v, want %v", got, before)
	}
	if got, err := s.UserByID(t.Context(), u.ID); err != nil || got.Name() != "Grace Hopper" {
		t.Errorf("got %+v, %v, want Grace Hopper", got, err)
	}
	if evs, _, err := s.Events(t.Context(), access.EventFilter{}); err != nil || len(evs) != 1 {
		t.Errorf("events: got %d, %v, want 1", len(evs), err)
	}
}

func TestPragmas(t *testing.T) {
	s := openMigrated(t, t.TempDir())
	pools := []struct {
		name  string
		db    *sql.DB
		conns int
	}{
		{"writer", s.db, 1},
		{"reader", s.read, 4}, // every connection the pool may open
	}
	for _, p := range pools {
		t.Run(p.name, func(t *testing.T) {
			ctx := t.Context()
			for i := range p.conns {
				// Hold each connection so the next one is a new one.
				c, err := p.db.Conn(ctx)
				if err != nil {
					t.Fatalf("connection %d: %v", i, err)
				}
				defer c.Close()
				var journal string
				var foreignKeys, busy, synchronous int
				for _, q := range []struct {
					pragma string
					dest   any
				}{
					{"journal_mode", &journal},
					{"foreign_keys", &foreignKeys},
					{"busy_timeout", &busy},
					{"synchronous", &synchronous},
				} {
					if err := c.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.dest); err != nil {
						t.Fatalf("connection %d: PRAGMA %s: %v", i, q.pragma, err)
					}
				}
				if journal != "wal" {
					t.Errorf("connection %d journal_mode: got %q, want %q", i, journal, "wal")
				}
				if foreignKeys != 1 {
					t.Errorf("connection %d foreign_keys: got %d, want 1", i, foreignKeys)
				}
				if busy <= 0 {
					t.Errorf("connection %d busy_timeout: got %d, want > 0", i, busy)
				}
				if synchronous != 1 {
					t.Errorf("connection %d synchronous: got %d, want 1 (NORMAL)", i, synchronous)
				}
			}
		})
	}
}

func TestEventsAreAppendOnly(t *testing.T) {
	s := openMigrated(t, t.TempDir())
	ctx := t.Context()
	e := access.Event{Kind: "access.granted", Actor: "key", UserID: 7, Detail: "original"}
	if err := s.AppendEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sql  string
	}{
		{"update one", "UPDATE events SET detail = 'forged' WHERE id = ?"},
		{"update all", "UPDATE events SET kind = 'access.denied' WHERE id >= ?"},
		{"delete one", "DELETE FROM events WHERE id = ?"},
		{"delete all", "DELETE FROM events WHERE id >= ?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.db.ExecContext(ctx, tt.sql, e.ID)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("got error %v, want the append-only refusal", err)
			}
		})
	}
	evs, _, err := s.Events(ctx, access.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ID != e.ID || evs[0].Detail != "original" || evs[0].Kind != "access.granted" {
		t.Errorf("got %+v, want the one original event", evs)
	}
}

// TestSchemaHashTellsSchemasApart: a benchmark's cached site is named by
// SchemaHash, so two schemas with as many migrations must not share it.
func TestSchemaHashTellsSchemasApart(t *testing.T) {
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	hash := func(m ...string) string {
		migrations = m
		return SchemaHash()
	}
	base := hash("CREATE TABLE a (x);", "CREATE TABLE b (y);")
	for _, tc := range []struct {
		name string
		m    []string
	}{
		{"another migration at the same count", []string{"CREATE TABLE a (x);", "CREATE TABLE c (y);"}},
		{"text moved between migrations", []string{"CREATE TABLE a (x);CREATE TABLE b", " (y);"}},
		{"one more migration", []string{"CREATE TABLE a (x);", "CREATE TABLE b (y);", ""}},
	} {
		if got := hash(tc.m...); got == base {
			t.Errorf("%s: hash %s, the same as the base schema's", tc.name, got)
		}
	}
	if again := hash("CREATE TABLE a (x);", "CREATE TABLE b (y);"); again != base {
		t.Errorf("the same migrations hash to %s, then %s", base, again)
	}
}
