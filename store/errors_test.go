package store

import (
	"errors"
	"testing"

	"postern/access"
)

// TestConstraintErr feeds constraintErr the errors SQLite itself returns for
// each kind of constraint, so the mapping is checked against real codes, not
// against errors made up to look like them.
func TestConstraintErr(t *testing.T) {
	s := openMigrated(t, t.TempDir())
	ctx := t.Context()
	for _, q := range []string{
		`INSERT INTO groups (id, name) VALUES (1, 'Staff')`,
		`INSERT INTO access_points (id, name, reader, mode, rssi_threshold, unlock_ms, created_at, updated_at) VALUES (1, 'Front', 'sim:front', 'direct', -60, 5000, 0, 0)`,
		`INSERT INTO time_profiles (id, name, windows, holidays) VALUES (1, 'Office', '[]', '[]')`,
		`INSERT INTO permissions (group_id, access_point_id, time_profile_id) VALUES (1, 1, 1)`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		sql  string
		want string // the conflict's message; "" when it is no conflict
	}{
		{"unique", `INSERT INTO groups (name) VALUES ('STAFF')`, "it already exists"},
		{"primary key", `INSERT INTO groups (id, name) VALUES (1, 'Night')`, "it already exists"},
		{"foreign key", `INSERT INTO group_members (group_id, user_id) VALUES (1, 999)`, "it refers to something that does not exist or is still in use"},
		// ON DELETE RESTRICT fails from a trigger SQLite makes, with
		// SQLITE_CONSTRAINT_TRIGGER: a delete has to ask first.
		{"restrict", `DELETE FROM time_profiles WHERE id = 1`, ""},
		{"check", `INSERT INTO site (one, site_id, name, signing_key, created_at) VALUES (2, x'00', 'x', x'00', 0)`, ""},
		{"not null", `INSERT INTO groups (name) VALUES (NULL)`, ""},
		{"syntax", `INSERT INTO nowhere VALUES (1)`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dbErr := s.db.ExecContext(ctx, tt.sql)
			if dbErr == nil {
				t.Fatal("got no error from SQLite, want one")
			}
			err := constraintErr(dbErr, "it")
			var ce *access.ConflictError
			switch {
			case tt.want == "" && err != dbErr:
				t.Errorf("got %v, want SQLite's own error %v", err, dbErr)
			case tt.want != "" && !errors.As(err, &ce):
				t.Errorf("got %T %v, want *access.ConflictError", err, err)
			case tt.want != "" && ce.Message != tt.want:
				t.Errorf("got %q, want %q", ce.Message, tt.want)
			}
		})
	}
	t.Run("message alone", func(t *testing.T) {
		// Text that reads like a constraint failure but carries no SQLite
		// code is not one.
		made := errors.New("UNIQUE constraint failed: groups.name")
		if err := constraintErr(made, "it"); err != made {
			t.Errorf("got %v, want %v unchanged", err, made)
		}
	})
}
