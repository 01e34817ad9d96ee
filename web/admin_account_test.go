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

func TestAdminsAndTokensPage(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	bob, err := env.s.CreateAdmin(t.Context(), "test", "bob@example.com", adminHash(), false)
	if err != nil {
		t.Fatal(err)
	}
	bobToken, expiredToken := web.NewAPIToken(), web.NewAPIToken()
	if err := env.s.CreateAPIToken(t.Context(), "test", bob.ID, "bob's script", bobToken); err != nil {
		t.Fatal(err)
	}
	expiredID, err := env.s.CreateAPITokenUntil(t.Context(), "test", bob.ID, "contractor", expiredToken, env.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	env.runPages(t, []scenario{
		{name: "settings links to it", method: "GET", url: "/settings", wantStatus: 200, wantTestIDs: map[string]string{"admins-link": "API tokens"}},
		{name: "the page", method: "GET", url: "/settings/admins", wantStatus: 200,
			wantContains: []string{adminEmail, "bob@example.com", "bob&#39;s script", "contractor", "tests"},
			wantTestIDs:  map[string]string{"admin-table": "you", "token-table": "never", "session-count": "1"}},
	})
	if n := strings.Count(env.get("/settings/admins").Body.String(), `data-testid="remove-admin"`); n != 1 {
		t.Errorf("got %d remove buttons, want one (for Bob, not for yourself)", n)
	}

	// A token's last use is written at most once a minute.
	use := func(token string) int { return apiAs(env, token, "GET", "/api/v1/users").Code }
	t0 := env.clock.Now()
	if got := use(bobToken); got != 200 {
		t.Fatalf("Bob's token: got status %d, want 200", got)
	}
	env.clock.Add(30 * time.Second)
	use(bobToken)
	lastUse := func() time.Time {
		toks, err := env.s.APITokens(t.Context(), bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range toks {
			if tk.Name == "bob's script" {
				return tk.LastUsedAt
			}
		}
		t.Fatal("no token bob's script")
		return time.Time{}
	}
	if got := lastUse(); !got.Equal(t0) {
		t.Errorf("after two uses 30 s apart: got last use %v, want the first, %v (no write within the minute)", got, t0)
	}
	env.clock.Add(31 * time.Second)
	use(bobToken)
	if got := lastUse(); !got.Equal(env.clock.Now()) {
		t.Errorf("a minute later: got last use %v, want %v", got, env.clock.Now())
	}
	if !strings.Contains(env.get("/settings/admins").Body.String(), env.clock.Now().Format("2006-01-02 15:04:05")) {
		t.Error("the page does not show the token's last use")
	}

	// An expired token is refused, and the page says it expired.
	env.clock.Add(time.Hour)
	if got := use(expiredToken); got != http.StatusUnauthorized {
		t.Errorf("an expired token: got status %d, want 401", got)
	}
	env.runPages(t, []scenario{
		{name: "expired shown", method: "GET", url: "/settings/admins", wantStatus: 200, wantContains: []string{"(expired)"}},
		{name: "revoke", method: "POST", url: "/settings/tokens/" + itoa(expiredID) + "/revoke", wantStatus: 303, wantLocation: "/settings/admins?flash=token-revoked"},
		{name: "revoke again", method: "POST", url: "/settings/tokens/" + itoa(expiredID) + "/revoke", wantStatus: 404},
		{name: "remove yourself", method: "POST", url: "/settings/admins/" + itoa(env.admin.ID) + "/delete", wantStatus: 409,
			wantContains: []string{"cannot remove yourself"}},
		{name: "remove Bob", method: "POST", url: "/settings/admins/" + itoa(bob.ID) + "/delete", wantStatus: 303, wantLocation: "/settings/admins?flash=admin-removed"},
		{name: "Bob is gone", method: "GET", url: "/settings/admins", wantStatus: 200, wantNotContains: []string{"bob@example.com", `data-testid="remove-admin"`}},
	})
	if got := use(bobToken); got != http.StatusUnauthorized {
		t.Errorf("a removed admin's token: got status %d, want 401", got)
	}
	for _, kind := range []string{"api_token.revoked", "admin.removed"} {
		if n := countKind(t, env, kind); n != 1 {
			t.Errorf("got %d %s events, want 1", n, kind)
		}
	}
}

// apiAs sends an API request with another bearer token.
func apiAs(env *env, token, method, target string) *httptest.ResponseRecorder {
	other := *env
	other.token = token
	return other.api(method, target, "")
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	phone := *env
	phone.login(t) // the same admin signed in elsewhere
	const newPassword = "a much better passphrase"
	form := func(current, pw, confirm string) string {
		return url.Values{"current": {current}, "password": {pw}, "confirm": {confirm}}.Encode()
	}
	env.runPages(t, []scenario{
		{name: "wrong current password", method: "POST", url: "/settings/password", body: form("not it at all", newPassword, newPassword),
			wantStatus: 422, wantTestIDs: map[string]string{"error-current": "not your current password"}},
		{name: "too short and not confirmed", method: "POST", url: "/settings/password", body: form(adminPassword, "short", "short"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-password": "at least 10"}},
		{name: "not the same twice", method: "POST", url: "/settings/password", body: form(adminPassword, newPassword, newPassword+"!"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-confirm": "not the same"}},
		{name: "changed", method: "POST", url: "/settings/password", body: form(adminPassword, newPassword, newPassword),
			wantStatus: 303, wantLocation: "/settings/admins?flash=password"},
		{name: "this browser stays signed in", method: "GET", url: "/settings/admins?flash=password", wantStatus: 200,
			wantContains: []string{"signed out everywhere else"}, wantTestIDs: map[string]string{"session-count": "1"}},
	})
	phone.runPages(t, []scenario{
		{name: "the other session is over", method: "GET", url: "/", wantStatus: 303, wantLocation: "/login"},
	})
	b := env.browserAt(t, "192.0.2.30")
	wantStatus(t, "the old password", b.try(adminEmail, adminPassword), 401, "")
	wantStatus(t, "the new password", b.try(adminEmail, newPassword), 303, "")
	if n := countKind(t, env, "admin.password_changed"); n != 1 {
		t.Errorf("got %d admin.password_changed events, want 1", n)
	}
}

func TestSignOutOtherSessions(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	phone, tablet := *env, *env
	phone.login(t)
	tablet.login(t)
	env.runPages(t, []scenario{
		{name: "three sessions", method: "GET", url: "/settings/admins", wantStatus: 200, wantTestIDs: map[string]string{"session-count": "3"}},
		{name: "sign out elsewhere", method: "POST", url: "/settings/sessions/end", wantStatus: 303, wantLocation: "/settings/admins?flash=sessions"},
		{name: "one left", method: "GET", url: "/settings/admins", wantStatus: 200, wantTestIDs: map[string]string{"session-count": "1"}},
		{name: "again: nothing to end", method: "POST", url: "/settings/sessions/end", wantStatus: 303, wantLocation: "/settings/admins?flash=no-sessions"},
	})
	for _, w := range []*httptest.ResponseRecorder{phone.get("/"), tablet.get("/")} {
		if w.Code != http.StatusSeeOther {
			t.Errorf("another session: got status %d, want 303 to the login page", w.Code)
		}
	}
}
