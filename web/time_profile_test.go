package web_test

import (
	"net/url"
	"testing"
)

func TestTimeProfilePages(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	env.runPages(t, []scenario{
		{name: "empty list", method: "GET", url: "/time-profiles", wantStatus: 200, wantTestIDs: map[string]string{"empty": "any time"}},
		{name: "new form suggests office hours", method: "GET", url: "/time-profiles/new", wantStatus: 200,
			wantTestIDs: map[string]string{"time-profile-form": ""}, wantFields: map[string]string{"windows": "Mon-Fri 08:00-18:00"}},
	})
	w := env.post("/time-profiles", url.Values{"name": {"Office"}, "windows": {"Mon-Fri 08:00-18:00\r\nSat 09:00-12:00\r\n"}, "holidays": {"2026-12-25\n2026-12-24"}})
	if w.Code != 303 {
		t.Fatalf("create: got status %d, want 303\n%s", w.Code, w.Body)
	}
	office := redirectID(t, w, "/time-profiles/")
	oo := "/time-profiles/" + itoa(office)
	u := env.create(t, "users", `{"first_name":"Ann"}`)
	ap := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	nights := env.create(t, "time-profiles", `{"name":"Nights","windows":[{"days":["sun"],"start":"22:00","end":"06:00"}]}`)
	nn := "/time-profiles/" + itoa(nights)
	form := func(name, windows, holidays string) string {
		return url.Values{"name": {name}, "windows": {windows}, "holidays": {holidays}}.Encode()
	}

	env.runPages(t, []scenario{
		{name: "the new profile", method: "GET", url: w.Header().Get("Location"), wantStatus: 200,
			wantTestIDs: map[string]string{"time-profile-name": "Office", "flash": "Saved."},
			wantFields:  map[string]string{"name": "Office", "windows": "Mon-Fri 08:00-18:00\nSat 09:00-12:00", "holidays": "2026-12-24\n2026-12-25"}},
		{name: "list", method: "GET", url: "/time-profiles", wantStatus: 200,
			wantTestIDs: map[string]string{"time-profile-row": "Office"}, wantContains: []string{"Mon-Fri 08:00-18:00", "Sat 09:00-12:00"}},
		{name: "an overnight window", method: "POST", url: "/time-profiles", body: form("Late shift", "Fri,Sat 22:00-06:00", ""), wantStatus: 303},
		{name: "an unknown day", method: "POST", url: "/time-profiles", body: form("Funtime", "Funday 08:00-18:00", "2026-01-01"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-windows": "Funday"},
			wantFields: map[string]string{"name": "Funtime", "windows": "Funday 08:00-18:00", "holidays": "2026-01-01"}},
		{name: "a bad time", method: "POST", url: "/time-profiles", body: form("Late", "Mon 08:00-25:00", ""),
			wantStatus: 422, wantTestIDs: map[string]string{"error-windows": "25:00"}, wantFields: map[string]string{"windows": "Mon 08:00-25:00"}},
		{name: "no time range", method: "POST", url: "/time-profiles", body: form("Late", "Mon", ""),
			wantStatus: 422, wantTestIDs: map[string]string{"error-windows": ""}},
		{name: "no windows", method: "POST", url: "/time-profiles", body: form("Never", "  \n", ""),
			wantStatus: 422, wantTestIDs: map[string]string{"error-windows": "at least one"}, wantFields: map[string]string{"name": "Never"}},
		{name: "a bad holiday", method: "POST", url: "/time-profiles", body: form("Xmas", "Mon 08:00-18:00", "25/12/2026"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-holidays": "25/12/2026"}, wantFields: map[string]string{"holidays": "25/12/2026"}},
		{name: "no name", method: "POST", url: "/time-profiles", body: form("", "Mon 08:00-18:00", ""),
			wantStatus: 422, wantTestIDs: map[string]string{"error-name": "required"}, wantFields: map[string]string{"windows": "Mon 08:00-18:00"}},
		{name: "a duplicate name", method: "POST", url: "/time-profiles", body: form("office", "Mon 08:00-18:00", ""),
			wantStatus: 422, wantTestIDs: map[string]string{"error-name": "is already the name of time profile Office", "error-link-name": "Open it"},
			wantContains: []string{`href="` + oo + `"`}, wantFields: map[string]string{"name": "office"}},

		{name: "update", method: "POST", url: oo, body: form("Office hours", "Weekdays 07:30-19:00", ""), wantStatus: 303, wantLocation: oo + "?flash=saved"},
		{name: "the update shows", method: "GET", url: oo, wantStatus: 200,
			wantTestIDs: map[string]string{"time-profile-name": "Office hours"},
			wantFields:  map[string]string{"name": "Office hours", "windows": "Mon-Fri 07:30-19:00", "holidays": ""}},
		{name: "update with a bad window", method: "POST", url: oo, body: form("Renamed", "Mon-Fri 9-5", ""),
			wantStatus: 422, wantTestIDs: map[string]string{"error-windows": ""}, wantFields: map[string]string{"name": "Renamed", "windows": "Mon-Fri 9-5"}},
		{name: "the bad update stored nothing", method: "GET", url: oo, wantStatus: 200,
			wantFields: map[string]string{"name": "Office hours", "windows": "Mon-Fri 07:30-19:00"}},
		{name: "update a missing profile", method: "POST", url: "/time-profiles/999999", body: form("X", "Mon 08:00-18:00", ""), wantStatus: 404},

		{name: "used by a permission", method: "POST", url: "/permissions",
			body:       "user_id=" + itoa(u) + "&access_point_id=" + itoa(ap) + "&time_profile_id=" + itoa(office) + "&return_to=/users/" + itoa(u),
			wantStatus: 303},
		{name: "delete one in use", method: "POST", url: oo + "/delete", wantStatus: 303, wantLocation: oo + "?flash=inuse#used-by"},
		{name: "back on its page, which says why", method: "GET", url: oo + "?flash=inuse", wantStatus: 200,
			wantTestIDs:  map[string]string{"time-profile-name": "Office hours", "flash": "Not deleted: permissions below still use it", "permission-row": "Ann"},
			wantContains: []string{`class="flash bad"`, `href="/users/` + itoa(u) + `"`, `name="return_to" value="` + oo + `"`}},
		{name: "the page says what uses it", method: "GET", url: oo, wantStatus: 200, wantTestIDs: map[string]string{"permission-row": "Ann"}},
	})
	env.runPages(t, []scenario{
		{name: "remove it from the profile's page", method: "POST", url: "/permissions/" + itoa(firstPermission(t, env, u, ap)) + "/delete", body: "return_to=" + oo,
			wantStatus: 303, wantLocation: oo + "?flash=deleted"},
		{name: "nothing uses it now", method: "GET", url: oo + "?flash=deleted", wantStatus: 200, wantTestIDs: map[string]string{"used-by-none": ""}},
		{name: "delete the one no longer in use", method: "POST", url: oo + "/delete", wantStatus: 303},
		{name: "delete an unused one", method: "POST", url: nn + "/delete", wantStatus: 303, wantLocation: "/time-profiles?flash=deleted"},
		{name: "gone from the list", method: "GET", url: "/time-profiles", wantStatus: 200, wantNotContains: []string{"Nights"}},
		{name: "gone", method: "GET", url: nn, wantStatus: 404},
	})
}
