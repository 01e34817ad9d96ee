package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A second user with an address another has is not saved silently: the
// form names who has it and saves once the admin says they share it.
func TestSharedEmailWarns(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee","email":"family@example.com"}`)
	cat := env.create(t, "users", `{"first_name":"Cat","last_name":"Moss","email":"cat@example.com"}`)
	bob := url.Values{"first_name": {"Bob"}, "last_name": {"Lee"}, "email": {"Family@Example.com"}, "enabled": {"on"}}

	env.runPages(t, []scenario{
		{name: "a second user with the address", method: "POST", url: "/users", body: bob.Encode(), wantStatus: http.StatusUnprocessableEntity,
			wantTestIDs:  map[string]string{"email-shared": "This address is already Ann Lee", "email-shared-ok": ""},
			wantContains: []string{`href="/users/` + itoa(ann) + `"`},
			wantFields:   map[string]string{"first_name": "Bob", "email": "Family@Example.com"}},
	})
	if n, _ := env.s.CountUsers(t.Context()); n != 2 {
		t.Fatalf("got %d users after the warning, want 2: nothing saved", n)
	}
	bob.Set("email_shared", "1")
	w := env.post("/users", bob)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("saving with the address shared: got status %d, want 303\n%s", w.Code, w.Body)
	}
	bobPage := w.Header().Get("Location")
	bobURL, _, _ := strings.Cut(bobPage, "?")
	env.runPages(t, []scenario{
		{name: "Bob's page names Ann", method: "GET", url: bobPage, wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"email-shared": "Also the address of Ann Lee"}, wantNotContains: []string{`data-testid="email-shared-ok"`}},
		{name: "saving Bob without changing his address asks nothing", method: "POST", url: bobURL,
			body:       url.Values{"first_name": {"Robert"}, "last_name": {"Lee"}, "email": {"family@example.com"}, "enabled": {"on"}}.Encode(),
			wantStatus: http.StatusSeeOther},
		{name: "changing Cat's address to theirs asks", method: "POST", url: "/users/" + itoa(cat),
			body:       url.Values{"first_name": {"Cat"}, "last_name": {"Moss"}, "email": {"family@example.com"}, "enabled": {"on"}}.Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"email-shared": "This address is already Ann Lee, Robert Lee"}},
	})
	// Said with the form's other problems, not after them.
	w = env.post("/users", url.Values{"first_name": {strings.Repeat("x", 101)}, "email": {"family@example.com"}})
	doc := parse(t, w.Body.String())
	if w.Code != http.StatusUnprocessableEntity || byTestID(doc, "error-first_name").Length() != 1 || byTestID(doc, "email-shared-ok").Length() != 1 {
		t.Errorf("a long name and a shared address: got status %d, want both named at once\n%s", w.Code, w.Body)
	}

	// The API saves, since a sync from payroll cannot tick a box, and says so.
	m := env.mustAPI(t, http.MethodPost, "/api/v1/users", `{"first_name":"Dan","email":"FAMILY@example.com"}`, http.StatusCreated)
	if w, _ := m["warnings"].([]any); len(w) != 2 || !strings.Contains(w[0].(string), "Ann Lee") {
		t.Errorf("got warnings %v, want both Lees named", m["warnings"])
	}
	m = env.mustAPI(t, http.MethodPost, "/api/v1/users", `{"first_name":"Eve","email":"eve@example.com"}`, http.StatusCreated)
	if m["warnings"] != nil {
		t.Errorf("got warnings %v for an address nobody has, want none", m["warnings"])
	}
}

// On the permissions page a user is found by a search on name or email
// and chosen from what it finds, so two people with one address are told
// apart.
func TestPermissionUserSearch(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	env.create(t, "users", `{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com"}`)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee","email":"family@example.com"}`)
	bob := env.create(t, "users", `{"first_name":"Bob","last_name":"Lee","email":"family@example.com"}`)
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front"}`)

	env.runPages(t, []scenario{
		{name: "as the admin types", method: "GET", url: "/permissions/user-choices?user_q=family", headers: map[string]string{"HX-Request": "true"},
			wantStatus: http.StatusOK, wantTestIDs: map[string]string{"user-choices": "Ann Lee family@example.com"},
			wantContains: []string{`value="` + itoa(ann) + `"`, `value="` + itoa(bob) + `"`}, wantNotContains: []string{"Grace", "<html"}},
		{name: "by a name", method: "GET", url: "/permissions/user-choices?user_q=hop", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"user-choice": "Grace Hopper grace@example.com"}, wantNotContains: []string{"Lee"}},
		{name: "nothing found", method: "GET", url: "/permissions/user-choices?user_q=zzz", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"no-user-match": "No user matches “zzz”"}},
		{name: "without JavaScript, Find reloads the page", method: "GET", url: "/permissions?user_q=lee", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"user-choices": "Ann Lee", "permission-form": ""}, wantFields: map[string]string{"user_q": "lee"}},
		{name: "the one chosen gets it", method: "POST", url: "/permissions",
			body:       url.Values{"user_id": {itoa(bob)}, "access_point_id": {itoa(front)}, "return_to": {"/permissions"}}.Encode(),
			wantStatus: http.StatusSeeOther, wantLocation: "/permissions?flash=created"},
		{name: "Bob has it, not Ann", method: "GET", url: "/permissions", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"permission-row": "Bob Lee"}, wantNotContains: []string{"Ann Lee"}},
	})
}
