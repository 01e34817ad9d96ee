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
	t.Parallel()
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
	t.Parallel()
	env := newAdminEnv(t)
	routes := map[string]bool{}
	for _, r := range apiRoutes {
		routes[r.method+" "+r.path] = true
	}
	for _, r := range env.e.Routes() {
		// The API's description is public (TestOpenAPIScenario).
		if strings.HasPrefix(r.Path, "/api/v1/") && !strings.HasSuffix(r.Path, "*") && r.Method != "echo_route_not_found" && r.Path != "/api/v1/openapi.json" {
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
	t.Parallel()
	env := newAdminEnv(t)
	env.runAPI(t, []scenario{
		{name: "unknown path", method: "GET", url: "/api/v1/nothing-here", wantStatus: 404, wantContains: []string{`"error":"not_found"`}},
		{name: "unknown path needs a token too", method: "GET", url: "/api/v1/nothing-here", headers: map[string]string{"Authorization": ""},
			wantStatus: 401, wantContains: []string{`"error":"unauthorized"`}},
	})
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
