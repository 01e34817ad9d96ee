package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"postern/access"
)

// TestAuditTrail makes every kind of admin change, through the pages and
// through the API, and checks that each wrote one event naming who made it.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ctx := t.Context()
	type fixture struct{ user, group, ap, tp, perm int64 }
	fix := func(tag string) fixture {
		u := access.User{FirstName: "Fix" + tag, Enabled: true}
		g := access.Group{Name: "Group " + tag}
		a := access.AccessPoint{Name: "Door " + tag, Reader: "sim:door-" + tag}
		p := access.TimeProfile{Name: "Hours " + tag, Windows: []access.Window{{Days: []time.Weekday{1}, Start: 480, End: 1080}}}
		for _, err := range []error{env.s.CreateUser(ctx, "setup", &u), env.s.CreateGroup(ctx, "setup", &g),
			env.s.CreateAccessPoint(ctx, "setup", &a), env.s.CreateTimeProfile(ctx, "setup", &p)} {
			if err != nil {
				t.Fatal(err)
			}
		}
		perm := access.Permission{UserID: u.ID, AccessPointID: a.ID}
		if err := env.s.CreatePermission(ctx, "setup", &perm); err != nil {
			t.Fatal(err)
		}
		return fixture{u.ID, g.ID, a.ID, p.ID, perm.ID}
	}
	f, a := fix("f"), fix("a")
	page, api := "admin:"+adminEmail, "api:"+adminEmail

	tests := []struct {
		scenario
		wantKind, wantActor string
		wantUser, wantAP    int64
		wantEvents          int // 0: one
	}{
		{scenario{name: "form: create user", method: "POST", url: "/users", body: "first_name=Cy", wantStatus: 303}, "user.created", page, -1, 0, 0},
		{scenario{name: "form: update user", method: "POST", url: "/users/" + itoa(f.user), body: "first_name=Fixed&enabled=on", wantStatus: 303}, "user.updated", page, f.user, 0, 0},
		{scenario{name: "form: user groups", method: "POST", url: "/users/" + itoa(f.user) + "/groups", body: "group=" + itoa(f.group), wantStatus: 303}, "user.groups_changed", page, f.user, 0, 0},
		{scenario{name: "form: create group", method: "POST", url: "/groups", body: "name=Form+group", wantStatus: 303}, "group.created", page, 0, 0, 0},
		{scenario{name: "form: update group", method: "POST", url: "/groups/" + itoa(f.group), body: "name=Renamed+f", wantStatus: 303}, "group.updated", page, 0, 0, 0},
		{scenario{name: "form: create access point", method: "POST", url: "/access-points", body: "name=Form+door&reader=sim:form&mode=direct", wantStatus: 303}, "access_point.created", page, 0, -1, 0},
		{scenario{name: "form: update access point", method: "POST", url: "/access-points/" + itoa(f.ap), body: "name=Door+f&reader=sim:door-f&mode=touch", wantStatus: 303}, "access_point.updated", page, 0, f.ap, 0},
		{scenario{name: "form: create time profile", method: "POST", url: "/time-profiles", body: "name=Form+hours&windows=Sat+10:00-12:00", wantStatus: 303}, "time_profile.created", page, 0, 0, 0},
		{scenario{name: "form: update time profile", method: "POST", url: "/time-profiles/" + itoa(f.tp), body: "name=Hours+f&windows=Sun+10:00-12:00", wantStatus: 303}, "time_profile.updated", page, 0, 0, 0},
		{scenario{name: "form: create permission", method: "POST", url: "/permissions", body: "group_id=" + itoa(f.group) + "&access_point_id=" + itoa(f.ap), wantStatus: 303}, "permission.created", page, 0, f.ap, 0},
		{scenario{name: "form: delete permission", method: "POST", url: "/permissions/" + itoa(f.perm) + "/delete", wantStatus: 303}, "permission.deleted", page, f.user, f.ap, 0},
		{scenario{name: "form: delete time profile", method: "POST", url: "/time-profiles/" + itoa(f.tp) + "/delete", wantStatus: 303}, "time_profile.deleted", page, 0, 0, 0},
		{scenario{name: "form: delete access point", method: "POST", url: "/access-points/" + itoa(f.ap) + "/delete", wantStatus: 303}, "access_point.deleted", page, 0, f.ap, 0},
		{scenario{name: "form: delete group", method: "POST", url: "/groups/" + itoa(f.group) + "/delete", wantStatus: 303}, "group.deleted", page, 0, 0, 0},
		{scenario{name: "form: delete user", method: "POST", url: "/users/" + itoa(f.user) + "/delete", wantStatus: 303}, "user.deleted", page, f.user, 0, 0},

		{scenario{name: "api: create user", method: "POST", url: "/api/v1/users", body: `{"first_name":"Di"}`, wantStatus: 201}, "user.created", api, -1, 0, 0},
		{scenario{name: "api: update user", method: "PATCH", url: "/api/v1/users/" + itoa(a.user), body: `{"enabled":false}`, wantStatus: 200}, "user.updated", api, a.user, 0, 0},
		{scenario{name: "api: user groups", method: "PATCH", url: "/api/v1/users/" + itoa(a.user), body: `{"group_ids":[` + itoa(a.group) + `]}`, wantStatus: 200}, "user.groups_changed", api, a.user, 0, 2},
		{scenario{name: "api: create group", method: "POST", url: "/api/v1/groups", body: `{"name":"API group"}`, wantStatus: 201}, "group.created", api, 0, 0, 0},
		{scenario{name: "api: update group", method: "PATCH", url: "/api/v1/groups/" + itoa(a.group), body: `{"description":"x"}`, wantStatus: 200}, "group.updated", api, 0, 0, 0},
		{scenario{name: "api: create access point", method: "POST", url: "/api/v1/access-points", body: `{"name":"API door","reader":"sim:api","mode":"direct"}`, wantStatus: 201}, "access_point.created", api, 0, -1, 0},
		{scenario{name: "api: update access point", method: "PATCH", url: "/api/v1/access-points/" + itoa(a.ap), body: `{"state":"lockdown"}`, wantStatus: 200}, "access_point.updated", api, 0, a.ap, 0},
		{scenario{name: "api: create time profile", method: "POST", url: "/api/v1/time-profiles", body: `{"name":"API hours","windows":` + officeHoursJSON + `}`, wantStatus: 201}, "time_profile.created", api, 0, 0, 0},
		{scenario{name: "api: update time profile", method: "PATCH", url: "/api/v1/time-profiles/" + itoa(a.tp), body: `{"name":"API hours 2"}`, wantStatus: 200}, "time_profile.updated", api, 0, 0, 0},
		{scenario{name: "api: create permission", method: "POST", url: "/api/v1/permissions", body: `{"group_id":` + itoa(a.group) + `,"access_point_id":` + itoa(a.ap) + `}`, wantStatus: 201}, "permission.created", api, 0, a.ap, 0},
		{scenario{name: "api: update permission", method: "PATCH", url: "/api/v1/permissions/" + itoa(a.perm), body: `{"time_profile_id":` + itoa(a.tp) + `}`, wantStatus: 200}, "permission.updated", api, a.user, a.ap, 0},
		{scenario{name: "api: delete permission", method: "DELETE", url: "/api/v1/permissions/" + itoa(a.perm), wantStatus: 204}, "permission.deleted", api, a.user, a.ap, 0},
		{scenario{name: "api: delete time profile", method: "DELETE", url: "/api/v1/time-profiles/" + itoa(a.tp), wantStatus: 204}, "time_profile.deleted", api, 0, 0, 0},
		{scenario{name: "api: delete access point", method: "DELETE", url: "/api/v1/access-points/" + itoa(a.ap), wantStatus: 204}, "access_point.deleted", api, 0, a.ap, 0},
		{scenario{name: "api: delete group", method: "DELETE", url: "/api/v1/groups/" + itoa(a.group), wantStatus: 204}, "group.deleted", api, 0, 0, 0},
		{scenario{name: "api: delete user", method: "DELETE", url: "/api/v1/users/" + itoa(a.user), wantStatus: 204}, "user.deleted", api, a.user, 0, 0},
	}
	for _, tt := range tests {
		before := env.events(t)[0].ID
		if strings.HasPrefix(tt.url, "/api/") {
			env.runAPI(t, []scenario{tt.scenario})
		} else {
			env.runPages(t, []scenario{tt.scenario})
		}
		t.Run(tt.name+"/event", func(t *testing.T) {
			evs, _, err := env.s.Events(ctx, access.EventFilter{Before: 0, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var fresh []access.Event
			for _, e := range evs {
				if e.ID > before {
					fresh = append(fresh, e)
				}
			}
			want := max(tt.wantEvents, 1)
			if len(fresh) != want {
				t.Fatalf("got %d new events, want %d: %+v", len(fresh), want, fresh)
			}
			for _, e := range fresh {
				if e.Actor != tt.wantActor {
					t.Errorf("got event %s by %q, want it by %q", e.Kind, e.Actor, tt.wantActor)
				}
			}
			e := fresh[0]
			if e.Kind != tt.wantKind || e.Actor != tt.wantActor {
				t.Errorf("got event %s by %q, want %s by %q", e.Kind, e.Actor, tt.wantKind, tt.wantActor)
			}
			if tt.wantUser > 0 && e.UserID != tt.wantUser || tt.wantUser < 0 && e.UserID == 0 {
				t.Errorf("got user %d on the event, want %d (-1: any)", e.UserID, tt.wantUser)
			}
			if tt.wantAP > 0 && e.AccessPointID != tt.wantAP || tt.wantAP < 0 && e.AccessPointID == 0 {
				t.Errorf("got access point %d on the event, want %d (-1: any)", e.AccessPointID, tt.wantAP)
			}
			if e.At.IsZero() {
				t.Error("the event has no time")
			}
		})
	}

	// The same trail through the API, as an auditor reads it.
	m := env.mustAPI(t, http.MethodGet, "/api/v1/events?limit=500", "", 200)
	seen := map[string]bool{}
	for _, e := range m["events"].([]any) {
		ev := e.(map[string]any)
		seen[ev["kind"].(string)+" "+ev["actor"].(string)] = true
	}
	for _, tt := range tests {
		if !seen[tt.wantKind+" "+tt.wantActor] {
			t.Errorf("GET /api/v1/events has no %s by %s", tt.wantKind, tt.wantActor)
		}
	}
	if !seen["admin.login "+page] {
		t.Errorf("GET /api/v1/events has no admin.login by %s", page)
	}
}
