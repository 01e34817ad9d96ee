package web_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestBrowserTwoFactor: in Chromium, the owner sets up two-factor from
// their account page (the QR code and key shown, a code typed), sees the
// recovery codes once, and then signs in with the password and a code.
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
}
