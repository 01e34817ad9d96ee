package web_test

import (
	"strings"
	"testing"
)

func TestAPIGroups(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	g := env.create(t, "groups", `{"name":"Staff","description":"Everyone on the payroll"}`)
	cleaners := env.create(t, "groups", `{"name":"Cleaners"}`)
	gone := env.create(t, "groups", `{"name":"Temps"}`)
	u := env.create(t, "users", `{"first_name":"Ann","group_ids":[`+itoa(g)+`]}`)
	gg := "/api/v1/groups/" + itoa(g)

	env.runAPI(t, []scenario{
		{name: "create", method: "POST", url: "/api/v1/groups", body: `{"name":"Visitors","description":"Day passes"}`,
			wantStatus: 201, wantContains: []string{`"id":`, `"name":"Visitors"`, `"description":"Day passes"`, `"members":0`}},
		{name: "create trims the name", method: "POST", url: "/api/v1/groups", body: `{"name":"  Night shift  "}`,
			wantStatus: 201, wantContains: []string{`"name":"Night shift"`}},
		{name: "list", method: "GET", url: "/api/v1/groups", wantStatus: 200,
			wantContains: []string{`"groups":[`, `"name":"Staff"`, `"name":"Visitors"`, `"next":`}},
		{name: "get counts members", method: "GET", url: gg, wantStatus: 200,
			wantContains: []string{`"name":"Staff"`, `"members":1`, `"description":"Everyone on the payroll"`}},
		{name: "patch description only", method: "PATCH", url: gg, body: `{"description":"Payroll"}`, wantStatus: 200,
			wantContains: []string{`"name":"Staff"`, `"description":"Payroll"`}},
		{name: "patch name only", method: "PATCH", url: gg, body: `{"name":"All staff"}`, wantStatus: 200,
			wantContains: []string{`"name":"All staff"`, `"description":"Payroll"`}},
		{name: "patch kept both", method: "GET", url: gg, wantStatus: 200, wantContains: []string{`"name":"All staff"`, `"description":"Payroll"`}},

		{name: "duplicate name", method: "POST", url: "/api/v1/groups", body: `{"name":"Cleaners"}`, wantStatus: 409, wantContains: []string{`"error":"conflict"`, `"message":"name: is already the name of group Cleaners"`, `"fields":{"name":"is already the name of group Cleaners"}`}},
		{name: "duplicate name in another case", method: "POST", url: "/api/v1/groups", body: `{"name":"CLEANERS"}`, wantStatus: 409},
		{name: "rename onto another group", method: "PATCH", url: gg, body: `{"name":"cleaners"}`, wantStatus: 409},
		{name: "empty name", method: "POST", url: "/api/v1/groups", body: `{"name":"  "}`, wantStatus: 422, wantContains: []string{`"error":"invalid"`, "name"}},
		{name: "no name", method: "POST", url: "/api/v1/groups", body: `{}`, wantStatus: 422},
		{name: "name too long", method: "POST", url: "/api/v1/groups", body: `{"name":"` + strings.Repeat("x", 101) + `"}`, wantStatus: 422},
		{name: "patch to empty name", method: "PATCH", url: gg, body: `{"name":""}`, wantStatus: 422},
		{name: "failed changes left it alone", method: "GET", url: gg, wantStatus: 200, wantContains: []string{`"name":"All staff"`}},

		{name: "delete", method: "DELETE", url: "/api/v1/groups/" + itoa(gone), wantStatus: 204},
		{name: "deleted is gone", method: "GET", url: "/api/v1/groups/" + itoa(gone), wantStatus: 404, wantContains: []string{`"error":"not_found"`}},
		{name: "delete again", method: "DELETE", url: "/api/v1/groups/" + itoa(gone), wantStatus: 404},
		{name: "delete a group with members", method: "DELETE", url: gg, wantStatus: 204},
		{name: "the member stays, without the group", method: "GET", url: "/api/v1/users/" + itoa(u), wantStatus: 200,
			wantContains: []string{`"first_name":"Ann"`}, wantNotContains: []string{`"group_ids":[` + itoa(g)}},
	})
	badInput(t, env, "/api/v1/groups", "/api/v1/groups/"+itoa(cleaners), `{"name":5}`)
}
