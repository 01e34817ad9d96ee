package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"postern/access"
	"postern/store"
	"postern/web"
)

// TestRequiredTwoFactorAppliesToOpenSessions: once the owner requires
// two-factor of a role, an admin of it already signed in without one is
// sent to set it up on their next request, page, form or htmx call alike,
// and does nothing else first; they keep their session and come back to
// the page they asked for. Their API token is no session and still works.
func TestRequiredTwoFactorAppliesToOpenSessions(t *testing.T) {
	env := newLoggedInEnv(t)
	ctx := t.Context()
	ada, err := env.s.CreateAdminAs(ctx, "test", "ada@example.com", adminHash(), access.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	adaToken := web.NewAPIToken()
	if err := env.s.CreateAPIToken(ctx, "test", ada.ID, "door sync", adaToken); err != nil {
		t.Fatal(err)
	}
	b := newCookieBrowser(t, env)
	if to := b.signIn(ada.Email, adminPassword); to != "/" {
		t.Fatalf("ada signs in: sent to %q, want / (nothing required yet)", to)
	}
	csrf := fieldValue(t, b.do(http.MethodGet, "/", nil).Body.String(), "_csrf")
	session := b.cookies["postern_session"].Value

	if w := env.post("/settings/two-factor/roles", url.Values{"require": {"admin"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("require two-factor of admins: got %d\n%s", w.Code, w.Body)
	}

	const page = "/users?q=smith"
	wantTo := "/login/enrol?next=" + url.QueryEscape(page)
	if w := b.do(http.MethodGet, page, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != wantTo {
		t.Fatalf("a page: got %d to %q, want 303 to %q", w.Code, w.Header().Get("Location"), wantTo)
	}
	w := b.do(http.MethodPost, "/groups", url.Values{"_csrf": {csrf}, "name": {"Night shift"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login/enrol?next=%2F" {
		t.Errorf("a form: got %d to %q, want 303 to set up two-factor", w.Code, w.Header().Get("Location"))
	}
	if groups, err := env.s.Groups(ctx, store.ListOptions{}); err != nil || len(groups.Items) != 0 {
		t.Errorf("groups after the refused form: got %+v, %v, want none", groups.Items, err)
	}
	r, _ := http.NewRequest(http.MethodGet, "/users", nil)
	r.Header.Set("HX-Request", "true")
	r.AddCookie(&http.Cookie{Name: "postern_session", Value: session})
	if w := env.serve(r); w.Code != http.StatusForbidden || w.Header().Get("HX-Redirect") != "/login/enrol?next=%2Fusers" {
		t.Errorf("an htmx call: got %d, HX-Redirect %q", w.Code, w.Header().Get("HX-Redirect"))
	}
	r, _ = http.NewRequest(http.MethodGet, "/api/v1/users", nil)
	r.Header.Set("Authorization", "Bearer "+adaToken)
	if w := env.serve(r); w.Code != http.StatusOK {
		t.Errorf("ada's API token: got %d, want 200 (tokens are not sessions)", w.Code)
	}
	if w := env.get("/settings/admins"); w.Code != http.StatusOK {
		t.Errorf("the owner, not required: got %d, want 200", w.Code)
	}

	secret := setupSecret(t, b.do(http.MethodGet, wantTo, nil).Body.String())
	if w := b.submit(wantTo, "/login/enrol", url.Values{"code": {"123456"}, "next": {page}}); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("a wrong code: got %d, want 422", w.Code)
	}
	done := b.submit(wantTo, "/login/enrol", url.Values{"code": {env.totpCode(t, secret)}, "next": {page}})
	recoveryCodes(t, done)
	if got := byTestID(parse(t, done.Body.String()), "continue").AttrOr("href", ""); got != page {
		t.Errorf("continue: got %q, want back to %q", got, page)
	}
	if got := b.cookies["postern_session"].Value; got != session {
		t.Error("setting up two-factor started a new session; want the one she had")
	}
	if w := b.do(http.MethodGet, page, nil); w.Code != http.StatusOK {
		t.Errorf("the page after setting up: got %d, want 200", w.Code)
	}
	// Set up, the enrol page has nothing more to ask and sends her on.
	if w := b.do(http.MethodGet, wantTo, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != page {
		t.Errorf("the enrol page again: got %d to %q, want back to %q", w.Code, w.Header().Get("Location"), page)
	}
}
