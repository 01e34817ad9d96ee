package web_test

import (
	"net/url"
	"testing"
)

func TestGroupPages(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	env.runPages(t, []scenario{
		{name: "empty list", method: "GET", url: "/groups", wantStatus: 200, wantTestIDs: map[string]string{"empty": "No groups", "new-group": ""}},
		{name: "new form", method: "GET", url: "/groups/new", wantStatus: 200, wantTestIDs: map[string]string{"group-form": ""},
			wantFields: map[string]string{"name": ""}},
	})
	w := env.post("/groups", url.Values{"name": {"Staff"}, "description": {"Everyone on the payroll"}})
	if w.Code != 303 {
		t.Fatalf("create: got status %d, want 303\n%s", w.Code, w.Body)
	}
	staff := redirectID(t, w, "/groups/")
	other := env.create(t, "groups", `{"name":"Cleaners"}`)
	ap := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	gg := "/groups/" + itoa(staff)

	env.runPages(t, []scenario{
		{name: "the new group", method: "GET", url: w.Header().Get("Location"), wantStatus: 200,
			wantTestIDs:  map[string]string{"group-name": "Staff", "flash": "Saved.", "no-permissions": "", "permission-form": ""},
			wantFields:   map[string]string{"name": "Staff", "description": "Everyone on the payroll", "group_id": itoa(staff)},
			wantContains: []string{"0 members"}},
		{name: "list", method: "GET", url: "/groups", wantStatus: 200, wantTestIDs: map[string]string{"group-row": "Staff"},
			wantContains: []string{"Everyone on the payroll", "Cleaners"}},
		{name: "create without a name", method: "POST", url: "/groups", body: "name=+&description=Keep+me",
			wantStatus: 422, wantTestIDs: map[string]string{"error-name": "required"}, wantFields: map[string]string{"description": "Keep me"}},
		{name: "create a duplicate", method: "POST", url: "/groups", body: "name=STAFF&description=Again",
			wantStatus: 422, wantTestIDs: map[string]string{"error-name": "is already the name of group Staff"},
			wantContains: []string{`href="` + gg + `"`}, wantFields: map[string]string{"name": "STAFF", "description": "Again"}},
		{name: "update", method: "POST", url: gg, body: "name=All+staff&description=Payroll", wantStatus: 303, wantLocation: gg + "?flash=saved"},
		{name: "the update shows", method: "GET", url: gg + "?flash=saved", wantStatus: 200,
			wantTestIDs: map[string]string{"group-name": "All staff", "flash": "Changes saved."}, wantFields: map[string]string{"name": "All staff", "description": "Payroll"}},
		{name: "update without a name", method: "POST", url: gg, body: "name=&description=Changed",
			wantStatus: 422, wantTestIDs: map[string]string{"error-name": "required"}, wantFields: map[string]string{"name": "", "description": "Changed"}},
		{name: "update onto another name", method: "POST", url: gg, body: "name=cleaners&description=Changed",
			wantStatus: 422, wantTestIDs: map[string]string{"error-name": "is already the name of group Cleaners"}, wantFields: map[string]string{"name": "cleaners"}},
		{name: "the bad updates stored nothing", method: "GET", url: gg, wantStatus: 200, wantFields: map[string]string{"name": "All staff", "description": "Payroll"}},
		{name: "update a missing group", method: "POST", url: "/groups/999999", body: "name=X", wantStatus: 404},
		{name: "show a missing group", method: "GET", url: "/groups/999999", wantStatus: 404},

		{name: "a permission from the group page", method: "POST", url: "/permissions",
			body:       "group_id=" + itoa(staff) + "&access_point_id=" + itoa(ap) + "&time_profile_id=&return_to=" + url.QueryEscape(gg),
			wantStatus: 303, wantLocation: gg + "?flash=created"},
		{name: "shows on the group page", method: "GET", url: gg, wantStatus: 200, wantTestIDs: map[string]string{"permission-row": "Front"}},

		{name: "delete", method: "POST", url: gg + "/delete", wantStatus: 303, wantLocation: "/groups?flash=deleted"},
		{name: "gone from the list", method: "GET", url: "/groups?flash=deleted", wantStatus: 200,
			wantTestIDs: map[string]string{"flash": "Deleted.", "group-row": "Cleaners"}, wantNotContains: []string{"All staff"}},
		{name: "gone", method: "GET", url: gg, wantStatus: 404},
		{name: "its permissions went with it", method: "GET", url: "/permissions", wantStatus: 200, wantTestIDs: map[string]string{"no-permissions": ""}},
		{name: "delete again", method: "POST", url: gg + "/delete", wantStatus: 404},
		{name: "delete a bad id", method: "POST", url: "/groups/x/delete", wantStatus: 400},
		{name: "the other group stays", method: "GET", url: "/groups/" + itoa(other), wantStatus: 200},
	})
}
