package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestCSRFTokenNotFromQuery: the CSRF token counts only in the form's body
// or htmx's header. In a URL it leaks (logs, history, Referer), so a form
// that carries it there is refused.
func TestCSRFTokenNotFromQuery(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	post := func(target, body string, ck *http.Cookie) int {
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", origin)
		r.AddCookie(ck)
		return env.serve(r).Code
	}
	if got := post("/groups?_csrf="+url.QueryEscape(env.csrf), "name=Visitors", env.session); got != http.StatusForbidden {
		t.Errorf("admin form with the token in the query: got status %d, want 403", got)
	}
	if got := post("/groups", "name=Visitors&_csrf="+url.QueryEscape(env.csrf), env.session); got != http.StatusSeeOther {
		t.Errorf("admin form with the token in the body: got status %d, want 303", got)
	}
	ck, csrf := env.preForm(t, "/login")
	login := url.Values{"email": {adminEmail}, "password": {adminPassword}}.Encode()
	if got := post("/login?_csrf="+url.QueryEscape(csrf), login, ck); got != http.StatusForbidden {
		t.Errorf("sign-in with the token in the query: got status %d, want 403", got)
	}
	if got := post("/login", login+"&_csrf="+url.QueryEscape(csrf), ck); got != http.StatusSeeOther {
		t.Errorf("sign-in with the token in the body: got status %d, want 303", got)
	}
}

// TestKeyAPIRefusesHugeBodies: every key route, of both protocol
// versions, answers a 10 MB body with 413 and the key API's error shape,
// without reading it all.
func TestKeyAPIRefusesHugeBodies(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	huge := `{"code":"` + strings.Repeat("1", 10<<20) + `"}`
	for _, route := range []string{"/api/key/v1/register", "/api/key/v1/share",
		"/api/key/v2/register", "/api/key/v2/migrate", "/api/key/v2/share", "/api/key/v2/shares/redeem"} {
		t.Run(route, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, route, strings.NewReader(huge))
			r.Header.Set("Content-Type", "application/json")
			r.RemoteAddr = smartRemote()
			w := env.serve(r)
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("got status %d, want 413\n%.300s", w.Code, w.Body)
			}
			if ke := keyError(t, w); ke.Error != "too_large" {
				t.Errorf("got error %q, want too_large", ke.Error)
			}
		})
	}
}
