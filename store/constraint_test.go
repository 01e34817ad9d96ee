package store_test

import (
	"errors"
	"testing"

	"postern/access"
)

func TestConflicts(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann := createUser(t, s, "Ann", "Smith", "ann@example.com")
	staff := createGroup(t, s, "Staff")
	cleaners := createGroup(t, s, "Cleaners")
	front := createAccessPoint(t, s, "Front", "sim:front")
	back := createAccessPoint(t, s, "Back", "sim:back")
	office := createTimeProfile(t, s, "Office")
	nights := createTimeProfile(t, s, "Nights")
	createPermission(t, s, access.Permission{UserID: ann.ID, AccessPointID: front.ID})
	createPermission(t, s, access.Permission{UserID: ann.ID, AccessPointID: back.ID, TimeProfileID: office.ID})
	createPermission(t, s, access.Permission{GroupID: staff.ID, AccessPointID: front.ID, TimeProfileID: office.ID})
	groupAtBack := createPermission(t, s, access.Permission{GroupID: cleaners.ID, AccessPointID: back.ID})
	admin, err := s.CreateAdmin(ctx, "setup", "root@example.com", "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIToken(ctx, "setup", admin.ID, "ci", "token-1"); err != nil {
		t.Fatal(err)
	}
	before := len(allEvents(t, s))

	tests := []struct {
		name   string
		change func() error
	}{
		{"group name in other case", func() error {
			return s.CreateGroup(ctx, actor, &access.Group{Name: "sTAFF"})
		}},
		{"group name with spaces around", func() error {
			return s.CreateGroup(ctx, actor, &access.Group{Name: "  Staff "})
		}},
		{"group renamed onto another", func() error {
			return s.UpdateGroup(ctx, actor, &access.Group{ID: cleaners.ID, Name: "STAFF"})
		}},
		{"access point name in other case", func() error {
			return s.CreateAccessPoint(ctx, actor, &access.AccessPoint{Name: "FRONT", Reader: "sim:other"})
		}},
		{"access point on a bound reader", func() error {
			return s.CreateAccessPoint(ctx, actor, &access.AccessPoint{Name: "Side", Reader: "sim:front"})
		}},
		{"access point on a bound reader in capitals", func() error {
			return s.CreateAccessPoint(ctx, actor, &access.AccessPoint{Name: "Side", Reader: " SIM:FRONT "})
		}},
		{"access point moved onto a bound reader", func() error {
			return s.UpdateAccessPoint(ctx, actor, &access.AccessPoint{ID: back.ID, Name: "Back", Reader: "sim:front"})
		}},
		{"access point renamed onto another", func() error {
			return s.UpdateAccessPoint(ctx, actor, &access.AccessPoint{ID: back.ID, Name: "front", Reader: "sim:back"})
		}},
		{"time profile name in other case", func() error {
			return s.CreateTimeProfile(ctx, actor, &access.TimeProfile{Name: "office", Windows: officeHours})
		}},
		{"time profile renamed onto another", func() error {
			return s.UpdateTimeProfile(ctx, actor, &access.TimeProfile{ID: nights.ID, Name: "OFFICE", Windows: officeHours})
		}},
		{"duplicate user permission", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{UserID: ann.ID, AccessPointID: front.ID})
		}},
		{"duplicate user permission with a profile", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{UserID: ann.ID, AccessPointID: back.ID, TimeProfileID: office.ID})
		}},
		{"duplicate group permission", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{GroupID: staff.ID, AccessPointID: front.ID, TimeProfileID: office.ID})
		}},
		{"permission changed into a duplicate", func() error {
			return s.UpdatePermission(ctx, actor, &access.Permission{ID: groupAtBack.ID, GroupID: staff.ID, AccessPointID: front.ID, TimeProfileID: office.ID})
		}},
		{"permission at a missing access point", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{UserID: ann.ID, AccessPointID: 999})
		}},
		{"permission for a missing user", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{UserID: 999, AccessPointID: front.ID})
		}},
		{"permission for a missing group", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{GroupID: 999, AccessPointID: front.ID})
		}},
		{"permission with a missing time profile", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{GroupID: cleaners.ID, AccessPointID: front.ID, TimeProfileID: 999})
		}},
		{"permission moved to a missing access point", func() error {
			return s.UpdatePermission(ctx, actor, &access.Permission{ID: groupAtBack.ID, GroupID: cleaners.ID, AccessPointID: 999})
		}},
		{"deleting a time profile in use", func() error {
			return s.DeleteTimeProfile(ctx, actor, office.ID)
		}},
		{"membership of a missing group", func() error {
			return s.SetUserGroups(ctx, actor, ann.ID, []int64{staff.ID, 999})
		}},
		{"admin email in other case", func() error {
			_, err := s.CreateAdmin(ctx, actor, "ROOT@example.com", "hash", false)
			return err
		}},
		{"duplicate api token", func() error {
			return s.CreateAPIToken(ctx, actor, admin.ID, "other", "token-1")
		}},
		{"api token of a missing admin", func() error {
			return s.CreateAPIToken(ctx, actor, 999, "ghost", "token-2")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.change(); !isConflict(err) {
				t.Errorf("got %T %v, want *access.ConflictError", err, err)
			}
		})
	}

	t.Run("nothing changed", func(t *testing.T) {
		if got := len(allEvents(t, s)); got != before {
			t.Errorf("got %d events, want %d: a refused change logs nothing", got, before)
		}
		if p, err := s.TimeProfileByID(ctx, office.ID); err != nil || p.Name != "Office" {
			t.Errorf("got %+v, %v, want the time profile still there", p, err)
		}
		if g, err := s.GroupByID(ctx, cleaners.ID); err != nil || g.Name != "Cleaners" {
			t.Errorf("got %+v, %v, want Cleaners unchanged", g, err)
		}
		if gs, err := s.UserGroups(ctx, ann.ID); err != nil || len(gs) != 0 {
			t.Errorf("got groups %+v, %v, want none: a refused membership change rolls back", gs, err)
		}
	})
}

func TestValidationErrors(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann := createUser(t, s, "Ann", "Smith", "")
	staff := createGroup(t, s, "Staff")
	front := createAccessPoint(t, s, "Front", "sim:front")
	before := len(allEvents(t, s))

	tests := []struct {
		name   string
		change func() error
	}{
		{"permission with user and group", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{UserID: ann.ID, GroupID: staff.ID, AccessPointID: front.ID})
		}},
		{"permission with neither user nor group", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{AccessPointID: front.ID})
		}},
		{"permission without access point", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{UserID: ann.ID})
		}},
		{"permission updated to user and group", func() error {
			return s.UpdatePermission(ctx, actor, &access.Permission{ID: 1, UserID: ann.ID, GroupID: staff.ID, AccessPointID: front.ID})
		}},
		{"user without a name", func() error {
			return s.CreateUser(ctx, actor, &access.User{FirstName: "  ", Email: "x@example.com"})
		}},
		{"user with a header in the email", func() error {
			return s.UpdateUser(ctx, actor, &access.User{ID: ann.ID, FirstName: "Ann", Email: "a@example.com\r\nBcc: x@y.z"})
		}},
		{"group without a name", func() error {
			return s.CreateGroup(ctx, actor, &access.Group{Name: " "})
		}},
		{"access point on an unknown reader", func() error {
			return s.CreateAccessPoint(ctx, actor, &access.AccessPoint{Name: "Side", Reader: "usb0"})
		}},
		{"time profile without windows", func() error {
			return s.CreateTimeProfile(ctx, actor, &access.TimeProfile{Name: "Never"})
		}},
		{"admin with a bad email", func() error {
			_, err := s.CreateAdmin(ctx, actor, "not an email", "hash", false)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.change(); !isValidation(err) {
				t.Errorf("got %T %v, want *access.ValidationError", err, err)
			}
		})
	}
	if got := len(allEvents(t, s)); got != before {
		t.Errorf("got %d events, want %d: an invalid change logs nothing", got, before)
	}
}

func TestDeleteCascades(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann := createUser(t, s, "Ann", "Smith", "")
	bob := createUser(t, s, "Bob", "Jones", "")
	staff := createGroup(t, s, "Staff")
	night := createGroup(t, s, "Night")
	front := createAccessPoint(t, s, "Front", "sim:front")
	lab := createAccessPoint(t, s, "Lab", "sim:lab")
	setUserGroups(t, s, ann.ID, staff, night)
	setUserGroups(t, s, bob.ID, staff)
	annFront := createPermission(t, s, access.Permission{UserID: ann.ID, AccessPointID: front.ID})
	annLab := createPermission(t, s, access.Permission{UserID: ann.ID, AccessPointID: lab.ID})
	bobFront := createPermission(t, s, access.Permission{UserID: bob.ID, AccessPointID: front.ID})
	staffFront := createPermission(t, s, access.Permission{GroupID: staff.ID, AccessPointID: front.ID})
	nightLab := createPermission(t, s, access.Permission{GroupID: night.ID, AccessPointID: lab.ID})

	exists := func(t *testing.T, id int64) bool {
		t.Helper()
		_, err := s.PermissionByID(ctx, id)
		if err != nil && !errors.Is(err, access.ErrNotFound) {
			t.Fatalf("permission %d: %v", id, err)
		}
		return err == nil
	}
	members := func(t *testing.T, g access.Group) int {
		t.Helper()
		got, err := s.GroupByID(ctx, g.ID)
		if err != nil {
			t.Fatalf("group %s: %v", g.Name, err)
		}
		return got.Members
	}

	t.Run("deleting a user", func(t *testing.T) {
		if err := s.DeleteUser(ctx, actor, ann.ID); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name string
			id   int64
			want bool
		}{
			{"ann at front", annFront.ID, false},
			{"ann at lab", annLab.ID, false},
			{"bob at front", bobFront.ID, true},
			{"staff at front", staffFront.ID, true},
			{"night at lab", nightLab.ID, true},
		} {
			if got := exists(t, tt.id); got != tt.want {
				t.Errorf("permission %s exists: got %v, want %v", tt.name, got, tt.want)
			}
		}
		if got := members(t, staff); got != 1 {
			t.Errorf("staff members: got %d, want 1", got)
		}
		if got := members(t, night); got != 0 {
			t.Errorf("night members: got %d, want 0", got)
		}
		if gs, err := s.UserGroups(ctx, ann.ID); err != nil || len(gs) != 0 {
			t.Errorf("groups of the deleted user: got %+v, %v, want none", gs, err)
		}
		if evs, _, err := s.Events(ctx, access.EventFilter{UserID: ann.ID}); err != nil || len(evs) == 0 {
			t.Errorf("events of the deleted user: got %d, %v, want them kept", len(evs), err)
		}
	})
	t.Run("deleting a group", func(t *testing.T) {
		if err := s.DeleteGroup(ctx, actor, staff.ID); err != nil {
			t.Fatal(err)
		}
		if exists(t, staffFront.ID) {
			t.Error("got the group's permission, want it deleted")
		}
		if gs, err := s.UserGroups(ctx, bob.ID); err != nil || len(gs) != 0 {
			t.Errorf("groups of bob: got %+v, %v, want none", gs, err)
		}
		if !exists(t, bobFront.ID) {
			t.Error("got bob's own permission deleted, want it kept")
		}
	})
	t.Run("deleting an access point", func(t *testing.T) {
		if err := s.DeleteAccessPoint(ctx, actor, lab.ID); err != nil {
			t.Fatal(err)
		}
		if exists(t, nightLab.ID) {
			t.Error("got the permission at the deleted access point, want it deleted")
		}
		if !exists(t, bobFront.ID) {
			t.Error("got the permission at another access point deleted, want it kept")
		}
	})
	t.Run("deleting an unused time profile", func(t *testing.T) {
		p := createTimeProfile(t, s, "Unused")
		if err := s.DeleteTimeProfile(ctx, actor, p.ID); err != nil {
			t.Fatalf("got %v, want the unused profile deleted", err)
		}
		if _, err := s.TimeProfileByID(ctx, p.ID); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("got %v, want %v", err, access.ErrNotFound)
		}
	})
}

func TestAuditEvents(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann := createUser(t, s, "Ann", "Smith", "")
	staff := createGroup(t, s, "Staff")
	front := createAccessPoint(t, s, "Front", "sim:front")
	office := createTimeProfile(t, s, "Office")
	perm := createPermission(t, s, access.Permission{UserID: ann.ID, AccessPointID: front.ID})
	admin, err := s.CreateAdmin(ctx, "setup", "root@example.com", "hash", false)
	if err != nil {
		t.Fatal(err)
	}

	// Each row makes one change as its own actor; the newest event must be
	// that change's, with the actor and the ids it concerns.
	tests := []struct {
		name       string
		change     func(actor string) error
		wantKind   string
		wantUser   int64
		wantAP     int64
		wantDetail string
	}{
		{"create user", func(a string) error {
			return s.CreateUser(ctx, a, &access.User{FirstName: "Bob", LastName: "Jones"})
		}, "user.created", ann.ID + 1, 0, "Bob Jones"},
		{"update user", func(a string) error {
			return s.UpdateUser(ctx, a, &access.User{ID: ann.ID, FirstName: "Ann", LastName: "Smyth"})
		}, "user.updated", ann.ID, 0, "Ann Smyth (disabled)"},
		{"set user groups", func(a string) error {
			return s.SetUserGroups(ctx, a, ann.ID, []int64{staff.ID})
		}, "user.groups_changed", ann.ID, 0, "now in 1 group"},
		{"create group", func(a string) error {
			return s.CreateGroup(ctx, a, &access.Group{Name: "Night"})
		}, "group.created", 0, 0, "Night"},
		{"update group", func(a string) error {
			return s.UpdateGroup(ctx, a, &access.Group{ID: staff.ID, Name: "All staff"})
		}, "group.updated", 0, 0, "All staff"},
		{"create access point", func(a string) error {
			return s.CreateAccessPoint(ctx, a, &access.AccessPoint{Name: "Lab", Reader: "sim:lab"})
		}, "access_point.created", 0, front.ID + 1, "Lab on sim:lab"},
		{"update access point", func(a string) error {
			return s.UpdateAccessPoint(ctx, a, &access.AccessPoint{ID: front.ID, Name: "Front", Reader: "sim:front", State: access.StateLockdown})
		}, "access_point.updated", 0, front.ID, "Front (lockdown)"},
		{"create time profile", func(a string) error {
			return s.CreateTimeProfile(ctx, a, &access.TimeProfile{Name: "Nights", Windows: officeHours})
		}, "time_profile.created", 0, 0, "Nights"},
		{"update time profile", func(a string) error {
			return s.UpdateTimeProfile(ctx, a, &access.TimeProfile{ID: office.ID, Name: "Office hours", Windows: officeHours})
		}, "time_profile.updated", 0, 0, "Office hours"},
		{"create permission", func(a string) error {
			return s.CreatePermission(ctx, a, &access.Permission{GroupID: staff.ID, AccessPointID: front.ID})
		}, "permission.created", 0, front.ID, ""},
		{"update permission", func(a string) error {
			return s.UpdatePermission(ctx, a, &access.Permission{ID: perm.ID, UserID: ann.ID, AccessPointID: front.ID, TimeProfileID: office.ID})
		}, "permission.updated", ann.ID, front.ID, ""},
		{"delete permission", func(a string) error {
			return s.DeletePermission(ctx, a, perm.ID)
		}, "permission.deleted", ann.ID, front.ID, ""},
		{"create admin", func(a string) error {
			_, err := s.CreateAdmin(ctx, a, "second@example.com", "hash", false)
			return err
		}, "admin.created", 0, 0, "second@example.com"},
		{"create api token", func(a string) error {
			return s.CreateAPIToken(ctx, a, admin.ID, "ci", "secret")
		}, "api_token.created", 0, 0, "ci, owner"},
		{"set setting", func(a string) error {
			return s.SetSetting(ctx, a, "site_name", "Main office")
		}, "setting.changed", 0, 0, "site_name"},
		{"delete time profile", func(a string) error {
			return s.DeleteTimeProfile(ctx, a, office.ID)
		}, "time_profile.deleted", 0, 0, "Office hours"},
		{"delete group", func(a string) error {
			return s.DeleteGroup(ctx, a, staff.ID)
		}, "group.deleted", 0, 0, "All staff"},
		{"delete access point", func(a string) error {
			return s.DeleteAccessPoint(ctx, a, front.ID)
		}, "access_point.deleted", 0, front.ID, "Front"},
		{"delete user", func(a string) error {
			return s.DeleteUser(ctx, a, ann.ID)
		}, "user.deleted", ann.ID, 0, "Ann Smyth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			who := "admin:" + tt.name
			if err := tt.change(who); err != nil {
				t.Fatalf("change: %v", err)
			}
			evs, _, err := s.Events(ctx, access.EventFilter{Limit: 1})
			if err != nil || len(evs) != 1 {
				t.Fatalf("got %v, %v, want the newest event", evs, err)
			}
			e := evs[0]
			if e.Kind != tt.wantKind || e.Actor != who || e.UserID != tt.wantUser || e.AccessPointID != tt.wantAP {
				t.Errorf("got kind %q actor %q user %d access point %d, want %q %q %d %d",
					e.Kind, e.Actor, e.UserID, e.AccessPointID, tt.wantKind, who, tt.wantUser, tt.wantAP)
			}
			if tt.wantDetail != "" && e.Detail != tt.wantDetail {
				t.Errorf("detail: got %q, want %q", e.Detail, tt.wantDetail)
			}
			if !e.At.Equal(testNow) {
				t.Errorf("at: got %v, want %v", e.At, testNow)
			}
		})
	}

	t.Run("setting without actor is not logged", func(t *testing.T) {
		before := len(allEvents(t, s))
		if err := s.SetSetting(ctx, "", "last_backup", "today"); err != nil {
			t.Fatal(err)
		}
		if got := len(allEvents(t, s)); got != before {
			t.Errorf("got %d events, want %d", got, before)
		}
	})
}

func TestNotFound(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	front := createAccessPoint(t, s, "Front", "sim:front")
	const missing = 999
	tests := []struct {
		name string
		call func() error
	}{
		{"UserByID", func() error { _, err := s.UserByID(ctx, missing); return err }},
		{"UpdateUser", func() error { return s.UpdateUser(ctx, actor, &access.User{ID: missing, FirstName: "X"}) }},
		{"DeleteUser", func() error { return s.DeleteUser(ctx, actor, missing) }},
		{"SetUserGroups", func() error { return s.SetUserGroups(ctx, actor, missing, nil) }},
		{"GroupByID", func() error { _, err := s.GroupByID(ctx, missing); return err }},
		{"UpdateGroup", func() error { return s.UpdateGroup(ctx, actor, &access.Group{ID: missing, Name: "X"}) }},
		{"DeleteGroup", func() error { return s.DeleteGroup(ctx, actor, missing) }},
		{"AccessPointByID", func() error { _, err := s.AccessPointByID(ctx, missing); return err }},
		{"AccessPointByReader", func() error { _, err := s.AccessPointByReader(ctx, "sim:nowhere"); return err }},
		{"UpdateAccessPoint", func() error {
			return s.UpdateAccessPoint(ctx, actor, &access.AccessPoint{ID: missing, Name: "X", Reader: "sim:x"})
		}},
		{"DeleteAccessPoint", func() error { return s.DeleteAccessPoint(ctx, actor, missing) }},
		{"TimeProfileByID", func() error { _, err := s.TimeProfileByID(ctx, missing); return err }},
		{"UpdateTimeProfile", func() error {
			return s.UpdateTimeProfile(ctx, actor, &access.TimeProfile{ID: missing, Name: "X", Windows: officeHours})
		}},
		{"DeleteTimeProfile", func() error { return s.DeleteTimeProfile(ctx, actor, missing) }},
		{"PermissionByID", func() error { _, err := s.PermissionByID(ctx, missing); return err }},
		{"UpdatePermission", func() error {
			return s.UpdatePermission(ctx, actor, &access.Permission{ID: missing, GroupID: 1, AccessPointID: front.ID})
		}},
		{"DeletePermission", func() error { return s.DeletePermission(ctx, actor, missing) }},
		{"AdminByEmail", func() error { _, err := s.AdminByEmail(ctx, "nobody@example.com"); return err }},
		{"SessionByToken", func() error { _, err := s.SessionByToken(ctx, "nope"); return err }},
		{"AdminByAPIToken", func() error { _, err := s.AdminByAPIToken(ctx, "nope"); return err }},
	}
	before := len(allEvents(t, s))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, access.ErrNotFound) {
				t.Errorf("got %v, want %v", err, access.ErrNotFound)
			}
		})
	}
	if got := len(allEvents(t, s)); got != before {
		t.Errorf("got %d events, want %d: a change to nothing logs nothing", got, before)
	}
}
