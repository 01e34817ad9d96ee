package store

import (
	"reflect"
	"testing"
)

// TestMigrationQueuesTheProtocolSettingsOnAHub: a hub whose policy stream
// was seeded before remote readers followed the protocol settings
// publishes them once on upgrade, and every later change; a database
// that was never a hub queues nothing.
func TestMigrationQueuesTheProtocolSettingsOnAHub(t *testing.T) {
	seed := []string{
		`INSERT INTO site_keys (key_id, public_key, retired_at, successor_id, certificate, not_after) VALUES (x'0102030405060708', x'04', 1000, x'1112131415161718', x'aa', 2000)`,
		`INSERT INTO settings (key, value) VALUES ('protocol_v1_accepted', 'false'), ('smtp_url', 'smtp://example.com')`,
	}
	tests := []struct {
		name string
		hub  bool
		want []PolicyChange
	}{
		{"a hub", true, []PolicyChange{{Entity: "site_key", Key: "0102030405060708"}, {Entity: "setting", Key: "protocol_v1_accepted"},
			{Entity: "setting", Key: "protocol_v1_accepted"}, {Entity: "site_key", Key: "2122232425262728"}}},
		{"never a hub", false, []PolicyChange{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := migratedFrom(t, 22, tt.hub, seed)
			if err := s.SetSetting(ctx, "test", SettingAcceptV1, "true"); err != nil {
				t.Fatal(err)
			}
			if err := s.SetSetting(ctx, "test", "smtp_url", "smtp://other.example.com"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, `INSERT INTO site_keys (key_id, public_key, retired_at, successor_id, certificate, not_after) VALUES (x'2122232425262728', x'04', 3000, x'3132333435363738', x'bb', 4000)`); err != nil {
				t.Fatal(err)
			}
			wantQueued(t, s, tt.want)
		})
	}
}

// TestMigrationQueuesThePublicURLOnAHub: the hub's public URL, which
// remote readers check web keys' passkeys against, is queued once on
// upgrade where the database holds it (migration 25), and at every
// change; other settings stay on the hub, and a database that was never a
// hub queues nothing.
func TestMigrationQueuesThePublicURLOnAHub(t *testing.T) {
	tests := []struct {
		name string
		hub  bool
		want []PolicyChange
	}{
		{"a hub", true, []PolicyChange{{Entity: "setting", Key: "public_url"}, {Entity: "setting", Key: "public_url"}}},
		{"never a hub", false, []PolicyChange{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := migratedFrom(t, 24, tt.hub, []string{`INSERT INTO settings (key, value) VALUES ('public_url', 'https://doors.example.com'), ('smtp_url', 'smtp://example.com')`})
			if err := s.SetSetting(ctx, "", SettingPublicURL, "https://doors.example.org"); err != nil {
				t.Fatal(err)
			}
			if err := s.SetSetting(ctx, "test", "smtp_url", "smtp://other.example.com"); err != nil {
				t.Fatal(err)
			}
			wantQueued(t, s, tt.want)
		})
	}
}

// TestCredentialChangesQueuedOnAHub: a change to any one column of a
// credential that its policy record carries queues the credential for the
// remote readers, the protocol version included (migration 24); its last
// use, written at every door, queues nothing.
func TestCredentialChangesQueuedOnAHub(t *testing.T) {
	tests := []struct {
		name, set string
		want      []PolicyChange
	}{
		{"protocol", `protocol = 2`, []PolicyChange{{Entity: "credential", Key: "0A0B"}}},
		{"status", `status = 'revoked'`, []PolicyChange{{Entity: "credential", Key: "0A0B"}}},
		{"tap key", `tap_key = x'04'`, []PolicyChange{{Entity: "credential", Key: "0A0B"}}},
		{"unlock key", `uv_key = x'04'`, []PolicyChange{{Entity: "credential", Key: "0A0B"}}},
		{"last use", `last_used_at = 5000`, []PolicyChange{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := openMigrated(t, t.TempDir())
			for _, q := range []string{
				`INSERT INTO users (id, first_name, last_name, email, created_at, updated_at) VALUES (7, 'Ann', 'Lee', '', 1000, 1000)`,
				`INSERT INTO credentials (id, user_id, status, created_at) VALUES (x'0a0b', 7, 'active', 1000)`,
				`INSERT INTO fleet_state (key, value) VALUES ('policy_hub', '1')`,
				`UPDATE credentials SET ` + tt.set,
			} {
				if _, err := s.db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			wantQueued(t, s, tt.want)
		})
	}
}

// migratedFrom is a database at schema version, seeded, once a hub when
// hub is set, then migrated to the newest version.
func migratedFrom(t *testing.T, version int, hub bool, seed []string) *Store {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db := openRaw(t, dir)
	if err := migrateTo(ctx, db, version); err != nil {
		t.Fatal(err)
	}
	if hub {
		seed = append([]string{`INSERT INTO fleet_state (key, value) VALUES ('policy_hub', '1')`}, seed...)
	}
	for _, q := range seed {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	return openMigrated(t, dir)
}

// wantQueued checks the policy changes s has queued, oldest first.
func wantQueued(t *testing.T, s *Store, want []PolicyChange) {
	t.Helper()
	got, err := s.PolicyOutbox(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].ID = 0
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("queued: got %+v, want %+v", got, want)
	}
}
