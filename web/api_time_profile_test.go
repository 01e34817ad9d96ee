package web_test

import (
	"testing"
)

const officeHoursJSON = `[{"days":["mon","tue","wed","thu","fri"],"start":"08:00","end":"18:00"}]`

func TestAPITimeProfiles(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	office := env.create(t, "time-profiles", `{"name":"Office hours","windows":`+officeHoursJSON+`,"holidays":["2026-12-25"]}`)
	used := env.create(t, "time-profiles", `{"name":"Nights","windows":[{"days":["fri"],"start":"22:00","end":"06:00"}]}`)
	gone := env.create(t, "time-profiles", `{"name":"Old","windows":[{"days":["sun"],"start":"10:00","end":"12:00"}]}`)
	u := env.create(t, "users", `{"first_name":"Ann"}`)
	ap := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	env.create(t, "permissions", `{"user_id":`+itoa(u)+`,"access_point_id":`+itoa(ap)+`,"time_profile_id":`+itoa(used)+`}`)
	oo := "/api/v1/time-profiles/" + itoa(office)

	env.runAPI(t, []scenario{
		{name: "create", method: "POST", url: "/api/v1/time-profiles",
			body:       `{"name":"Weekends","windows":[{"days":["sat","sun"],"start":"09:00","end":"12:30"}],"holidays":["2026-01-01","2025-12-31"]}`,
			wantStatus: 201, wantContains: []string{`"id":`, `"name":"Weekends"`, `"days":["sun","sat"]`, `"start":"09:00"`, `"end":"12:30"`, `"holidays":["2025-12-31","2026-01-01"]`}},
		{name: "create with full day names", method: "POST", url: "/api/v1/time-profiles",
			body:       `{"name":"Mondays","windows":[{"days":["Monday"],"start":"00:00","end":"24:00"}]}`,
			wantStatus: 201, wantContains: []string{`"days":["mon"]`, `"end":"24:00"`, `"holidays":[]`}},
		{name: "list", method: "GET", url: "/api/v1/time-profiles", wantStatus: 200,
			wantContains: []string{`"time_profiles":[`, `"name":"Office hours"`, `"name":"Nights"`, `"next":`}},
		{name: "get", method: "GET", url: oo, wantStatus: 200,
			wantContains: []string{`"name":"Office hours"`, `"days":["mon","tue","wed","thu","fri"]`, `"start":"08:00"`, `"end":"18:00"`, `"holidays":["2026-12-25"]`}},
		{name: "patch the name only", method: "PATCH", url: oo, body: `{"name":"Office"}`, wantStatus: 200,
			wantContains: []string{`"name":"Office"`, `"start":"08:00"`, `"holidays":["2026-12-25"]`}},
		{name: "patch the holidays only", method: "PATCH", url: oo, body: `{"holidays":[]}`, wantStatus: 200,
			wantContains: []string{`"name":"Office"`, `"start":"08:00"`, `"holidays":[]`}},
		{name: "patch the windows only", method: "PATCH", url: oo, body: `{"windows":[{"days":["sat"],"start":"10:00","end":"14:00"}]}`, wantStatus: 200,
			wantContains: []string{`"name":"Office"`, `"days":["sat"]`, `"start":"10:00"`}},

		{name: "unknown day", method: "POST", url: "/api/v1/time-profiles", body: `{"name":"X","windows":[{"days":["funday"],"start":"08:00","end":"18:00"}]}`,
			wantStatus: 422, wantContains: []string{`"error":"invalid"`, "funday"}},
		{name: "bad start", method: "POST", url: "/api/v1/time-profiles", body: `{"name":"X","windows":[{"days":["mon"],"start":"25:00","end":"18:00"}]}`, wantStatus: 422},
		{name: "bad end", method: "POST", url: "/api/v1/time-profiles", body: `{"name":"X","windows":[{"days":["mon"],"start":"08:00","end":"noon"}]}`, wantStatus: 422},
		{name: "same start and end", method: "POST", url: "/api/v1/time-profiles", body: `{"name":"X","windows":[{"days":["mon"],"start":"08:00","end":"08:00"}]}`, wantStatus: 422},
		{name: "a window without days", method: "POST", url: "/api/v1/time-profiles", body: `{"name":"X","windows":[{"days":[],"start":"08:00","end":"18:00"}]}`, wantStatus: 422},
		{name: "no windows", method: "POST", url: "/api/v1/time-profiles", body: `{"name":"X","windows":[]}`, wantStatus: 422, wantContains: []string{"windows"}},
		{name: "bad holiday", method: "POST", url: "/api/v1/time-profiles", body: `{"name":"X","windows":` + officeHoursJSON + `,"holidays":["25/12/2026"]}`,
			wantStatus: 422, wantContains: []string{"holidays"}},
		{name: "no name", method: "POST", url: "/api/v1/time-profiles", body: `{"windows":` + officeHoursJSON + `}`, wantStatus: 422},
		{name: "duplicate name", method: "POST", url: "/api/v1/time-profiles", body: `{"name":"nights","windows":` + officeHoursJSON + `}`,
			wantStatus: 409, wantContains: []string{`"error":"conflict"`}},
		{name: "patch an unknown day", method: "PATCH", url: oo, body: `{"windows":[{"days":["mon","xyz"],"start":"08:00","end":"18:00"}]}`, wantStatus: 422},
		{name: "days not a list", method: "PATCH", url: oo, body: `{"windows":[{"days":"mon","start":"08:00","end":"18:00"}]}`, wantStatus: 400},
		{name: "failed changes left it alone", method: "GET", url: oo, wantStatus: 200, wantContains: []string{`"name":"Office"`, `"days":["sat"]`}},

		{name: "delete one in use", method: "DELETE", url: "/api/v1/time-profiles/" + itoa(used), wantStatus: 409, wantContains: []string{`"error":"conflict"`}},
		{name: "still there", method: "GET", url: "/api/v1/time-profiles/" + itoa(used), wantStatus: 200},
		{name: "delete", method: "DELETE", url: "/api/v1/time-profiles/" + itoa(gone), wantStatus: 204},
		{name: "deleted is gone", method: "GET", url: "/api/v1/time-profiles/" + itoa(gone), wantStatus: 404},
		{name: "delete again", method: "DELETE", url: "/api/v1/time-profiles/" + itoa(gone), wantStatus: 404},
	})
	badInput(t, env, "/api/v1/time-profiles", oo, `{"name":"X","windows":{"days":["mon"]}}`)
}
