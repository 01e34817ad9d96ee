package web_test

import (
	"net/http"
	"testing"
)

func TestAPIUsers(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	g := env.create(t, "groups", `{"name":"Staff"}`)
	u := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee","email":"ann.lee@example.com"}`)
	gone := env.create(t, "users", `{"first_name":"Gone","last_name":"Soon"}`)
	uu := "/api/v1/users/" + itoa(u)

	env.runAPI(t, []scenario{
		{name: "create", method: "POST", url: "/api/v1/users", body: `{"first_name":"Bob","last_name":"Ray","email":"bob@example.com"}`,
			wantStatus: 201, wantContains: []string{`"id":`, `"first_name":"Bob"`, `"email":"bob@example.com"`, `"enabled":true`}},
		{name: "create with groups and dates", method: "POST", url: "/api/v1/users",
			body:       `{"first_name":"Cy","enabled":false,"valid_from":"2026-04-01T00:00:00Z","valid_until":"2026-05-01T00:00:00Z","group_ids":[` + itoa(g) + `]}`,
			wantStatus: 201, wantContains: []string{`"enabled":false`, `"valid_from":"2026-04-01T00:00:00Z"`, `"group_ids":[` + itoa(g) + `]`}},
		{name: "create trims text", method: "POST", url: "/api/v1/users", body: `{"first_name":"  Dee ","email":" dee@example.com "}`,
			wantStatus: 201, wantContains: []string{`"first_name":"Dee"`, `"email":"dee@example.com"`}},
		{name: "list", method: "GET", url: "/api/v1/users", wantStatus: 200,
			wantContains: []string{`"users":[`, `"first_name":"Ann"`, `"first_name":"Bob"`, `"next":`}},
		{name: "search", method: "GET", url: "/api/v1/users?q=ann", wantStatus: 200,
			wantContains: []string{`"first_name":"Ann"`}, wantNotContains: []string{`"first_name":"Bob"`}},
		{name: "get", method: "GET", url: uu, wantStatus: 200,
			wantContains: []string{`"id":` + itoa(u), `"last_name":"Lee"`, `"valid_from":null`}, wantNotContains: []string{`"group_ids":[1`}},
		{name: "patch one field", method: "PATCH", url: uu, body: `{"last_name":"Lee-Smith"}`, wantStatus: 200,
			wantContains: []string{`"first_name":"Ann"`, `"last_name":"Lee-Smith"`, `"email":"ann.lee@example.com"`, `"enabled":true`}},
		{name: "patch kept the other fields", method: "GET", url: uu, wantStatus: 200,
			wantContains: []string{`"first_name":"Ann"`, `"last_name":"Lee-Smith"`, `"email":"ann.lee@example.com"`}},
		{name: "patch groups and disable", method: "PATCH", url: uu, body: `{"enabled":false,"group_ids":[` + itoa(g) + `]}`, wantStatus: 200,
			wantContains: []string{`"enabled":false`, `"last_name":"Lee-Smith"`}},
		{name: "groups were set", method: "GET", url: uu, wantStatus: 200, wantContains: []string{`"group_ids":[` + itoa(g) + `]`}},
		{name: "patch a date then clear it with null", method: "PATCH", url: uu, body: `{"valid_until":"2027-01-01T00:00:00Z"}`, wantStatus: 200,
			wantContains: []string{`"valid_until":"2027-01-01T00:00:00Z"`}},
		{name: "null clears a date", method: "PATCH", url: uu, body: `{"valid_until":null}`, wantStatus: 200,
			wantContains: []string{`"valid_until":null`}},
		{name: "delete", method: "DELETE", url: "/api/v1/users/" + itoa(gone), wantStatus: 204},
		{name: "deleted is gone", method: "GET", url: "/api/v1/users/" + itoa(gone), wantStatus: 404, wantContains: []string{`"error":"not_found"`}},
		{name: "delete again", method: "DELETE", url: "/api/v1/users/" + itoa(gone), wantStatus: 404},
		{name: "patch missing", method: "PATCH", url: "/api/v1/users/999999", body: `{"first_name":"X"}`, wantStatus: 404},

		{name: "bad email", method: "POST", url: "/api/v1/users", body: `{"first_name":"E","email":"not-an-email"}`,
			wantStatus: 422, wantContains: []string{`"error":"invalid"`, "email"}},
		{name: "email with a display name", method: "POST", url: "/api/v1/users", body: `{"first_name":"E","email":"Eve <eve@example.com>"}`, wantStatus: 422},
		{name: "no name", method: "POST", url: "/api/v1/users", body: `{"email":"x@example.com"}`, wantStatus: 422, wantContains: []string{"first_name"}},
		{name: "until before from", method: "POST", url: "/api/v1/users",
			body: `{"first_name":"F","valid_from":"2026-05-01T00:00:00Z","valid_until":"2026-04-01T00:00:00Z"}`, wantStatus: 422, wantContains: []string{"valid_until"}},
		{name: "patch bad email", method: "PATCH", url: uu, body: `{"email":"a@b"}`, wantStatus: 422},
		{name: "patch to no name", method: "PATCH", url: uu, body: `{"first_name":"","last_name":""}`, wantStatus: 422},
		{name: "failed patch changed nothing", method: "GET", url: uu, wantStatus: 200, wantContains: []string{`"first_name":"Ann"`, `"email":"ann.lee@example.com"`}},
		{name: "wrong type for enabled", method: "PATCH", url: uu, body: `{"enabled":"yes"}`, wantStatus: 400, wantContains: []string{"enabled"}},
		{name: "bad date", method: "POST", url: "/api/v1/users", body: `{"first_name":"G","valid_from":"tomorrow"}`, wantStatus: 400},
	})
	badInput(t, env, "/api/v1/users", uu, `{"first_name":5}`)
}

// TestAPIUserGroupsAtomic: a user created or changed with a group that does
// not exist is refused as a whole, not half done.
func TestAPIUserGroupsAtomic(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	w := env.api("POST", "/api/v1/users", `{"first_name":"Ann","group_ids":[999999]}`)
	if w.Code != http.StatusUnprocessableEntity {
		t.Errorf("create with an unknown group: got status %d, want 422\n%s", w.Code, w.Body)
	}
	if w.Code >= 400 {
		checkAPIError(t, w.Code, w.Body.Bytes())
	}
	if n, _ := env.s.CountUsers(t.Context()); n != 0 {
		t.Errorf("got %d users after a refused create, want 0", n)
	}

	u := env.create(t, "users", `{"first_name":"Bob"}`)
	w = env.api("PATCH", "/api/v1/users/"+itoa(u), `{"first_name":"Robert","group_ids":[999999]}`)
	if w.Code != http.StatusUnprocessableEntity {
		t.Errorf("patch with an unknown group: got status %d, want 422\n%s", w.Code, w.Body)
	}
	got := env.mustAPI(t, "GET", "/api/v1/users/"+itoa(u), "", 200)
	if got["first_name"] != "Bob" {
		t.Errorf("after a refused patch: got first_name %v, want Bob", got["first_name"])
	}
}
