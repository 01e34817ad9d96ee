package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"postern/access"

	"modernc.org/sqlite"
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
			err := constraintErr("test", dbErr, "it")
			var ce *access.ConflictError
			switch {
			case tt.want == "" && (errors.As(err, &ce) || !errors.Is(err, dbErr)):
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
		var ce *access.ConflictError
		if err := constraintErr("test", made, "it"); errors.As(err, &ce) || !errors.Is(err, made) {
			t.Errorf("got %v, want %v", err, made)
		}
	})
}

// TestErrorsNameTheirOperation checks that a failure says which operation
// failed, keeps its cause for errors.Is, and that a refusal is not wrapped.
func TestErrorsNameTheirOperation(t *testing.T) {
	ctx := t.Context()
	s := openMigrated(t, t.TempDir())
	ann := access.User{FirstName: "Ann", LastName: "Smith", Email: "ann@example.com"}
	bob := access.User{FirstName: "Bob"}
	for _, u := range []*access.User{&ann, &bob} {
		if err := s.CreateUser(ctx, "setup", u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateGroup(ctx, "setup", &access.Group{Name: "Staff"}); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(time.Hour)

	t.Run("refusals are returned as they are", func(t *testing.T) {
		tests := []struct {
			name string
			call func() error
			want error
		}{
			{"not found", func() error { _, err := s.UserByID(ctx, 999); return err }, access.ErrNotFound},
			{"not found in a transaction", func() error {
				_, err := s.AssignCredential(ctx, "setup", 999, "code", expires, nil)
				return err
			}, access.ErrNotFound},
			{"no row changed", func() error { return s.RetryMail(ctx, "setup", 999) }, access.ErrNotFound},
			{"no email", func() error {
				_, err := s.AssignCredential(ctx, "setup", bob.ID, "code", expires, func(access.Credential, access.User) (Mail, error) {
					return Mail{}, nil
				})
				return err
			}, ErrNoEmail},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.call(); err != tt.want {
					t.Errorf("got %v, want %v itself", err, tt.want)
				}
			})
		}
		t.Run("conflict", func(t *testing.T) {
			err := s.CreateGroup(ctx, "setup", &access.Group{Name: "staff"})
			if got, want := fmt.Sprint(err), "name: is already the name of group Staff"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			var ce *access.ConflictError
			if !errors.As(err, &ce) || ce.Field != "name" || ce.With.Kind != "group" || ce.With.Name != "Staff" || ce.With.ID == 0 {
				t.Errorf("got %#v, want a clash on name with group Staff", err)
			}
		})
	})

	t.Run("a failure inside a transaction", func(t *testing.T) {
		// A table gone from under the store fails the step that needs it;
		// the error names the operation and the step, and keeps SQLite's.
		if _, err := s.db.ExecContext(ctx, `DROP TABLE outbox`); err != nil {
			t.Fatal(err)
		}
		err := s.DeleteUser(ctx, "setup", ann.ID)
		var se *sqlite.Error
		if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "store: delete user: cancel invitations: ") {
			t.Errorf("got %v, want a *sqlite.Error named \"store: delete user: cancel invitations: \"", err)
		}
		if _, err := s.UserByID(ctx, ann.ID); err != nil {
			t.Errorf("got %v, want the user still there: the failed delete rolled back", err)
		}
	})

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"CreateUser", func() error { return s.CreateUser(ctx, "setup", &access.User{FirstName: "Bob"}) }, "store: create user: begin: "},
		{"UserByID", func() error { _, err := s.UserByID(ctx, ann.ID); return err }, "store: read user: "},
		{"Users", func() error { _, err := s.Users(ctx, ListOptions{}); return err }, "store: list users: "},
		{"CountUsers", func() error { _, err := s.CountUsers(ctx); return err }, "store: count users: "},
		{"SetUserGroups", func() error { return s.SetUserGroups(ctx, "setup", ann.ID, nil) }, "store: set user's groups: begin: "},
		{"DeleteGroup", func() error { return s.DeleteGroup(ctx, "setup", 1) }, "store: delete group: begin: "},
		{"AccessPointByReader", func() error { _, err := s.AccessPointByReader(ctx, "sim:front"); return err }, "store: read access point by reader: "},
		{"Grants", func() error { _, err := s.Grants(ctx, ann.ID, 1); return err }, "store: list grants: "},
		{"CredentialByID", func() error { _, err := s.CredentialByID(ctx, access.CredentialID{}); return err }, "store: read credential: "},
		{"AppendEvent", func() error { return s.AppendEvent(ctx, &access.Event{Kind: "door.opened"}) }, "store: log door.opened event: "},
		{"Events", func() error { _, _, err := s.Events(ctx, access.EventFilter{}); return err }, "store: list events: "},
		{"Outbox", func() error { _, _, err := s.Outbox(ctx, 0, 10); return err }, "store: list outbox: "},
		{"Setting", func() error { _, err := s.Setting(ctx, "smtp", ""); return err }, "store: read setting smtp: "},
		{"SessionByToken", func() error { _, err := s.SessionByToken(ctx, "token"); return err }, "store: read session: "},
		{"Site", func() error { _, err := s.Site(ctx); return err }, "store: read the site identity: "},
		{"Ping", func() error { return s.Ping(ctx) }, "store: ping: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !strings.HasSuffix(err.Error(), "sql: database is closed") {
				t.Errorf("got %v, want %q and the cause", err, tt.want)
			}
		})
	}
	// Decisions go through a writer of their own, which stops first.
	t.Run("RecordDecision", func(t *testing.T) {
		err := s.RecordDecision(ctx, &access.Event{Kind: "access.granted"}, nil, expires)
		if !errors.Is(err, ErrClosed) || !strings.HasPrefix(err.Error(), "store: record decision: ") {
			t.Errorf("got %v, want ErrClosed named \"store: record decision: \"", err)
		}
	})
}
