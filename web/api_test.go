package web_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// apiRoutes is the JSON API's contract: each must exist and each must
// refuse a request without a valid token.
var apiRoutes = []struct{ method, path string }{
	{"GET", "/api/v1/users"}, {"POST", "/api/v1/users"}, {"GET", "/api/v1/users/:id"}, {"PATCH", "/api/v1/users/:id"}, {"DELETE", "/api/v1/users/:id"},
	{"GET", "/api/v1/groups"}, {"POST", "/api/v1/groups"}, {"GET", "/api/v1/groups/:id"}, {"PATCH", "/api/v1/groups/:id"}, {"DELETE", "/api/v1/groups/:id"},
	{"GET", "/api/v1/access-points"}, {"POST", "/api/v1/access-points"}, {"GET", "/api/v1/access-points/:id"}, {"PATCH", "/api/v1/access-points/:id"}, {"DELETE", "/api/v1/access-points/:id"},
	{"GET", "/api/v1/time-profiles"}, {"POST", "/api/v1/time-profiles"}, {"GET", "/api/v1/time-profiles/:id"}, {"PATCH", "/api/v1/time-profiles/:id"}, {"DELETE", "/api/v1/time-profiles/:id"},
	{"GET", "/api/v1/permissions"}, {"POST", "/api/v1/permissions"}, {"GET", "/api/v1/permissions/:id"}, {"PATCH", "/api/v1/permissions/:id"}, {"DELETE", "/api/v1/permissions/:id"},
	{"GET", "/api/v1/events"},
}

func TestAPIRoutesExist(t *testing.T) {
	env := newEnv(t)
	var have []string
	for _, r := range env.e.Routes() {
		have = append(have, r.Method+" "+r.Path)
	}
	for _, r := range apiRoutes {
		if !slices.Contains(have, r.method+" "+r.path) {
			t.Errorf("route %s %s is missing", r.method, r.path)
		}
	}
}

// TestAPIRequiresToken sends every API route, the contract's and any other
// registered under /api/v1, without a token and with bad ones.
func TestAPIRequiresToken(t *testing.T) {
	env := newAdminEnv(t)
	routes := map[string]bool{}
	for _, r := range apiRoutes {
		routes[r.method+" "+r.path] = true
	}
	for _, r := range env.e.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") && !strings.HasSuffix(r.Path, "*") && r.Method != "echo_route_not_found" {
			routes[r.Method+" "+r.Path] = true
		}
	}
	auths := []struct{ name, header string }{
		{"no header", ""},
		{"empty bearer", "Bearer "},
		{"wrong token", "Bearer pst_not-a-real-token"},
		{"another scheme", "Basic " + env.token},
		{"token without scheme", env.token},
		{"token with a character changed", "Bearer " + env.token[:len(env.token)-1] + "x"},
	}
	var tests []scenario
	for route := range routes {
		method, path, _ := strings.Cut(route, " ")
		path = strings.ReplaceAll(path, ":id", "1")
		for _, a := range auths {
			body := ""
			if method == http.MethodPost || method == http.MethodPatch {
				body = `{"name":"x"}`
			}
			tests = append(tests, scenario{
				name: route + "/" + a.name, method: method, url: path, body: body,
				headers:    map[string]string{"Authorization": a.header},
				wantStatus: http.StatusUnauthorized, wantContains: []string{`"error":"unauthorized"`},
				wantHeaders: map[string]string{"WWW-Authenticate": "Bearer"},
			})
		}
	}
	slices.SortFunc(tests, func(a, b scenario) int { return strings.Compare(a.name, b.name) })
	env.runAPI(t, tests)

	t.Run("challenge header", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/users", nil)
		w := env.serve(r)
		if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Errorf("got WWW-Authenticate %q, want a Bearer challenge", got)
		}
	})
	t.Run("nothing changed", func(t *testing.T) {
		if n, _ := env.s.CountUsers(t.Context()); n != 0 {
			t.Errorf("got %d users after unauthorised requests, want 0", n)
		}
	})
}

func TestAPIUnknownRoute(t *testing.T) {
	env := newAdminEnv(t)
	env.runAPI(t, []scenario{
		{name: "unknown path", method: "GET", url: "/api/v1/nothing-here", wantStatus: 404, wantContains: []string{`"error":"not_found"`}},
		{name: "unknown path needs a token too", method: "GET", url: "/api/v1/nothing-here", headers: map[string]string{"Authorization": ""},
			wantStatus: 401, wantContains: []string{`"error":"unauthorized"`}},
	})
}

func TestAPIUsers(t *testing.T) {
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

// badInput checks what every create and update does with input it cannot
// read: 400, with the JSON error shape, and nothing stored.
func badInput(t *testing.T, env *env, collection, item, wrongType string) {
	t.Helper()
	base := strings.TrimSuffix(collection, "/")
	var tests []scenario
	for _, target := range []struct{ method, url string }{{"POST", base}, {"PATCH", item}} {
		for _, b := range []struct{ name, body string }{
			{"malformed JSON", `{"name":`},
			{"not JSON", `name=x`},
			{"empty body", ``},
			{"whitespace body", "  \n"},
			{"unknown field", `{"nmae":"x"}`},
			{"wrong type", wrongType},
			{"a list, not an object", `[]`},
			{"a string, not an object", `"x"`},
			{"two objects", `{} {}`},
			{"trailing garbage", `{}x`},
			{"trailing brace", `{}}`},
		} {
			tests = append(tests, scenario{name: target.method + "/" + b.name, method: target.method, url: target.url, body: b.body,
				wantStatus: 400, wantContains: []string{`"error":"bad_request"`}})
		}
		tests = append(tests, scenario{name: target.method + "/too large", method: target.method, url: target.url,
			body: `{"name":"` + strings.Repeat("a", 1<<20+10) + `"}`, wantStatus: 413, wantContains: []string{`"error":"too_large"`}})
	}
	for _, id := range []string{"abc", "0", "-1", "1.5", "1e3", "99999999999999999999"} {
		for _, method := range []string{"GET", "PATCH", "DELETE"} {
			body := ""
			if method == "PATCH" {
				body = `{}`
			}
			tests = append(tests, scenario{name: method + "/id " + id, method: method, url: base + "/" + id, body: body,
				wantStatus: 400, wantContains: []string{`"error":"bad_request"`}})
		}
	}
	for _, q := range []string{"limit=abc", "limit=0", "limit=-5", "after=not-a-cursor", "after=eyJpIjowfQ"} {
		tests = append(tests, scenario{name: "list " + q, method: "GET", url: base + "?" + q, wantStatus: 400})
	}
	tests = append(tests, scenario{name: "GET missing", method: "GET", url: base + "/999999", wantStatus: 404, wantContains: []string{`"error":"not_found"`}},
		scenario{name: "PATCH missing", method: "PATCH", url: base + "/999999", body: `{}`, wantStatus: 404},
		scenario{name: "DELETE missing", method: "DELETE", url: base + "/999999", wantStatus: 404})
	t.Run("bad input", func(t *testing.T) { env.runAPI(t, tests) })
}
