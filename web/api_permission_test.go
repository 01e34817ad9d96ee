package web_test

import (
	"testing"
)

func TestAPIPermissions(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann","email":"ann@example.com"}`)
	bob := env.create(t, "users", `{"first_name":"Bob"}`)
	staff := env.create(t, "groups", `{"name":"Staff"}`)
	front := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	back := env.create(t, "access-points", `{"name":"Back","reader":"sim:back","mode":"direct"}`)
	office := env.create(t, "time-profiles", `{"name":"Office","windows":`+officeHoursJSON+`}`)
	p := env.create(t, "permissions", `{"user_id":`+itoa(ann)+`,"access_point_id":`+itoa(front)+`}`)
	gone := env.create(t, "permissions", `{"user_id":`+itoa(bob)+`,"access_point_id":`+itoa(front)+`}`)
	pp := "/api/v1/permissions/" + itoa(p)
	ids := func(kv ...string) string {
		s := "{"
		for i := 0; i < len(kv); i += 2 {
			if i > 0 {
				s += ","
			}
			s += `"` + kv[i] + `":` + kv[i+1]
		}
		return s + "}"
	}

	env.runAPI(t, []scenario{
		{name: "create for a user", method: "POST", url: "/api/v1/permissions", body: ids("user_id", itoa(ann), "access_point_id", itoa(back)),
			wantStatus: 201, wantContains: []string{`"id":`, `"user_id":` + itoa(ann), `"group_id":null`, `"access_point_id":` + itoa(back), `"time_profile_id":null`}},
		{name: "create for a group with a time profile", method: "POST", url: "/api/v1/permissions",
			body:       ids("group_id", itoa(staff), "access_point_id", itoa(front), "time_profile_id", itoa(office)),
			wantStatus: 201, wantContains: []string{`"user_id":null`, `"group_id":` + itoa(staff), `"time_profile_id":` + itoa(office)}},
		{name: "the same door at another time is another permission", method: "POST", url: "/api/v1/permissions",
			body: ids("user_id", itoa(ann), "access_point_id", itoa(front), "time_profile_id", itoa(office)), wantStatus: 201},
		{name: "list", method: "GET", url: "/api/v1/permissions", wantStatus: 200, wantContains: []string{`"permissions":[`, `"next":`}},
		{name: "list of a user", method: "GET", url: "/api/v1/permissions?user=" + itoa(bob), wantStatus: 200,
			wantContains: []string{`"id":` + itoa(gone)}, wantNotContains: []string{`"user_id":` + itoa(ann)}},
		{name: "list of an access point", method: "GET", url: "/api/v1/permissions?access_point=" + itoa(back), wantStatus: 200,
			wantContains: []string{`"access_point_id":` + itoa(back)}, wantNotContains: []string{`"access_point_id":` + itoa(front)}},
		{name: "get", method: "GET", url: pp, wantStatus: 200,
			wantContains: []string{`"id":` + itoa(p), `"user_id":` + itoa(ann), `"access_point_id":` + itoa(front)}},
		{name: "patch onto an existing permission", method: "PATCH", url: pp, body: ids("time_profile_id", itoa(office)), wantStatus: 409},
		{name: "patch the door", method: "PATCH", url: pp, body: ids("access_point_id", itoa(back), "time_profile_id", itoa(office)), wantStatus: 200,
			wantContains: []string{`"user_id":` + itoa(ann), `"access_point_id":` + itoa(back), `"time_profile_id":` + itoa(office)}},
		{name: "patch to a group drops the user", method: "PATCH", url: pp, body: ids("group_id", itoa(staff)), wantStatus: 200,
			wantContains: []string{`"user_id":null`, `"group_id":` + itoa(staff), `"access_point_id":` + itoa(back)}},
		{name: "null clears the time profile", method: "PATCH", url: pp, body: ids("time_profile_id", "null"), wantStatus: 200,
			wantContains: []string{`"time_profile_id":null`, `"group_id":` + itoa(staff)}},
		{name: "patch kept", method: "GET", url: pp, wantStatus: 200,
			wantContains: []string{`"user_id":null`, `"group_id":` + itoa(staff), `"access_point_id":` + itoa(back), `"time_profile_id":null`}},

		{name: "both user and group", method: "POST", url: "/api/v1/permissions", body: ids("user_id", itoa(bob), "group_id", itoa(staff), "access_point_id", itoa(back)),
			wantStatus: 422, wantContains: []string{`"error":"invalid"`}},
		{name: "neither user nor group", method: "POST", url: "/api/v1/permissions", body: ids("access_point_id", itoa(back)), wantStatus: 422},
		{name: "no access point", method: "POST", url: "/api/v1/permissions", body: ids("user_id", itoa(bob)), wantStatus: 422, wantContains: []string{"access_point_id"}},
		{name: "patch to both", method: "PATCH", url: pp, body: ids("user_id", itoa(bob), "group_id", itoa(staff)), wantStatus: 422},
		{name: "duplicate", method: "POST", url: "/api/v1/permissions", body: ids("user_id", itoa(ann), "access_point_id", itoa(back)),
			wantStatus: 409, wantContains: []string{`"error":"conflict"`}},
		{name: "unknown user", method: "POST", url: "/api/v1/permissions", body: ids("user_id", "999999", "access_point_id", itoa(back)), wantStatus: 409},
		{name: "unknown access point", method: "POST", url: "/api/v1/permissions", body: ids("user_id", itoa(bob), "access_point_id", "999999"), wantStatus: 409},
		{name: "unknown time profile", method: "POST", url: "/api/v1/permissions", body: ids("user_id", itoa(bob), "access_point_id", itoa(back), "time_profile_id", "999999"), wantStatus: 409},
		{name: "user filter not a number", method: "GET", url: "/api/v1/permissions?user=ann", wantStatus: 400},
		{name: "access point filter not a number", method: "GET", url: "/api/v1/permissions?access_point=x", wantStatus: 400},

		{name: "delete", method: "DELETE", url: "/api/v1/permissions/" + itoa(gone), wantStatus: 204},
		{name: "deleted is gone", method: "GET", url: "/api/v1/permissions/" + itoa(gone), wantStatus: 404},
		{name: "delete again", method: "DELETE", url: "/api/v1/permissions/" + itoa(gone), wantStatus: 404},
		{name: "deleting a user deletes their permissions", method: "DELETE", url: "/api/v1/users/" + itoa(bob), wantStatus: 204},
		{name: "none left for that user", method: "GET", url: "/api/v1/permissions?user=" + itoa(bob), wantStatus: 200, wantContains: []string{`"permissions":[]`}},
	})
	badInput(t, env, "/api/v1/permissions", pp, `{"user_id":"ann","access_point_id":1}`)
}
