package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"postern/web"
)

const setupToken = "first-run-token-0123456789"

func withSetupToken(c *web.Config) { c.SetupToken = setupToken }
func withHTTPS(c *web.Config)      { c.PublicURL = "https://doors.example.com/" }

// preBrowser is a browser before login: it holds only the double-submit
// cookie of the form it fetched, which runPages sends like a session.
func (env *env) preBrowser(t *testing.T, target string) *env {
	t.Helper()
	ck, csrf := env.preForm(t, target)
	b := *env
	b.session, b.csrf = ck, csrf
	return &b
}

func setupForm(csrf, token, email, pw, confirm string) string {
	return url.Values{"_csrf": {csrf}, "token": {token}, "email": {email}, "password": {pw}, "confirm": {confirm}}.Encode()
}

func TestSetup(t *testing.T) {
	t.Parallel()
	env := newEnv(t, withSetupToken)
	b := env.preBrowser(t, "/setup?token="+setupToken)
	good := func(email, pw, confirm string) string { return setupForm(b.csrf, setupToken, email, pw, confirm) }

	b.runPages(t, []scenario{
		{name: "no token", method: "GET", url: "/setup", wantStatus: 404, wantTestIDs: map[string]string{"message": "not the one"}},
		{name: "wrong token", method: "GET", url: "/setup?token=guess", wantStatus: 404, wantTestIDs: map[string]string{"message": ""},
			wantNotContains: []string{`data-testid="setup-form"`}},
		{name: "right token", method: "GET", url: "/setup?token=" + setupToken, wantStatus: 200,
			wantTestIDs: map[string]string{"setup-form": ""}, wantFields: map[string]string{"token": setupToken}},
		{name: "post with a wrong token", method: "POST", url: "/setup", body: setupForm(b.csrf, "guess", adminEmail, adminPassword, adminPassword),
			wantStatus: 404, wantNotContains: []string{`data-testid="setup-form"`}},
		{name: "post without the form's token", method: "POST", url: "/setup", body: setupForm("forged-token-forged-token", setupToken, adminEmail, adminPassword, adminPassword),
			wantStatus: 403, wantTestIDs: map[string]string{"form-error": "expired"}},
		{name: "post from another site", method: "POST", url: "/setup", body: good(adminEmail, adminPassword, adminPassword),
			headers: map[string]string{"Origin": "https://evil.example"}, wantStatus: 403},
		{name: "passwords differ", method: "POST", url: "/setup", body: good(adminEmail, adminPassword, adminPassword+"!"),
			wantStatus: 422, wantTestIDs: map[string]string{"form-error": "not the same"}, wantFields: map[string]string{"email": adminEmail}},
		{name: "password too short", method: "POST", url: "/setup", body: good(adminEmail, "short", "short"),
			wantStatus: 422, wantTestIDs: map[string]string{"form-error": "at least 10"}, wantFields: map[string]string{"email": adminEmail}},
		{name: "bad email", method: "POST", url: "/setup", body: good("ann at example", adminPassword, adminPassword),
			wantStatus: 422, wantTestIDs: map[string]string{"form-error": "not a valid email"}, wantFields: map[string]string{"email": "ann at example", "token": setupToken}},
		{name: "bad email and short password", method: "POST", url: "/setup", body: good("ann at example", "short", "short"),
			wantStatus: 422, wantContains: []string{"Email is not a valid email address", "the password must be at least 10 characters"},
			wantFields: map[string]string{"email": "ann at example"}},
		{name: "bad email and passwords differ", method: "POST", url: "/setup", body: good("ann at example", adminPassword, adminPassword+"!"),
			wantStatus: 422, wantContains: []string{"Email is not a valid email address", "The two passwords are not the same."}},
	})
	if n, _ := env.s.CountAdmins(t.Context()); n != 0 {
		t.Fatalf("got %d admins after refused setups, want 0", n)
	}

	w := env.postPre("/setup", b.session, url.Values{"_csrf": {b.csrf}, "token": {setupToken}, "email": {adminEmail}, "password": {adminPassword}, "confirm": {adminPassword}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("setup: got status %d to %q, want 303 to /\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	ck := sessionCookie(w)
	if ck == nil {
		t.Fatal("setup did not log the new admin in: no session cookie")
	}
	if ck.Name != "postern_session" || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure {
		t.Errorf("got cookie %s HttpOnly=%v SameSite=%v Path=%q Secure=%v, want postern_session, HttpOnly, Strict, /, not Secure over plain HTTP",
			ck.Name, ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure)
	}
	env.session = ck
	env.runPages(t, []scenario{
		{name: "signed in", method: "GET", url: "/", wantStatus: 200, wantContains: []string{adminEmail}, wantTestIDs: map[string]string{"user-count": "0"}},
	})
	if n, _ := env.s.CountAdmins(t.Context()); n != 1 {
		t.Errorf("got %d admins, want 1", n)
	}

	// The link works once.
	b2 := env.preBrowser(t, "/login")
	b2.runPages(t, []scenario{
		{name: "setup page again", method: "GET", url: "/setup?token=" + setupToken, wantStatus: 404, wantNotContains: []string{`data-testid="setup-form"`}},
		{name: "second setup", method: "POST", url: "/setup", body: setupForm(b2.csrf, setupToken, "mallory@example.com", adminPassword, adminPassword),
			wantStatus: 404},
	})
	if n, _ := env.s.CountAdmins(t.Context()); n != 1 {
		t.Errorf("got %d admins after a second setup, want 1", n)
	}
	if _, err := env.s.AdminByEmail(t.Context(), "mallory@example.com"); err == nil {
		t.Error("the second setup created an admin")
	}
}

// TestSetupAfterAdminCreate: an admin made with `postern admin create`
// closes the setup link even if serve printed one.
func TestSetupAfterAdminCreate(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSetupToken)
	b := env.preBrowser(t, "/login")
	b.runPages(t, []scenario{
		{name: "setup page", method: "GET", url: "/setup?token=" + setupToken, wantStatus: 404},
		{name: "setup post", method: "POST", url: "/setup", body: setupForm(b.csrf, setupToken, "mallory@example.com", adminPassword, adminPassword), wantStatus: 404},
	})
	if n, _ := env.s.CountAdmins(t.Context()); n != 1 {
		t.Errorf("got %d admins, want 1", n)
	}
}

func TestSecureCookies(t *testing.T) {
	t.Parallel()
	t.Run("setup", func(t *testing.T) {
		env := newEnv(t, withSetupToken, withHTTPS)
		ck, csrf := env.preForm(t, "/setup?token="+setupToken)
		if ck.Name != "__Host-postern_csrf" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Domain != "" {
			t.Errorf("got form cookie %s Secure=%v HttpOnly=%v SameSite=%v Path=%q Domain=%q, want __Host-postern_csrf, Secure, HttpOnly, Strict, Path / and no Domain",
				ck.Name, ck.Secure, ck.HttpOnly, ck.SameSite, ck.Path, ck.Domain)
		}
		// The same token under the plain name, as a neighbouring host could
		// plant it, does not count.
		planted := &http.Cookie{Name: "postern_csrf", Value: ck.Value}
		if w := env.postPre("/setup", planted, url.Values{"_csrf": {csrf}, "token": {setupToken}, "email": {adminEmail}, "password": {adminPassword}, "confirm": {adminPassword}}); w.Code != http.StatusForbidden {
			t.Errorf("setup with the form token in a plain cookie: got status %d, want 403", w.Code)
		}
		w := env.postPre("/setup", ck, url.Values{"_csrf": {csrf}, "token": {setupToken}, "email": {adminEmail}, "password": {adminPassword}, "confirm": {adminPassword}})
		checkSecureSession(t, env, w)
	})
	t.Run("login", func(t *testing.T) {
		env := newAdminEnv(t, withHTTPS)
		ck, csrf := env.preForm(t, "/login")
		w := env.postPre("/login", ck, url.Values{"_csrf": {csrf}, "email": {adminEmail}, "password": {adminPassword}})
		checkSecureSession(t, env, w)
	})
}

func checkSecureSession(t *testing.T, env *env, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusSeeOther {
		t.Fatalf("got status %d, want 303\n%s", w.Code, w.Body)
	}
	ck := cookie(w, "__Host-postern_session")
	if ck == nil {
		t.Fatalf("got cookies %v, want __Host-postern_session", w.Result().Cookies())
	}
	if cookie(w, "postern_session") != nil {
		t.Error("set a plain postern_session cookie as well")
	}
	if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("got %s Secure=%v HttpOnly=%v SameSite=%v Path=%q Domain=%q, want Secure, HttpOnly, Strict, Path / and no Domain",
			ck.Name, ck.Secure, ck.HttpOnly, ck.SameSite, ck.Path, ck.Domain)
	}
	env.session = ck
	if w := env.get("/"); w.Code != http.StatusOK {
		t.Errorf("GET / with the __Host- cookie: got status %d, want 200", w.Code)
	}
	// The same token under the plain name is what a cookie planted over
	// HTTP or by a sibling host looks like: it must not count.
	env.session = &http.Cookie{Name: "postern_session", Value: ck.Value}
	if w := env.get("/"); w.Code != http.StatusSeeOther {
		t.Errorf("GET / with the token in a plain cookie: got status %d, want 303", w.Code)
	}
}

func loginForm(csrf, email, pw, next string) string {
	v := url.Values{"_csrf": {csrf}, "email": {email}, "password": {pw}}
	if next != "" {
		v.Set("next", next)
	}
	return v.Encode()
}

func TestLoginBeforeSetup(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	w := env.serve(httptest.NewRequest("GET", "/login", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("got status %d, want 200", w.Code)
	}
	doc := parse(t, w.Body.String())
	if byTestID(doc, "login-form").Length() != 0 {
		t.Error("the login form is shown before there is any admin")
	}
	if got := byTestID(doc, "message").Text(); !strings.Contains(got, "setup") {
		t.Errorf("got message %q, want it to point to the setup link", got)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	b := env.preBrowser(t, "/login")
	b.runPages(t, []scenario{
		{name: "form", method: "GET", url: "/login", wantStatus: 200, wantTestIDs: map[string]string{"login-form": ""}},
		{name: "wrong password", method: "POST", url: "/login", body: loginForm(b.csrf, adminEmail, "wrong password!", ""),
			wantStatus: 401, wantTestIDs: map[string]string{"form-error": "do not match"}, wantFields: map[string]string{"email": adminEmail, "password": ""}},
		{name: "unknown email says the same", method: "POST", url: "/login", body: loginForm(b.csrf, "nobody@example.com", adminPassword, ""),
			wantStatus: 401, wantTestIDs: map[string]string{"form-error": "do not match"}},
		{name: "no password", method: "POST", url: "/login", body: loginForm(b.csrf, adminEmail, "", ""), wantStatus: 401},
		{name: "forged form token", method: "POST", url: "/login", body: loginForm("forged-token-forged-token", adminEmail, adminPassword, ""),
			wantStatus: 403, wantTestIDs: map[string]string{"form-error": "expired"}},
		{name: "no form token", method: "POST", url: "/login", body: loginForm("", adminEmail, adminPassword, ""), wantStatus: 403},
		{name: "from another site", method: "POST", url: "/login", body: loginForm(b.csrf, adminEmail, adminPassword, ""),
			headers: map[string]string{"Origin": "https://evil.example"}, wantStatus: 403},
		{name: "no Origin nor Referer", method: "POST", url: "/login", body: loginForm(b.csrf, adminEmail, adminPassword, ""),
			headers: map[string]string{"Origin": ""}, wantStatus: 403},
	})
	// Without the double-submit cookie the token in the form is worthless.
	w := env.postPre("/login", nil, url.Values{"_csrf": {b.csrf}, "email": {adminEmail}, "password": {adminPassword}})
	if w.Code != http.StatusForbidden {
		t.Errorf("login without the form cookie: got status %d, want 403", w.Code)
	}
	if n := countKind(t, env, "admin.login"); n != 0 {
		t.Fatalf("got %d admin.login events after failed logins, want 0", n)
	}
	if n := countKind(t, env, "admin.login_failed"); n != 3 {
		t.Errorf("got %d admin.login_failed events, want 3", n)
	}

	b.runPages(t, []scenario{
		{name: "right password", method: "POST", url: "/login", body: loginForm(b.csrf, adminEmail, adminPassword, ""),
			wantStatus: 303, wantLocation: "/"},
		{name: "email in another case", method: "POST", url: "/login", body: loginForm(b.csrf, "ANN@example.com", adminPassword, ""),
			wantStatus: 303, wantLocation: "/"},
		{name: "referer instead of origin", method: "POST", url: "/login", body: loginForm(b.csrf, adminEmail, adminPassword, ""),
			headers: map[string]string{"Origin": "", "Referer": "http://example.com/login"}, wantStatus: 303},
	})
	if n := countKind(t, env, "admin.login"); n != 3 {
		t.Errorf("got %d admin.login events, want 3", n)
	}
}

func countKind(t *testing.T, env *env, kind string) int {
	t.Helper()
	n := 0
	for _, e := range env.events(t) {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// TestLoginNext: after login the browser goes back where it was sent from,
// but never to another site.
func TestLoginNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, next, want string
	}{
		{"none", "", "/"},
		{"a page", "/users", "/users"},
		{"a page with a query", "/users?q=ann", "/users?q=ann"},
		{"protocol-relative", "//evil.example", "/"},
		{"protocol-relative with a path", "//evil.example/users", "/"},
		{"absolute", "https://evil.example/", "/"},
		{"scheme only", "javascript:alert(1)", "/"},
		{"backslash", "/\\evil.example", "/"},
		{"tab the browser strips", "/\t/evil.example", "/"},
		{"newline the browser strips", "/\n/evil.example", "/"},
		{"relative", "users", "/"},
	}
	env := newAdminEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.clock.Add(time.Minute) // keep clear of the login rate limit
			ck, csrf := env.preForm(t, "/login?next="+url.QueryEscape(tt.next))
			w := env.postPre("/login", ck, url.Values{"_csrf": {csrf}, "email": {adminEmail}, "password": {adminPassword}, "next": {tt.next}})
			if w.Code != http.StatusSeeOther {
				t.Fatalf("got status %d, want 303", w.Code)
			}
			if got := w.Header().Get("Location"); got != tt.want {
				t.Errorf("next=%q: got Location %q, want %q", tt.next, got, tt.want)
			}
		})
	}

	t.Run("the login page carries next", func(t *testing.T) {
		w := env.get("/users?q=ann")
		if w.Code != http.StatusSeeOther {
			t.Fatalf("GET /users without a session: got status %d, want 303", w.Code)
		}
		loc := w.Header().Get("Location")
		if loc != "/login?next="+url.QueryEscape("/users?q=ann") {
			t.Fatalf("got Location %q, want the login page with next", loc)
		}
		w = env.serve(httptest.NewRequest("GET", loc, nil))
		if got := fieldValue(t, w.Body.String(), "next"); got != "/users?q=ann" {
			t.Errorf("got next field %q, want /users?q=ann", got)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	old := env.session
	env.runPages(t, []scenario{
		{name: "without the CSRF token", method: "POST", url: "/logout", body: "_csrf=nope", wantStatus: 403},
		{name: "still signed in", method: "GET", url: "/", wantStatus: 200},
	})
	w := env.post("/logout", nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?flash=signedout" {
		t.Fatalf("logout: got status %d to %q, want 303 to /login?flash=signedout", w.Code, w.Header().Get("Location"))
	}
	if ck := sessionCookie(w); ck == nil || ck.MaxAge >= 0 || ck.Value != "" {
		t.Errorf("logout: got Set-Cookie %v, want the session cookie cleared", ck)
	}
	env.session = old // a browser that kept the cookie
	env.runPages(t, []scenario{
		{name: "old cookie on a page", method: "GET", url: "/users", wantStatus: 303, wantLocation: "/login"},
		{name: "old cookie on a form", method: "POST", url: "/groups", body: "name=After+logout", wantStatus: 303, wantLocation: "/login"},
	})
	if _, err := env.s.SessionByToken(t.Context(), old.Value); err == nil {
		t.Error("the session is still in the store after logout")
	}
}

// adminPages are the admin pages and forms; each needs a session.
var adminPages = []struct{ method, path string }{
	{"GET", "/"}, {"GET", "/users"}, {"GET", "/users/new"}, {"GET", "/users/1"}, {"GET", "/groups"}, {"GET", "/groups/new"},
	{"GET", "/groups/1"}, {"GET", "/access-points"}, {"GET", "/access-points/new"}, {"GET", "/access-points/1"},
	{"GET", "/time-profiles"}, {"GET", "/time-profiles/new"}, {"GET", "/time-profiles/1"}, {"GET", "/permissions"}, {"GET", "/events"},
	{"GET", "/no-such-page"},
	{"POST", "/logout"}, {"POST", "/users"}, {"POST", "/users/1"}, {"POST", "/users/1/delete"}, {"POST", "/users/1/groups"},
	{"POST", "/groups"}, {"POST", "/groups/1"}, {"POST", "/groups/1/delete"},
	{"POST", "/access-points"}, {"POST", "/access-points/1"}, {"POST", "/access-points/1/delete"},
	{"POST", "/time-profiles"}, {"POST", "/time-profiles/1"}, {"POST", "/time-profiles/1/delete"},
	{"POST", "/permissions"}, {"POST", "/permissions/1/delete"},
	{"GET", "/settings/admins"}, {"POST", "/settings/admins/1/delete"}, {"POST", "/settings/tokens/1/revoke"},
	{"POST", "/settings/password"}, {"POST", "/settings/sessions/end"},
}

func TestPagesRequireSession(t *testing.T) {
	t.Parallel()
	anon := newAdminEnv(t)
	forged := *anon
	forged.session, forged.csrf = &http.Cookie{Name: "postern_session", Value: "forged"}, "forged"
	expired := newLoggedInEnv(t)
	expired.clock.Add(12*time.Hour + time.Second)
	browsers := []struct {
		name string
		env  *env
	}{{"no cookie", anon}, {"unknown cookie", &forged}, {"expired session", expired}}
	for _, b := range browsers {
		var tests []scenario
		for _, p := range adminPages {
			want := "/login"
			if p.method == "GET" && p.path != "/" {
				want = "/login?next=" + url.QueryEscape(p.path)
			}
			tests = append(tests,
				scenario{name: p.method + " " + p.path, method: p.method, url: p.path, body: "name=x",
					wantStatus: 303, wantLocation: want},
				scenario{name: p.method + " " + p.path + " from htmx", method: p.method, url: p.path, body: "name=x",
					headers: map[string]string{"HX-Request": "true"}, wantStatus: 401, wantHeaders: map[string]string{"HX-Redirect": want}})
		}
		t.Run(b.name, func(t *testing.T) { b.env.runPages(t, tests) })
	}
	t.Run("HX-Redirect", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/users?q=ann", nil)
		r.Header.Set("HX-Request", "true")
		w := anon.serve(r)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("got status %d, want 401", w.Code)
		}
		if got, want := w.Header().Get("HX-Redirect"), "/login?next="+url.QueryEscape("/users?q=ann"); got != want {
			t.Errorf("got HX-Redirect %q, want %q", got, want)
		}
	})
	if n, _ := anon.s.CountUsers(t.Context()); n != 0 {
		t.Errorf("got %d users after posts without a session, want 0", n)
	}
}

// TestFormsRefuseForgery sends every admin form with a live session but
// without proof that it came from the admin's own page.
func TestFormsRefuseForgery(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	u := env.create(t, "users", `{"first_name":"Ann"}`)
	g := env.create(t, "groups", `{"name":"Staff"}`)
	ap := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	tp := env.create(t, "time-profiles", `{"name":"Office","windows":`+officeHoursJSON+`}`)
	p := env.create(t, "permissions", `{"user_id":`+itoa(u)+`,"access_point_id":`+itoa(ap)+`}`)
	forms := []struct{ url, body string }{
		{"/logout", ""},
		{"/users", "first_name=Mallory"}, {"/users/" + itoa(u), "first_name=Mallory"}, {"/users/" + itoa(u) + "/delete", ""},
		{"/users/" + itoa(u) + "/groups", "group=" + itoa(g)},
		{"/groups", "name=Mallory"}, {"/groups/" + itoa(g), "name=Mallory"}, {"/groups/" + itoa(g) + "/delete", ""},
		{"/access-points", "name=M&reader=sim:m&mode=direct"}, {"/access-points/" + itoa(ap), "name=M&reader=sim:m&mode=direct"},
		{"/access-points/" + itoa(ap) + "/delete", ""},
		{"/time-profiles", "name=M&windows=Mon+08:00-09:00"}, {"/time-profiles/" + itoa(tp), "name=M&windows=Mon+08:00-09:00"},
		{"/time-profiles/" + itoa(tp) + "/delete", ""},
		{"/permissions", "group_id=" + itoa(g) + "&access_point_id=" + itoa(ap)}, {"/permissions/" + itoa(p) + "/delete", ""},
		{"/settings/tokens/1/revoke", ""}, {"/settings/admins/2/delete", ""},
		{"/settings/password", "current=" + url.QueryEscape(adminPassword) + "&password=mallory+was+here&confirm=mallory+was+here"},
		{"/settings/sessions/end", ""},
	}
	before := len(env.events(t))
	var tests []scenario
	for _, f := range forms {
		amp := ""
		if f.body != "" {
			amp = "&"
		}
		tests = append(tests,
			scenario{name: f.url + "/wrong CSRF token", method: "POST", url: f.url, body: f.body + amp + "_csrf=" + url.QueryEscape(env.csrf+"x"),
				wantStatus: 403, wantTestIDs: map[string]string{"error-message": "reload"}},
			scenario{name: f.url + "/no CSRF token", method: "POST", url: f.url, body: f.body + amp + "_csrf=", wantStatus: 403},
			scenario{name: f.url + "/wrong CSRF header", method: "POST", url: f.url, body: f.body + amp + "_csrf=",
				headers: map[string]string{"X-CSRF-Token": "nope"}, wantStatus: 403},
			scenario{name: f.url + "/another site's Origin", method: "POST", url: f.url, body: f.body,
				headers: map[string]string{"Origin": "https://evil.example"}, wantStatus: 403},
			scenario{name: f.url + "/Origin on another port", method: "POST", url: f.url, body: f.body,
				headers: map[string]string{"Origin": "http://example.com:8443"}, wantStatus: 403},
			scenario{name: f.url + "/another site's Referer", method: "POST", url: f.url, body: f.body,
				headers: map[string]string{"Origin": "", "Referer": "https://evil.example/page"}, wantStatus: 403},
			scenario{name: f.url + "/no Origin nor Referer", method: "POST", url: f.url, body: f.body,
				headers: map[string]string{"Origin": ""}, wantStatus: 403},
			scenario{name: f.url + "/null Origin", method: "POST", url: f.url, body: f.body,
				headers: map[string]string{"Origin": "null"}, wantStatus: 403},
		)
	}
	env.runPages(t, tests)
	if after := len(env.events(t)); after != before {
		t.Errorf("refused forms wrote %d events, want none: %v", after-before, env.events(t)[:after-before])
	}
	if w := env.get("/"); w.Code != http.StatusOK {
		t.Errorf("after refused forms the session no longer works: status %d", w.Code)
	}

	// htmx sends the token in a header instead of the form.
	env.runPages(t, []scenario{
		{name: "CSRF header", method: "POST", url: "/groups", body: "name=Visitors&_csrf=", headers: map[string]string{"X-CSRF-Token": env.csrf, "HX-Request": "true"},
			wantStatus: 303},
		{name: "same-site Referer without Origin", method: "POST", url: "/groups", body: "name=Cleaners",
			headers: map[string]string{"Origin": "", "Referer": "http://example.com/groups/new"}, wantStatus: 303},
	})
}
