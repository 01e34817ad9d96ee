package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// loadOpenAPI fetches the description the server serves, without a
// token, and checks it is a valid OpenAPI 3 document.
func loadOpenAPI(t *testing.T, env *env) *openapi3.T {
	t.Helper()
	w := env.serve(httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: got %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(w.Body.Bytes())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("the description is not valid OpenAPI 3: %v", err)
	}
	return doc
}

var echoParam = regexp.MustCompile(`:([a-z_]+)`)

// TestOpenAPIMatchesRoutes: every /api/v1 route the server has is in the
// description, and every operation the description has is a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	doc := loadOpenAPI(t, env)
	var routes, documented []string
	for _, r := range env.e.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasSuffix(r.Path, "*") || !slices.Contains(httpMethods, r.Method) {
			continue // the group's not-found catch-alls
		}
		routes = append(routes, r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}"))
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is a route but not in web/openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("%s is in web/openapi.json but not a route", d)
		}
	}
	if len(routes) < 40 {
		t.Errorf("found only %d /api/v1 routes: is the filter wrong?", len(routes))
	}
}

var httpMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// apiStep is one call in the OpenAPI scenario: its path may name ids
// saved by earlier steps as {name}, and save names the id of its answer.
type apiStep struct {
	name, method, path, body string
	noToken                  bool
	wantStatus               int
	save                     string
	saveField                string // the answer's field to save; "" is "id"
}

// TestOpenAPIScenario drives the main API routes and validates each
// request and each answer, errors included, against the description
// with kin-openapi; every documented operation must be exercised.
func TestOpenAPIScenario(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL, withFleet)
	doc := loadOpenAPI(t, env)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	steps := []apiStep{
		{name: "no token", method: "GET", path: "/api/v1/users", noToken: true, wantStatus: 401},
		{name: "the description needs no token", method: "GET", path: "/api/v1/openapi.json", noToken: true, wantStatus: 200},
		{name: "create a user", method: "POST", path: "/api/v1/users", body: `{"first_name":"Ann","last_name":"Lee","email":"ann@example.com","valid_until":"2030-01-01T00:00:00Z"}`, wantStatus: 201, save: "user"},
		{name: "an invalid user", method: "POST", path: "/api/v1/users", body: `{"first_name":"Bob","last_name":"Ray","email":"not an email"}`, wantStatus: 422},
		{name: "list users", method: "GET", path: "/api/v1/users?limit=1&q=ann", wantStatus: 200},
		{name: "create a group", method: "POST", path: "/api/v1/groups", body: `{"name":"Staff","description":"everyone"}`, wantStatus: 201, save: "group"},
		{name: "list groups", method: "GET", path: "/api/v1/groups", wantStatus: 200},
		{name: "read the group", method: "GET", path: "/api/v1/groups/{group}", wantStatus: 200},
		{name: "change the group", method: "PATCH", path: "/api/v1/groups/{group}", body: `{"description":"all staff"}`, wantStatus: 200},
		{name: "put the user in it", method: "PATCH", path: "/api/v1/users/{user}", body: `{"group_ids":[{group}],"lockdown_exempt":true}`, wantStatus: 200},
		{name: "read the user", method: "GET", path: "/api/v1/users/{user}", wantStatus: 200},
		{name: "a user that does not exist", method: "GET", path: "/api/v1/users/999999", wantStatus: 404},
		{name: "create an access point", method: "POST", path: "/api/v1/access-points", body: `{"name":"Front door","reader":"sim:front","mode":"touch"}`, wantStatus: 201, save: "ap"},
		{name: "list access points", method: "GET", path: "/api/v1/access-points", wantStatus: 200},
		{name: "read the access point", method: "GET", path: "/api/v1/access-points/{ap}", wantStatus: 200},
		{name: "change the access point", method: "PATCH", path: "/api/v1/access-points/{ap}", body: `{"unlock_seconds":7,"held_open_seconds":45,"unlock_window_seconds":15,"deadline_ms":800}`, wantStatus: 200},
		{name: "let web keys open it from the site's Wi-Fi", method: "PATCH", path: "/api/v1/access-points/{ap}", body: `{"phone_open":true,"phone_networks":["192.168.10.0/24","fd00::/8"],"phone_passkey":true}`, wantStatus: 200},
		{name: "touch with no reader running", method: "POST", path: "/api/v1/access-points/{ap}/touch", wantStatus: 409},
		{name: "calibrate with no reader running", method: "POST", path: "/api/v1/access-points/{ap}/calibrate", wantStatus: 409},
		{name: "a door input with no doors", method: "POST", path: "/api/v1/access-points/{ap}/door", body: `{"input":"open"}`, wantStatus: 409},
		{name: "unlock for a minute", method: "POST", path: "/api/v1/access-points/{ap}/unlock", body: `{"seconds":60}`, wantStatus: 200},
		{name: "the doors", method: "GET", path: "/api/v1/doors", wantStatus: 200},
		{name: "lock again", method: "POST", path: "/api/v1/access-points/{ap}/lock", wantStatus: 200},
		{name: "create a time profile", method: "POST", path: "/api/v1/time-profiles", body: `{"name":"Office hours","windows":[{"days":["mon","tue"],"start":"08:00","end":"18:00"}],"holidays":["2030-12-25"]}`, wantStatus: 201, save: "tp"},
		{name: "list time profiles", method: "GET", path: "/api/v1/time-profiles", wantStatus: 200},
		{name: "read the time profile", method: "GET", path: "/api/v1/time-profiles/{tp}", wantStatus: 200},
		{name: "change the time profile", method: "PATCH", path: "/api/v1/time-profiles/{tp}", body: `{"name":"Opening hours"}`, wantStatus: 200},
		{name: "permit the group", method: "POST", path: "/api/v1/permissions", body: `{"group_id":{group},"access_point_id":{ap},"time_profile_id":{tp}}`, wantStatus: 201, save: "perm"},
		{name: "list permissions", method: "GET", path: "/api/v1/permissions?access_point={ap}", wantStatus: 200},
		{name: "read the permission", method: "GET", path: "/api/v1/permissions/{perm}", wantStatus: 200},
		{name: "change the permission", method: "PATCH", path: "/api/v1/permissions/{perm}", body: `{"time_profile_id":null}`, wantStatus: 200},
		{name: "assign a credential", method: "POST", path: "/api/v1/users/{user}/credentials?show_code=1", body: `{"kind":"smart"}`, wantStatus: 201, save: "cred"},
		{name: "the user's credentials", method: "GET", path: "/api/v1/users/{user}/credentials", wantStatus: 200},
		{name: "read the credential", method: "GET", path: "/api/v1/credentials/{cred}", wantStatus: 200},
		{name: "reissue it", method: "POST", path: "/api/v1/credentials/{cred}/reissue", wantStatus: 200},
		{name: "revoke it", method: "POST", path: "/api/v1/credentials/{cred}/revoke", wantStatus: 200},
		{name: "register a visitor", method: "POST", path: "/api/v1/visitors?show_code=1", body: `{"first_name":"Vic","last_name":"Tor","email":"vic@example.com","host_id":{user},"group_id":{group},"from":"2030-01-01T09:00:00Z","until":"2030-01-01T17:00:00Z"}`, wantStatus: 201},
		{name: "a visit with no end", method: "POST", path: "/api/v1/visitors", body: `{"first_name":"Vic","last_name":"Tor","email":"vic@example.com","host_id":{user},"group_id":{group},"from":"2030-01-01T09:00:00Z"}`, wantStatus: 422},
		{name: "visitors", method: "GET", path: "/api/v1/visitors", wantStatus: 200},
		{name: "import a token that is not one", method: "POST", path: "/api/v1/users/{user}/credentials/import", body: `{"token":"postern-credential:nonsense"}`, wantStatus: 422},
		{name: "lockdown", method: "POST", path: "/api/v1/site/mode", body: `{"mode":"lockdown"}`, wantStatus: 200},
		{name: "the site's mode", method: "GET", path: "/api/v1/site/mode", wantStatus: 200},
		{name: "back to normal", method: "POST", path: "/api/v1/site/mode", body: `{"mode":"normal"}`, wantStatus: 200},
		{name: "the protocol settings", method: "GET", path: "/api/v1/settings/protocol", wantStatus: 200},
		{name: "stop letting version 1 keys in", method: "PUT", path: "/api/v1/settings/protocol", body: `{"accept_v1":false}`, wantStatus: 200},
		{name: "protocol settings without accept_v1", method: "PUT", path: "/api/v1/settings/protocol", body: `{}`, wantStatus: 422},
		{name: "roll the site key", method: "POST", path: "/api/v1/site/key/roll", body: `{"overlap_days":7}`, wantStatus: 200},
		{name: "an overlap too long", method: "POST", path: "/api/v1/site/key/roll", body: `{"overlap_days":400}`, wantStatus: 422},
		{name: "shares sent", method: "GET", path: "/api/v1/shares", wantStatus: 200},
		{name: "withdraw a share that is not one", method: "POST", path: "/api/v1/shares/00000000000000000000000000000009/withdraw", wantStatus: 404},
		{name: "withdraw with a bad token", method: "POST", path: "/api/v1/shares/nothex/withdraw", wantStatus: 400},
		{name: "alarm rules", method: "GET", path: "/api/v1/alarm-rules", wantStatus: 200},
		{name: "set alarm rules", method: "PUT", path: "/api/v1/alarm-rules", body: `{"rules":[{"kind":"door.forced","recipients":["ann@example.com"]}],"digest_seconds":120}`, wantStatus: 200},
		{name: "add a webhook", method: "POST", path: "/api/v1/webhooks", body: `{"url":"https://hooks.example.com/postern","kinds":["door.forced"]}`, wantStatus: 201, save: "hook"},
		{name: "list webhooks", method: "GET", path: "/api/v1/webhooks", wantStatus: 200},
		{name: "delete the webhook", method: "DELETE", path: "/api/v1/webhooks/{hook}", wantStatus: 204},
		{name: "remote readers", method: "GET", path: "/api/v1/readers", wantStatus: 200},
		{name: "add a remote reader", method: "POST", path: "/api/v1/readers", body: `{"name":"gate"}`, wantStatus: 201, save: "reader"},
		{name: "remove it", method: "DELETE", path: "/api/v1/readers/{reader}", wantStatus: 204},
		{name: "events", method: "GET", path: "/api/v1/events?limit=5", wantStatus: 200},
		{name: "events by kind", method: "GET", path: "/api/v1/events?kind=credential.assigned&user={user}", wantStatus: 200},
		{name: "a bad event filter", method: "GET", path: "/api/v1/events?result=maybe", wantStatus: 400},
		{name: "the outbox", method: "GET", path: "/api/v1/outbox", wantStatus: 200},
		{name: "delete the permission", method: "DELETE", path: "/api/v1/permissions/{perm}", wantStatus: 204},
		{name: "delete the time profile", method: "DELETE", path: "/api/v1/time-profiles/{tp}", wantStatus: 204},
		{name: "delete the access point", method: "DELETE", path: "/api/v1/access-points/{ap}", wantStatus: 204},
		{name: "delete the group", method: "DELETE", path: "/api/v1/groups/{group}", wantStatus: 204},
		{name: "delete the user", method: "DELETE", path: "/api/v1/users/{user}", wantStatus: 204},
	}
	saved := map[string]string{}
	fill := func(s string) string {
		for k, v := range saved {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	exercised := map[string]bool{}
	for _, st := range steps {
		path, body := fill(st.path), fill(st.body)
		r := httptest.NewRequest(st.method, path, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		if !st.noToken {
			r.Header.Set("Authorization", "Bearer "+env.token)
		}
		route, params, err := router.FindRoute(r)
		if err != nil {
			t.Fatalf("%s: %s %s is not in the description: %v", st.name, st.method, path, err)
		}
		exercised[st.method+" "+route.Path] = true
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if st.wantStatus < 400 {
			if err := openapi3filter.ValidateRequest(t.Context(), in); err != nil {
				t.Errorf("%s: the request does not match the description: %v", st.name, err)
			}
			r.Body = io.NopCloser(strings.NewReader(body))
		}
		w := env.serve(r)
		if w.Code != st.wantStatus {
			t.Fatalf("%s: %s %s: got %d, want %d\n%s", st.name, st.method, path, w.Code, st.wantStatus, w.Body)
		}
		validateResponse(t, st.name, in, w)
		if st.save != "" {
			var m map[string]any
			json.Unmarshal(w.Body.Bytes(), &m)
			field := st.saveField
			if field == "" {
				field = "id"
			}
			saved[st.save] = fmt.Sprint(m[field])
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !exercised[method+" "+path] {
				t.Errorf("%s %s is documented but no step exercises it", method, path)
			}
		}
	}
}

func validateResponse(t *testing.T, name string, in *openapi3filter.RequestValidationInput, w *httptest.ResponseRecorder) {
	t.Helper()
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: w.Code, Header: w.Header(),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(bytes.Clone(w.Body.Bytes()))
	if err := openapi3filter.ValidateResponse(t.Context(), out); err != nil {
		t.Errorf("%s: the answer (%d) does not match the description: %v\n%s", name, w.Code, err, w.Body)
	}
}

// documentedAPI is mustAPI that also holds the request and its answer to
// the description, for answers the scenario cannot make (a share needs a
// key that sent one).
func (env *env) documentedAPI(t *testing.T, method, target string, want int) map[string]any {
	t.Helper()
	router, err := gorillamux.NewRouter(loadOpenAPI(t, env))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Authorization", "Bearer "+env.token)
	route, params, err := router.FindRoute(r)
	if err != nil {
		t.Fatalf("%s %s is not in the description: %v", method, target, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	w := env.serve(r)
	if w.Code != want {
		t.Fatalf("%s %s: got status %d, want %d\n%s", method, target, w.Code, want, w.Body)
	}
	validateResponse(t, method+" "+target, in, w)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, target, err, w.Body)
	}
	return m
}
