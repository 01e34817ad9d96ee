package web_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestPermissionPages(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee","email":"ann@example.com"}`)
	staff := env.create(t, "groups", `{"name":"Staff"}`)
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front","mode":"direct"}`)
	back := env.create(t, "access-points", `{"name":"Back door","reader":"sim:back","mode":"direct"}`)
	office := env.create(t, "time-profiles", `{"name":"Office hours","windows":`+officeHoursJSON+`}`)
	uu := "/users/" + itoa(ann)
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}

	env.runPages(t, []scenario{
		{name: "page", method: "GET", url: "/permissions", wantStatus: 200,
			wantTestIDs:  map[string]string{"no-permissions": "", "permission-form": "Staff"},
			wantFields:   map[string]string{"group_id": "", "user_q": "", "access_point_id": "", "time_profile_id": "", "return_to": "/permissions"},
			wantContains: []string{"Front door", "Back door", "Office hours"}},
		{name: "for a group", method: "POST", url: "/permissions",
			body:       form("group_id", itoa(staff), "access_point_id", itoa(front), "time_profile_id", itoa(office), "return_to", "/permissions"),
			wantStatus: 303, wantLocation: "/permissions?flash=created"},
		{name: "for a user found by the search", method: "POST", url: "/permissions",
			body:       form("group_id", "", "user_id", itoa(ann), "access_point_id", itoa(front), "time_profile_id", "", "return_to", "/permissions"),
			wantStatus: 303, wantLocation: "/permissions?flash=created"},
		{name: "both show", method: "GET", url: "/permissions?flash=created", wantStatus: 200,
			wantTestIDs:  map[string]string{"flash": "Saved.", "permission-row": "Group Staff"},
			wantContains: []string{"Ann Lee", "Office hours", "Any time"}},

		{name: "a user that does not exist", method: "POST", url: "/permissions",
			body:       form("user_id", "999999", "access_point_id", itoa(back), "time_profile_id", itoa(office), "return_to", "/permissions"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-form": "does not exist"},
			wantFields: map[string]string{"access_point_id": itoa(back), "time_profile_id": itoa(office)}},
		{name: "both a group and a user", method: "POST", url: "/permissions",
			body:       form("group_id", itoa(staff), "user_id", itoa(ann), "access_point_id", itoa(back), "return_to", "/permissions"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-user_id": "either a user or a group", "user-choice": "Ann Lee"},
			wantFields: map[string]string{"group_id": itoa(staff), "user_id": itoa(ann), "access_point_id": itoa(back)}},
		{name: "neither a group nor a user", method: "POST", url: "/permissions", body: form("access_point_id", itoa(back), "return_to", "/permissions"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-user_id": "either a user or a group"}, wantFields: map[string]string{"access_point_id": itoa(back)}},
		{name: "no access point", method: "POST", url: "/permissions", body: form("group_id", itoa(staff), "access_point_id", "", "return_to", "/permissions"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-access_point_id": "required"}, wantFields: map[string]string{"group_id": itoa(staff)}},
		{name: "a duplicate", method: "POST", url: "/permissions",
			body:       form("group_id", itoa(staff), "access_point_id", itoa(front), "time_profile_id", itoa(office), "return_to", "/permissions"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-form": "the same permission already exists: group Staff at Front door, Office hours"},
			wantFields: map[string]string{"group_id": itoa(staff), "access_point_id": itoa(front), "time_profile_id": itoa(office)}},
		{name: "an access point id that is not a number", method: "POST", url: "/permissions", body: form("group_id", itoa(staff), "access_point_id", "front"),
			wantStatus: 400},
		{name: "the refused ones stored nothing", method: "GET", url: "/permissions", wantStatus: 200, wantNotContains: []string{"Back door</td>"}},

		{name: "user page form", method: "GET", url: uu, wantStatus: 200,
			wantTestIDs: map[string]string{"permission-row": "Front door", "permission-form": ""},
			wantFields:  map[string]string{"user_id": itoa(ann), "return_to": uu}},
		{name: "from the user page", method: "POST", url: "/permissions",
			body:       form("user_id", itoa(ann), "access_point_id", itoa(back), "time_profile_id", itoa(office), "return_to", uu),
			wantStatus: 303, wantLocation: uu + "?flash=created"},
		{name: "shows on the user page", method: "GET", url: uu + "?flash=created", wantStatus: 200,
			wantTestIDs: map[string]string{"flash": "Saved.", "permission-row": "Back door"}, wantContains: []string{"Office hours"}},
		{name: "a return_to off the site is ignored", method: "POST", url: "/permissions",
			body:       form("group_id", itoa(staff), "access_point_id", itoa(back), "return_to", "https://evil.example/users/1"),
			wantStatus: 303, wantLocation: "/permissions?flash=created"},
		{name: "a return_to that smuggles a query is ignored", method: "POST", url: "/permissions",
			body:       form("user_id", itoa(ann), "access_point_id", itoa(back), "return_to", "/users/1?x=//evil.example"),
			wantStatus: 303, wantLocation: "/permissions?flash=created"},
	})

	// Delete from the user page and from the permissions page.
	p := firstPermission(t, env, ann, back)
	env.runPages(t, []scenario{
		{name: "delete from the user page", method: "POST", url: "/permissions/" + itoa(p) + "/delete", body: form("return_to", uu),
			wantStatus: 303, wantLocation: uu + "?flash=deleted"},
		{name: "gone from the user page", method: "GET", url: uu, wantStatus: 200, wantTestIDs: map[string]string{"permission-row": "Front door"},
			wantNotContains: []string{"Office hours</td>"}},
		{name: "delete again", method: "POST", url: "/permissions/" + itoa(p) + "/delete", body: form("return_to", uu), wantStatus: 404},
		{name: "delete a bad id", method: "POST", url: "/permissions/abc/delete", wantStatus: 400},
	})
	for _, perm := range allPermissions(t, env) {
		w := env.post("/permissions/"+itoa(perm)+"/delete", url.Values{"return_to": {"/permissions"}})
		if w.Code != 303 || w.Header().Get("Location") != "/permissions?flash=deleted" {
			t.Errorf("delete permission %d: got status %d to %q, want 303 to /permissions?flash=deleted", perm, w.Code, w.Header().Get("Location"))
		}
	}
	env.runPages(t, []scenario{
		{name: "all gone", method: "GET", url: "/permissions", wantStatus: 200, wantTestIDs: map[string]string{"no-permissions": ""}},
	})
}

// TestPermissionErrorOnOwnerPage: a refused permission added from a user's
// or a group's page comes back on that page, still naming its owner.
func TestPermissionErrorOnOwnerPage(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee"}`) // no email: only the id can name her
	staff := env.create(t, "groups", `{"name":"Staff"}`)
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front","mode":"direct"}`)
	back := env.create(t, "access-points", `{"name":"Back door","reader":"sim:back","mode":"direct"}`)
	env.create(t, "permissions", `{"user_id":`+itoa(ann)+`,"access_point_id":`+itoa(front)+`}`)
	env.create(t, "permissions", `{"group_id":`+itoa(staff)+`,"access_point_id":`+itoa(front)+`}`)
	tests := []struct {
		name, owner, ownerID, page, heading string
	}{
		{"user", "user_id", itoa(ann), "/users/" + itoa(ann), "user-name"},
		{"group", "group_id", itoa(staff), "/groups/" + itoa(staff), "group-name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := env.post("/permissions", url.Values{tt.owner: {tt.ownerID}, "access_point_id": {itoa(front)}, "time_profile_id": {""}, "return_to": {tt.page}})
			if w.Code != 422 {
				t.Fatalf("duplicate from the %s page: got status %d, want 422\n%s", tt.name, w.Code, w.Body)
			}
			doc := parse(t, w.Body.String())
			if byTestID(doc, tt.heading).Length() == 0 {
				t.Errorf("the form came back on another page than the %s's", tt.name)
			}
			form := byTestID(doc, "permission-form")
			if got := byTestID(doc, "error-form").Text(); got == "" {
				t.Errorf("no form error shown:\n%s", w.Body)
			}
			if got := form.Find(fmt.Sprintf("[name=%q]", tt.owner)).AttrOr("value", ""); got != tt.ownerID {
				t.Errorf("the form came back without its %s: %s %q, want %s", tt.name, tt.owner, got, tt.ownerID)
			}
			if got := form.Find(`[name="return_to"]`).AttrOr("value", ""); got != tt.page {
				t.Errorf("got return_to %q, want %s", got, tt.page)
			}
			// Sending the form back as shown, with another door, works.
			resend := url.Values{"access_point_id": {itoa(back)}}
			form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
				resend.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
			})
			w = env.post("/permissions", resend)
			if w.Code != 303 || w.Header().Get("Location") != tt.page+"?flash=created" {
				t.Errorf("resend: got status %d to %q, want 303 to %s?flash=created\n%s", w.Code, w.Header().Get("Location"), tt.page, w.Body)
			}
		})
	}
}

func allPermissions(t *testing.T, env *env) []int64 {
	t.Helper()
	var ids []int64
	for _, p := range env.mustAPI(t, "GET", "/api/v1/permissions", "", 200)["permissions"].([]any) {
		ids = append(ids, int64(p.(map[string]any)["id"].(float64)))
	}
	return ids
}

func firstPermission(t *testing.T, env *env, user, ap int64) int64 {
	t.Helper()
	for _, p := range env.mustAPI(t, "GET", "/api/v1/permissions?user="+itoa(user)+"&access_point="+itoa(ap), "", 200)["permissions"].([]any) {
		return int64(p.(map[string]any)["id"].(float64))
	}
	t.Fatalf("no permission of user %d at access point %d", user, ap)
	return 0
}
