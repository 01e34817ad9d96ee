package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"postern/access"
)

// enrolTwoFactor turns two-factor on from b's account page and returns
// the secret.
func enrolTwoFactor(t *testing.T, env *env, b *cookieBrowser) string {
	t.Helper()
	b.submit("/settings/admins", "/settings/two-factor/start", nil)
	secret := setupSecret(t, b.do(http.MethodGet, "/settings/admins", nil).Body.String())
	recoveryCodes(t, b.submit("/settings/admins", "/settings/two-factor", url.Values{"code": {env.totpCode(t, secret)}}))
	return secret
}

// TestOwnerTurnsOffAnotherAdminsTwoFactor: an owner turns off the second
// factor of an admin who lost their phone from the Administrators page;
// the admin is emailed (through a real SMTP server) and signs in with the
// password alone, or sets two-factor up again at once when the owner
// requires it of their role.
func TestOwnerTurnsOffAnotherAdminsTwoFactor(t *testing.T) {
	tests := []struct {
		name        string
		require     []string // roles that must use two-factor
		wantSession string   // where her open session's next page sends her; "": shown
		wantTo      string   // where ada's password sends her afterwards
		wantMail    string
	}{
		{name: "not required", wantTo: "/", wantMail: "Your password alone now signs you in."},
		{name: "required of her role", require: []string{"admin"}, wantSession: "/login/enrol?next=%2F", wantTo: "/login/enrol?next=%2F",
			wantMail: "Every admin of this site must use two-factor sign-in, so you will set it up again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t)
			env := newMailEnv(t, srv.URL()).env
			const adaEmail = "ada@example.com"
			ada, err := env.s.CreateAdminAs(t.Context(), "test", adaEmail, adminHash(), access.RoleAdmin)
			if err != nil {
				t.Fatal(err)
			}
			adaAt := newCookieBrowser(t, env)
			adaAt.signIn(adaEmail, adminPassword)
			enrolTwoFactor(t, env, adaAt)
			if w := env.post("/settings/two-factor/roles", url.Values{"require": tt.require}); w.Code != http.StatusSeeOther {
				t.Fatalf("require two-factor: got %d\n%s", w.Code, w.Body)
			}
			off := "/settings/admins/" + strconv.FormatInt(ada.ID, 10) + "/two-factor-off"

			// The owner's page offers it for ada, who has two-factor, and
			// not for the owner, who has none and would use their own form.
			doc := parse(t, env.get("/settings/admins").Body.String())
			if n := doc.Find(`[data-email="` + adaEmail + `"] form[action="` + off + `"][data-confirm]`).Length(); n != 1 {
				t.Errorf("ada's row: got %d forms to turn off her two-factor with a confirmation, want 1", n)
			}
			if n := byTestID(doc, "admin-two-factor-off").Length(); n != 1 {
				t.Errorf("got %d buttons to turn off two-factor, want 1 (ada's)", n)
			}
			// Ada, an admin but no owner, sees no such button nor may post it.
			if n := byTestID(parse(t, adaAt.do(http.MethodGet, "/settings/admins", nil).Body.String()), "admin-two-factor-off").Length(); n != 0 {
				t.Errorf("an admin's page: got %d buttons to turn off two-factor, want none", n)
			}
			if w := adaAt.submit("/settings/admins", off, nil); w.Code != http.StatusForbidden {
				t.Errorf("an admin turns off two-factor: got %d, want 403", w.Code)
			}

			if w := env.post(off, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/settings/admins?flash=admin-two-factor-off" {
				t.Fatalf("turn off: got %d to %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
			}
			if tf, err := env.s.TwoFactor(t.Context(), ada.ID); err != nil || tf.Enrolled() || tf.Recovery != 0 {
				t.Errorf("ada's two-factor: got %+v, %v, want off with no recovery codes", tf, err)
			}
			msg := waitMail(t, srv, adaEmail)
			for _, want := range []string{adminEmail + " turned off two-factor sign-in for " + adaEmail, "recovery codes no longer work", tt.wantMail} {
				if !strings.Contains(msg.Text, want) {
					t.Errorf("email: no %q in\n%s", want, msg.Text)
				}
			}
			if !strings.Contains(msg.Subject, "Two-factor sign-in turned off") {
				t.Errorf("email subject: got %q", msg.Subject)
			}
			audited := false
			for _, e := range env.events(t) {
				audited = audited || e.Kind == "admin.two_factor_disabled" && e.Actor == "admin:"+adminEmail && e.Detail == adaEmail
			}
			if !audited {
				t.Error("no admin.two_factor_disabled event by the owner naming ada")
			}

			// Her open session stays, but a role that must use two-factor
			// sets it up again before its next page.
			if w := adaAt.do(http.MethodGet, "/", nil); w.Header().Get("Location") != tt.wantSession {
				t.Errorf("ada's open session afterwards: got %d to %q, want %q", w.Code, w.Header().Get("Location"), tt.wantSession)
			}
			if to := newCookieBrowser(t, env).signIn(adaEmail, adminPassword); to != tt.wantTo {
				t.Errorf("ada's password afterwards: sent to %q, want %q", to, tt.wantTo)
			}
			if w := env.post(off, nil); w.Code != http.StatusConflict {
				t.Errorf("turn off again: got %d, want 409", w.Code)
			}
		})
	}
}

// TestOwnerCannotTurnOffOwnTwoFactorWithoutPassword: the owner's own
// second factor is turned off only with their password, on their account.
func TestOwnerCannotTurnOffOwnTwoFactorWithoutPassword(t *testing.T) {
	env := newLoggedInEnv(t)
	me := newCookieBrowser(t, env)
	me.signIn(adminEmail, adminPassword)
	enrolTwoFactor(t, env, me)
	if w := env.post("/settings/admins/"+strconv.FormatInt(env.admin.ID, 10)+"/two-factor-off", nil); w.Code != http.StatusConflict {
		t.Errorf("own two-factor: got %d, want 409", w.Code)
	}
	if tf, err := env.s.TwoFactor(t.Context(), env.admin.ID); err != nil || !tf.Enrolled() {
		t.Errorf("own two-factor: got %+v, %v, want still on", tf, err)
	}
	if n := byTestID(parse(t, env.get("/settings/admins").Body.String()), "admin-two-factor-off").Length(); n != 0 {
		t.Errorf("own row: got %d buttons to turn off two-factor, want none", n)
	}
}
