package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"postern/access"
)

// adminLinkPath finds the one-time link's path in an email.
var adminLinkPath = regexp.MustCompile(`/admin-link/[A-Za-z0-9_-]+`)

// followLink opens an emailed link's form and sends a password; it
// returns the answer.
func (env *env) followLink(t *testing.T, path, password string) *http.Response {
	t.Helper()
	ck, csrf := env.preForm(t, path)
	w := env.postPre(path, ck, url.Values{"_csrf": {csrf}, "password": {password}, "confirm": {password}})
	return w.Result()
}

// TestInvitedAdminSetsPasswordFromEmail: an owner invites a receptionist;
// the email goes out through a real SMTP server; its link sets a password
// once, signs them in with the invited role, and they sign in with it
// afterwards.
func TestInvitedAdminSetsPasswordFromEmail(t *testing.T) {
	srv := startSMTP(t)
	m := newMailEnv(t, srv.URL())
	env := m.env
	if w := env.post("/settings/admins/invite", url.Values{"email": {"rita@example.com"}, "role": {"reception"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("invite: got %d\n%s", w.Code, w.Body)
	}
	if w := env.post("/settings/admins/invite", url.Values{"email": {adminEmail}, "role": {"viewer"}}); w.Code != http.StatusConflict {
		t.Errorf("invite an existing admin: got %d, want 409", w.Code)
	}
	msg := waitMail(t, srv, "rita@example.com")
	path := adminLinkPath.FindString(msg.Text)
	if path == "" || !strings.Contains(msg.Text, smartURL+path) {
		t.Fatalf("no link in the invitation:\n%s", msg.Text)
	}

	b := anonymous(m.env)
	if w := b.serve(httptestGet(path)); !strings.Contains(w.Body.String(), "reception") {
		t.Errorf("the invitation page does not name the role:\n%s", w.Body)
	}
	if r := b.followLink(t, path, "short"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a short password: got %d, want 422", r.StatusCode)
	}
	r := b.followLink(t, path, "the receptionist's long password")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set password: got %d", r.StatusCode)
	}
	a, err := env.s.AdminByEmail(t.Context(), "rita@example.com")
	if err != nil || a.Role != access.RoleReception {
		t.Fatalf("invited admin: got %+v, %v, want a receptionist", a, err)
	}
	// Spent: the link works once.
	if w := b.serve(httptestGet(path)); w.Code != http.StatusNotFound {
		t.Errorf("the link again: got %d, want 404", w.Code)
	}
	// And the password signs in.
	ck, csrf := b.preForm(t, "/login")
	if w := b.postPre("/login", ck, url.Values{"_csrf": {csrf}, "email": {"rita@example.com"}, "password": {"the receptionist's long password"}}); w.Code != http.StatusSeeOther {
		t.Errorf("sign in with the chosen password: got %d", w.Code)
	}
}

// TestPasswordResetByEmail: the forgot form answers alike for anyone,
// mails a link only to an administrator, and the link sets a new password
// and signs out the old sessions.
func TestPasswordResetByEmail(t *testing.T) {
	srv := startSMTP(t)
	m := newMailEnv(t, srv.URL())
	env := m.env
	b := anonymous(m.env)
	for _, email := range []string{"nobody@example.com", adminEmail} {
		ck, csrf := b.preForm(t, "/login/forgot")
		w := b.postPre("/login/forgot", ck, url.Values{"_csrf": {csrf}, "email": {email}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?flash=reset-sent" {
			t.Errorf("forgot %s: got %d %s, want the same answer for anyone", email, w.Code, w.Header().Get("Location"))
		}
	}
	msg := waitMail(t, srv, adminEmail)
	path := adminLinkPath.FindString(msg.Text)
	if path == "" {
		t.Fatalf("no link in the reset email:\n%s", msg.Text)
	}
	if r := b.followLink(t, path, "a brand new passphrase"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: got %d", r.StatusCode)
	}
	// The session from before the reset is over.
	if w := env.get("/"); w.Code != http.StatusSeeOther {
		t.Errorf("old session after a reset: got %d, want sent to sign in", w.Code)
	}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			if strings.Contains(to, "nobody@") {
				t.Errorf("a reset email went to an address that is no administrator's")
			}
		}
	}
}

func httptestGet(path string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://example.com"+path, nil)
	return r
}

// anonymous is a browser with no session on the same appliance.
func anonymous(on *env) *env { return &env{e: on.e, s: on.s, clock: on.clock} }
