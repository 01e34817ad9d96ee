package web_test

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestUserPages(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	staff := env.create(t, "groups", `{"name":"Staff"}`)
	cleaners := env.create(t, "groups", `{"name":"Cleaners"}`)
	env.create(t, "users", `{"first_name":"Bob","last_name":"Ray","email":"bob@example.com"}`)

	w := env.post("/users", url.Values{"first_name": {"Ann"}, "last_name": {"Lee"}, "email": {"ann.lee@example.com"}, "enabled": {"on"},
		"valid_from": {"2026-04-01"}, "valid_until": {"2026-12-31"}})
	if w.Code != 303 {
		t.Fatalf("create: got status %d, want 303\n%s", w.Code, w.Body)
	}
	ann := redirectID(t, w, "/users/")
	uu := "/users/" + itoa(ann)

	env.runPages(t, []scenario{
		{name: "the new user", method: "GET", url: w.Header().Get("Location"), wantStatus: 200,
			wantTestIDs: map[string]string{"user-name": "Ann Lee", "flash": "Saved."},
			wantFields: map[string]string{"first_name": "Ann", "last_name": "Lee", "email": "ann.lee@example.com", "enabled": "true",
				"valid_from": "2026-04-01", "valid_until": "2026-12-31"}},
		{name: "list", method: "GET", url: "/users", wantStatus: 200,
			wantTestIDs:  map[string]string{"user-table": "", "user-row": "Ann Lee", "user-search": "", "nav-users": ""},
			wantContains: []string{"Bob Ray", "ann.lee@example.com", `<html`}},
		{name: "new form", method: "GET", url: "/users/new", wantStatus: 200,
			wantTestIDs: map[string]string{"user-form": ""}, wantFields: map[string]string{"first_name": "", "enabled": "true"}},
		{name: "search", method: "GET", url: "/users?q=lee", wantStatus: 200,
			wantTestIDs: map[string]string{"user-row": "Ann Lee"}, wantFields: map[string]string{"q": "lee"}, wantNotContains: []string{"Bob Ray"}},
		{name: "search from htmx gets only the table", method: "GET", url: "/users?q=ann", headers: map[string]string{"HX-Request": "true"}, wantStatus: 200,
			wantTestIDs:     map[string]string{"user-table": "", "user-row": "Ann Lee"},
			wantNotContains: []string{"<html", "<nav", "Bob Ray", `data-testid="user-search"`}},
		{name: "search by email prefix from htmx", method: "GET", url: "/users?q=bob%40", headers: map[string]string{"HX-Request": "true"}, wantStatus: 200,
			wantTestIDs: map[string]string{"user-row": "Bob Ray"}, wantNotContains: []string{"Ann Lee"}},
		{name: "search with no match", method: "GET", url: "/users?q=zzz", headers: map[string]string{"HX-Request": "true"}, wantStatus: 200,
			wantTestIDs: map[string]string{"empty": "zzz"}, wantNotContains: []string{`data-testid="user-row"`}},
		{name: "a boosted link gets the whole page", method: "GET", url: "/users?q=ann", headers: map[string]string{"HX-Request": "true", "HX-Boosted": "true"},
			wantStatus: 200, wantContains: []string{"<html"}},
		{name: "search words are not markup", method: "GET", url: "/users?q=" + url.QueryEscape(`<script>x</script>`), wantStatus: 200,
			wantNotContains: []string{"<script>x"}},

		{name: "update", method: "POST", url: uu, body: "first_name=Ann&last_name=Lee-Smith&email=ann%40example.org&valid_from=&valid_until=",
			wantStatus: 303, wantLocation: uu + "?flash=saved"},
		{name: "the update shows", method: "GET", url: uu + "?flash=saved", wantStatus: 200,
			wantTestIDs: map[string]string{"user-name": "Ann Lee-Smith", "flash": "Changes saved."},
			wantFields:  map[string]string{"last_name": "Lee-Smith", "email": "ann@example.org", "enabled": "false", "valid_from": "", "valid_until": ""}},

		{name: "create with a bad email", method: "POST", url: "/users", body: "first_name=Eve&last_name=Adams&email=eve-at-example&enabled=on",
			wantStatus: 422, wantTestIDs: map[string]string{"error-email": "not a valid email"},
			wantFields: map[string]string{"first_name": "Eve", "last_name": "Adams", "email": "eve-at-example", "enabled": "true"}},
		{name: "create without a name", method: "POST", url: "/users", body: "email=eve%40example.com",
			wantStatus: 422, wantTestIDs: map[string]string{"error-first_name": "required"}, wantFields: map[string]string{"email": "eve@example.com"}},
		{name: "create with a bad date", method: "POST", url: "/users", body: "first_name=Eve&valid_from=31%2F12%2F2026",
			wantStatus: 422, wantTestIDs: map[string]string{"error-valid_from": "not a date"}, wantFields: map[string]string{"valid_from": "31/12/2026", "first_name": "Eve"}},
		{name: "create ending before it starts", method: "POST", url: "/users", body: "first_name=Eve&valid_from=2026-05-01&valid_until=2026-04-01",
			wantStatus: 422, wantTestIDs: map[string]string{"error-valid_until": "after"}, wantFields: map[string]string{"valid_from": "2026-05-01", "valid_until": "2026-04-01"}},
		{name: "update with a bad email", method: "POST", url: uu, body: "first_name=Annie&last_name=Lee-Smith&email=bad&enabled=on",
			wantStatus: 422, wantTestIDs: map[string]string{"error-email": "not a valid email"},
			wantFields: map[string]string{"first_name": "Annie", "email": "bad", "enabled": "true"}},
		{name: "the bad update stored nothing", method: "GET", url: uu, wantStatus: 200,
			wantFields: map[string]string{"first_name": "Ann", "email": "ann@example.org", "enabled": "false"}},
		{name: "update a missing user", method: "POST", url: "/users/999999", body: "first_name=X", wantStatus: 404},

		{name: "set groups", method: "POST", url: uu + "/groups", body: "group=" + itoa(staff) + "&group=" + itoa(cleaners),
			wantStatus: 303, wantLocation: uu + "?flash=saved"},
		{name: "not a group id", method: "POST", url: uu + "/groups", body: "group=staff", wantStatus: 400},
		{name: "a group that does not exist", method: "POST", url: uu + "/groups", body: "group=999999", wantStatus: 409},
		{name: "groups of a missing user", method: "POST", url: "/users/999999/groups", body: "group=" + itoa(staff), wantStatus: 404},
		{name: "the group page counts the member", method: "GET", url: "/groups/" + itoa(staff), wantStatus: 200, wantContains: []string{"1 members"}},

		{name: "show a missing user", method: "GET", url: "/users/999999", wantStatus: 404, wantTestIDs: map[string]string{"error-message": "not found"}},
		{name: "show a bad id", method: "GET", url: "/users/abc", wantStatus: 400, wantTestIDs: map[string]string{"error-message": "not an id"}},
	})

	w = env.get(uu)
	if got, want := checkedValues(t, w.Body.String(), "group"), []string{itoa(cleaners), itoa(staff)}; !sameSet(got, want) {
		t.Errorf("after setting groups: got ticked %v, want %v", got, want)
	}
	if w := env.post(uu+"/groups", url.Values{"group": {itoa(cleaners)}}); w.Code != 303 {
		t.Fatalf("set groups again: got status %d, want 303", w.Code)
	}
	if got, want := checkedValues(t, env.get(uu).Body.String(), "group"), []string{itoa(cleaners)}; !sameSet(got, want) {
		t.Errorf("after unticking Staff: got ticked %v, want %v", got, want)
	}
	if w := env.post(uu+"/groups", nil); w.Code != 303 {
		t.Fatalf("clear groups: got status %d, want 303", w.Code)
	}
	if got := checkedValues(t, env.get(uu).Body.String(), "group"); len(got) != 0 {
		t.Errorf("after clearing groups: got ticked %v, want none", got)
	}

	env.runPages(t, []scenario{
		{name: "delete", method: "POST", url: uu + "/delete", wantStatus: 303, wantLocation: "/users?flash=deleted"},
		{name: "gone from the list", method: "GET", url: "/users?flash=deleted", wantStatus: 200,
			wantTestIDs: map[string]string{"flash": "Deleted."}, wantNotContains: []string{"Lee-Smith"}},
		{name: "gone", method: "GET", url: uu, wantStatus: 404},
		{name: "delete again", method: "POST", url: uu + "/delete", wantStatus: 404},
		{name: "a flash that is not ours", method: "GET", url: "/users?flash=Your+account+is+locked", wantStatus: 200,
			wantNotContains: []string{"locked", `data-testid="flash"`}},
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestUserDatesInSiteZone: "valid until 31 December" includes that whole
// day on the site's clock.
func TestUserDatesInSiteZone(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	env := newLoggedInEnv(t)
	if err := env.s.SetSetting(t.Context(), "", "time_zone", loc.String()); err != nil {
		t.Fatal(err)
	}
	w := env.post("/users", url.Values{"first_name": {"Ann"}, "valid_from": {"2026-04-01"}, "valid_until": {"2026-12-31"}})
	if w.Code != 303 {
		t.Fatalf("create: got status %d, want 303\n%s", w.Code, w.Body)
	}
	id := redirectID(t, w, "/users/")
	u, err := env.s.UserByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 4, 1, 0, 0, 0, 0, loc); !u.ValidFrom.Equal(want) {
		t.Errorf("got valid from %v, want %v", u.ValidFrom, want)
	}
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, loc); !u.ValidUntil.Equal(want) {
		t.Errorf("got valid until %v, want the end of 31 December in Berlin, %v", u.ValidUntil, want)
	}
	env.runPages(t, []scenario{
		{name: "shown as entered", method: "GET", url: "/users/" + itoa(id), wantStatus: 200,
			wantFields: map[string]string{"valid_from": "2026-04-01", "valid_until": "2026-12-31"}},
	})
}

// The new-user form takes groups, as README's first steps say.
func TestNewUserInGroups(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	staff := itoa(env.create(t, "groups", `{"name":"Staff"}`))
	cleaners := itoa(env.create(t, "groups", `{"name":"Cleaners"}`))
	env.runPages(t, []scenario{
		{name: "the form offers every group", method: "GET", url: "/users/new", wantStatus: 200,
			wantTestIDs: map[string]string{"new-user-groups": "Staff"}, wantContains: []string{`value="` + cleaners + `"`}},
		{name: "a refused form keeps the ticks", method: "POST", url: "/users", body: "first_name=Ann&email=nope&group=" + staff, wantStatus: 422,
			wantFields: map[string]string{"email": "nope"}},
	})
	if got := checkedValues(t, env.post("/users", url.Values{"first_name": {"Ann"}, "email": {"nope"}, "group": {staff}}).Body.String(), "group"); !slices.Equal(got, []string{staff}) {
		t.Errorf("the refused form ticks %v, want [%s]", got, staff)
	}
	w := env.post("/users", url.Values{"first_name": {"Ann"}, "last_name": {"Lee"}, "group": {staff, cleaners}})
	if w.Code != 303 {
		t.Fatalf("create: got status %d, want 303\n%s", w.Code, w.Body)
	}
	page := env.get(w.Header().Get("Location")).Body.String()
	if got := checkedValues(t, page, "group"); !slices.Equal(got, []string{cleaners, staff}) {
		t.Errorf("Ann's groups: got %v, want Cleaners and Staff", got)
	}
}
