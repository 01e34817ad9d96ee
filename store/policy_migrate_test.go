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
			dir := t.TempDir()
			db := openRaw(t, dir)
			if err := migrateTo(ctx, db, 22); err != nil {
				t.Fatal(err)
			}
			q := seed
			if tt.hub {
				q = append([]string{`INSERT INTO fleet_state (key, value) VALUES ('policy_hub', '1')`}, q...)
			}
			for _, s := range q {
				if _, err := db.ExecContext(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			db.Close()
			s := openMigrated(t, dir)
			if err := s.SetSetting(ctx, "test", SettingAcceptV1, "true"); err != nil {
				t.Fatal(err)
			}
			if err := s.SetSetting(ctx, "test", "smtp_url", "smtp://other.example.com"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, `INSERT INTO site_keys (key_id, public_key, retired_at, successor_id, certificate, not_after) VALUES (x'2122232425262728', x'04', 3000, x'3132333435363738', x'bb', 4000)`); err != nil {
				t.Fatal(err)
			}
			got, err := s.PolicyOutbox(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].ID = 0
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("queued: got %+v, want %+v", got, tt.want)
			}
		})
	}
}
