package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"postern/access"
)

// TestBrowserTwoFactor: in Chromium, the owner sets up two-factor from
// their account page (the QR code and key shown, a code typed), sees the
// recovery codes once, and then signs in with the password and a code.
// Then they turn off the two-factor of another administrator, who lost
// their phone, from the Administrators page after a confirmation; that
// admin is emailed and signs in with the password alone; when the owner
// then requires two-factor of her role, her next page is its setup.
func TestBrowserTwoFactor(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second) // failure guard
	t.Cleanup(cancel)
	env := newAdminEnv(t)

	b := startBrowser(ctx, t, chrome, serveLoopback(t, env))
	b.open("/login")
	b.fill("login-form", "email", adminEmail)
	b.fill("login-form", "password", adminPassword)
	b.submit("login-form")
	b.open("/settings/admins")
	b.wantText("two-factor-state", "Off: your password alone signs you in.")
	b.submit("two-factor-start-form")
	b.wantPage("/settings/admins", "Administrators and API tokens")
	if b.eval(`String(document.querySelector('[data-testid="totp-qr"]').naturalWidth > 0)`) != "true" {
		t.Error("the QR code is not drawn")
	}
	secret := strings.ReplaceAll(b.textOf("totp-secret"), " ", "")
	b.fill("two-factor-form", "code", env.totpCode(t, secret))
	b.submit("two-factor-form")
	b.wantPage("/settings/two-factor", "Your recovery codes")
	if codes := b.texts("recovery-code"); len(codes) != 10 {
		t.Fatalf("recovery codes: got %q, want 10", codes)
	}
	b.clickTo(testid("continue"))
	b.wantText("recovery-left", "10")

	b.clickTo(testid("logout"))
	env.clock.Add(totpStepLength)
	b.fill("login-form", "email", adminEmail)
	b.fill("login-form", "password", adminPassword)
	b.submit("login-form")
	b.wantPage("/login/code", "Sign in: your code")
	b.fill("code-form", "code", env.totpCode(t, secret))
	b.submit("code-form")
	b.wantPage("/", "Dashboard")

	ada, err := env.s.CreateAdminAs(ctx, "test", "ada@example.com", adminHash(), access.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	adaAt := newCookieBrowser(t, env)
	adaAt.signIn(ada.Email, adminPassword)
	enrolTwoFactor(t, env, adaAt)
	dialogs := &dialogLog{accept: true}
	if err := chromedp.Listen(b.ctx, dialogs.listen(b.ctx)); err != nil {
		t.Fatal(err)
	}
	b.open("/settings/admins")
	if got := b.texts("admin-two-factor-off"); len(got) != 1 {
		t.Fatalf("turn-off buttons: got %q, want one, ada's", got)
	}
	b.clickTo(`[data-email="ada@example.com"] ` + testid("admin-two-factor-off"))
	b.wantPage("/settings/admins", "Administrators and API tokens")
	if q := dialogs.questions(); len(q) != 1 || !strings.Contains(q[0], "Turn off two-factor sign-in for ada@example.com?") {
		t.Errorf("confirmation: got %q", q)
	}
	b.wantText("flash", "Two-factor sign-in is off for that administrator, and they have been emailed.")
	if got := b.texts("admin-two-factor-off"); len(got) != 0 {
		t.Errorf("turn-off buttons after: got %q, want none", got)
	}
	mails, _, err := env.s.Outbox(ctx, 0, 10)
	if err != nil || len(mails) == 0 || mails[0].Recipient != ada.Email || mails[0].Kind != "admin_two_factor_off" {
		t.Errorf("outbox: got %+v, %v, want ada's email that two-factor is off", mails, err)
	}

	b.clickTo(testid("logout"))
	b.fill("login-form", "email", ada.Email)
	b.fill("login-form", "password", adminPassword)
	b.submit("login-form")
	b.wantPage("/", "Dashboard")

	// The owner now requires two-factor of admins: Ada, signed in without
	// it, sets it up before her next page, and then has that page, in the
	// same session.
	if err := env.s.SetSetting(ctx, "test", "two_factor_roles", "admin"); err != nil {
		t.Fatal(err)
	}
	b.open("/users?q=lee")
	b.wantPage("/login/enrol", "Set up two-factor sign-in")
	b.fill("enrol-form", "code", env.totpCode(t, strings.ReplaceAll(b.textOf("totp-secret"), " ", "")))
	b.submit("enrol-form")
	b.wantPage("/login/enrol", "Your recovery codes")
	b.clickTo(testid("continue"))
	b.wantPage("/users", "Users")
	if got := b.eval(`location.search`); got != "?q=lee" {
		t.Errorf("back on the users page with %q, want ?q=lee", got)
	}
}
