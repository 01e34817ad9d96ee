package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/web"
)

// appRoutes are the routes the server registered, without echo's own
// not-found routes.
func appRoutes(e *echo.Echo) []*echo.Route {
	var out []*echo.Route
	for _, r := range e.Routes() {
		if r.Method != echo.RouteNotFound {
			out = append(out, r)
		}
	}
	return out
}

// TestEveryRouteHasARule fails when a route is added without saying, in
// the permissions table, who may use it.
func TestEveryRouteHasARule(t *testing.T) {
	env := newEnv(t, func(c *web.Config) { c.Metrics = web.NewMetrics(c.Store, "test") })
	routes := appRoutes(env.e)
	if len(routes) < 50 {
		t.Fatalf("got %d routes, want the whole server's", len(routes))
	}
	for _, r := range routes {
		if _, ok := web.PermissionFor(r.Method, r.Path); !ok {
			t.Errorf("%s %s has no rule in the permissions table (web/roles.go)", r.Method, r.Path)
		}
	}
}

// roleClient is a signed-in admin with one role: a browser session per
// request, so a route that signs out does not spoil the next, and an API
// token with the same role.
type roleClient struct {
	role  access.Role
	id    int64
	token string
}

func newRoleClients(t *testing.T, env *env) map[access.Role]roleClient {
	t.Helper()
	ctx := t.Context()
	out := map[access.Role]roleClient{}
	for _, role := range access.Roles {
		a, err := env.s.CreateAdminAs(ctx, "test", string(role)+"@example.com", adminHash(), role)
		if err != nil {
			t.Fatal(err)
		}
		tok := web.NewAPIToken()
		if _, err := env.s.CreateAPITokenAs(ctx, "test", a.ID, "roles", tok, time.Time{}, role); err != nil {
			t.Fatal(err)
		}
		out[role] = roleClient{role: role, id: a.ID, token: tok}
	}
	return out
}

// request is what c sends to a route: a page with a fresh session and its
// CSRF token, or an API call with c's token.
func (c roleClient) request(t *testing.T, env *env, method, path string) *http.Request {
	t.Helper()
	var r *http.Request
	if strings.HasPrefix(path, "/api/") {
		r = httptest.NewRequest(method, path, strings.NewReader("{}"))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+c.token)
		return r
	}
	session, csrf := web.NewAPIToken(), web.NewAPIToken()
	if err := env.s.CreateSession(t.Context(), session, csrf, c.id, time.Hour); err != nil {
		t.Fatal(err)
	}
	r = httptest.NewRequest(method, path, strings.NewReader(url.Values{"_csrf": {csrf}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", origin)
	r.AddCookie(&http.Cookie{Name: "postern_session", Value: session})
	return r
}

// concrete fills a route's parameters with ids that name nothing, so an
// allowed request reaches its handler and changes nothing that exists.
func concrete(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || p == "*" {
			parts[i] = "999999"
		}
	}
	return strings.Join(parts, "/")
}

// TestRolesRouteByRoute sends every route, as every role, and checks that
// the answer is a 403 exactly when the table says the role is below the
// route's: the rule is enforced where it is written down.
func TestRolesRouteByRoute(t *testing.T) {
	env := newAdminEnv(t)
	clients := newRoleClients(t, env)
	for _, rt := range appRoutes(env.e) {
		need, ok := web.PermissionFor(rt.Method, rt.Path)
		if !ok || web.IsPublic(need) {
			continue
		}
		for _, role := range access.Roles {
			t.Run(rt.Method+" "+rt.Path+" as "+string(role), func(t *testing.T) {
				r := clients[role].request(t, env, rt.Method, concrete(rt.Path))
				if rt.Path == "/events/stream" {
					// A live stream runs until its reader leaves.
					ctx, cancel := context.WithTimeout(r.Context(), 50*time.Millisecond)
					defer cancel()
					r = r.WithContext(ctx)
				}
				w := env.serve(r)
				allowed := role.AtLeast(need)
				switch {
				case allowed && w.Code == http.StatusForbidden:
					t.Errorf("got 403, want allowed (the table says %s or above): %s", need, parse(t, w.Body.String()).Find("main").Text())
				case allowed && (w.Code == http.StatusUnauthorized || w.Code >= 500):
					t.Errorf("got %d, want the route's own answer:\n%s", w.Code, w.Body)
				case !allowed && w.Code != http.StatusForbidden:
					t.Errorf("got %d, want 403 (the table says %s or above)", w.Code, need)
				}
			})
		}
	}
}

// TestTokenRoleFollowsItsMaker: a token never does more than the admin who
// made it may do now, and is not made above them.
func TestTokenRoleFollowsItsMaker(t *testing.T) {
	env := newAdminEnv(t)
	ctx := t.Context()
	a, err := env.s.CreateAdmin(ctx, "test", "rita@example.com", adminHash(), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.s.SetAdminRole(ctx, "test", a.ID, access.RoleReception); err != nil {
		t.Fatal(err)
	}
	if _, err := env.s.CreateAPITokenAs(ctx, "test", a.ID, "too high", web.NewAPIToken(), time.Time{}, access.RoleAdmin); err == nil {
		t.Error("a reception admin made an admin token, want refused")
	}
	tok := web.NewAPIToken()
	if _, err := env.s.CreateAPITokenAs(ctx, "test", a.ID, "desk", tok, time.Time{}, access.RoleReception); err != nil {
		t.Fatal(err)
	}
	call := func() int {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/site/mode", strings.NewReader(`{"mode":"normal"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tok)
		return env.serve(r).Code
	}
	if got := call(); got == http.StatusForbidden {
		t.Fatalf("reception token on a reception route: got 403")
	}
	// Demoted, the maker's token shrinks with them.
	if err := env.s.SetAdminRole(ctx, "test", a.ID, access.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if got := call(); got != http.StatusForbidden {
		t.Errorf("token of a demoted maker: got %d, want 403", got)
	}
}

// TestRoleDecisions pins what each role is for, as the issue words it,
// apart from the table: a slip in the table that gives a role too much, or
// too little, fails here.
func TestRoleDecisions(t *testing.T) {
	tests := []struct {
		method, path string
		least        access.Role
	}{
		{"GET", "/events", access.RoleViewer},
		{"GET", "/users/:id", access.RoleViewer},
		{"POST", "/access-points/:id/unlock", access.RoleReception},
		{"POST", "/site/lockdown", access.RoleReception},
		{"POST", "/users", access.RoleAdmin},
		{"POST", "/users/:id/credentials", access.RoleAdmin},
		{"POST", "/access-points", access.RoleAdmin},
		{"GET", "/outbox", access.RoleAdmin},
		{"GET", "/settings", access.RoleOwner},
		{"POST", "/settings/admins/:id/delete", access.RoleOwner},
		{"POST", "/settings/admins/:id/two-factor-off", access.RoleOwner},
		{"POST", "/webhooks", access.RoleOwner},
		{"POST", "/api/v1/users", access.RoleAdmin},
		{"POST", "/api/v1/access-points/:id/unlock", access.RoleReception},
		{"GET", "/api/v1/outbox", access.RoleAdmin},
		{"GET", "/api/v1/webhooks", access.RoleOwner},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if got, ok := web.PermissionFor(tt.method, tt.path); !ok || got != tt.least {
				t.Errorf("got %q (rule %v), want %q", got, ok, tt.least)
			}
		})
	}
}

// signInAs gives env a browser signed in as a new admin with role.
func signInAs(t *testing.T, on *env, email string, role access.Role) *env {
	t.Helper()
	a, err := on.s.CreateAdminAs(t.Context(), "test", email, adminHash(), role)
	if err != nil {
		t.Fatal(err)
	}
	b := &env{e: on.e, s: on.s, clock: on.clock, admin: a}
	ck, csrf := b.preForm(t, "/login")
	w := b.postPre("/login", ck, url.Values{"_csrf": {csrf}, "email": {email}, "password": {adminPassword}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("login as %s: got %d\n%s", email, w.Code, w.Body)
	}
	b.session = sessionCookie(w)
	b.csrf = b.sessionCSRF(t)
	return b
}

// TestAdministratorsPageByRole: the owner changes roles; everyone makes
// tokens no higher than themselves and revokes only their own, unless an
// owner; menus show only what the role may open.
func TestAdministratorsPageByRole(t *testing.T) {
	owner := newLoggedInEnv(t)
	desk := signInAs(t, owner, "rita@example.com", access.RoleReception)

	// Reception: no Settings, Outbox or New user; their account instead.
	doc := parse(t, desk.get("/users").Body.String())
	for _, id := range []string{"nav-outbox", "new-user"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 0 {
			t.Errorf("reception sees %s", id)
		}
	}
	if got := doc.Find(`[data-testid="nav-settings"]`).AttrOr("href", ""); got != "/settings/admins" {
		t.Errorf("reception's settings link: got %q, want their account", got)
	}
	if w := desk.post("/settings/tokens", url.Values{"name": {"kiosk"}, "role": {"admin"}}); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("reception makes an admin token: got %d, want 422", w.Code)
	}
	w := desk.post("/settings/tokens", url.Values{"name": {"kiosk"}, "role": {"reception"}, "days": {"30"}})
	if w.Code != http.StatusCreated {
		t.Fatalf("reception makes a reception token: got %d\n%s", w.Code, w.Body)
	}
	tok := parse(t, w.Body.String()).Find(`[data-testid="new-token"]`).Text()
	if got, err := owner.s.APITokenByToken(t.Context(), tok); err != nil || got.Role != access.RoleReception || got.ExpiresAt.IsZero() {
		t.Fatalf("the shown token: got %+v, %v, want a reception token that expires", got, err)
	}
	// The owner's own token is not reception's to revoke.
	tokens, err := owner.s.APITokens(t.Context(), owner.admin.ID)
	if err != nil || len(tokens) == 0 {
		t.Fatal(tokens, err)
	}
	if w := desk.post("/settings/tokens/"+strconv.FormatInt(tokens[0].ID, 10)+"/revoke", nil); w.Code != http.StatusNotFound {
		t.Errorf("reception revokes the owner's token: got %d, want 404", w.Code)
	}
	if w := desk.post("/settings/admins/"+strconv.FormatInt(owner.admin.ID, 10)+"/role", url.Values{"role": {"viewer"}}); w.Code != http.StatusForbidden {
		t.Errorf("reception changes a role: got %d, want 403", w.Code)
	}

	// The owner promotes reception to admin; the page shows it.
	if w := owner.post("/settings/admins/"+strconv.FormatInt(desk.admin.ID, 10)+"/role", url.Values{"role": {"admin"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("owner changes a role: got %d\n%s", w.Code, w.Body)
	}
	if w := desk.get("/users"); parse(t, w.Body.String()).Find(`[data-testid="new-user"]`).Length() != 1 {
		t.Error("after promotion to admin: no New user button")
	}
	if w := owner.post("/settings/admins/"+strconv.FormatInt(owner.admin.ID, 10)+"/role", url.Values{"role": {"viewer"}}); w.Code != http.StatusConflict {
		t.Errorf("owner demotes themselves: got %d, want 409", w.Code)
	}
}
