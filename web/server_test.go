package web_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"postern/assets"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.runPages(t, []scenario{
		{name: "ok without a session", method: "GET", url: "/healthz", wantStatus: 200, wantContains: []string{"ok"}},
	})
	w := env.serve(httptest.NewRequest("GET", "/healthz", nil))
	if got := strings.TrimSpace(w.Body.String()); got != "ok" {
		t.Errorf("got body %q, want ok", got)
	}
	if err := env.s.Close(); err != nil {
		t.Fatal(err)
	}
	env.runPages(t, []scenario{
		{name: "the database is gone", method: "GET", url: "/healthz", wantStatus: 503, wantContains: []string{"database unavailable"},
			wantNotContains: []string{"sql:", "closed"}},
	})
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	for _, target := range []string{"/", "/login", "/users", "/api/v1/users", "/healthz", "/no-such-page"} {
		r := httptest.NewRequest("GET", target, nil)
		r.AddCookie(env.session)
		r.Header.Set("Authorization", "Bearer "+env.token)
		w := env.serve(r)
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Content-Security-Policy": "frame-ancestors 'none'",
			"Referrer-Policy":         "same-origin",
		} {
			if got := w.Header().Get(h); !strings.Contains(got, want) {
				t.Errorf("GET %s: got %s %q, want it to contain %q", target, h, got, want)
			}
		}
		if csp := w.Header().Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: the CSP allows inline code: %q", target, csp)
		}
	}
}

func TestStaticAndErrorPages(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	env.runPages(t, []scenario{
		{name: "an asset needs no session", method: "GET", url: "/assets/" + assets.CSS, headers: map[string]string{"Cookie": ""}, wantStatus: 200},
		{name: "a missing asset", method: "GET", url: "/assets/nope.js", wantStatus: 404},
		{name: "an unknown page", method: "GET", url: "/no-such-page", wantStatus: 404, wantTestIDs: map[string]string{"error-message": "Not Found"}},
		{name: "an unknown page in a section", method: "GET", url: "/users/1/nothing", wantStatus: 404},
	})
	w := env.serve(httptest.NewRequest("GET", "/assets/"+assets.HTMX, nil))
	if w.Code != 200 || !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("GET %s: got status %d Cache-Control %q, want 200 and immutable", assets.HTMX, w.Code, w.Header().Get("Cache-Control"))
	}
}
