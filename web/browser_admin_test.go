package web_test

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"postern/web"
)

// TestBrowserAdminAccount drives Chromium through Settings >
// Administrators: a token is revoked after the page's confirmation, the
// password is changed, and the page fits a phone, with no JavaScript error
// under the Content-Security-Policy.
func TestBrowserAdminAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // failure guard
	t.Cleanup(cancel)

	env := newAdminEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(env.e)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	if _, err := env.s.CreateAPITokenUntil(ctx, "test", env.admin.ID, "payroll sync", web.NewAPIToken(), time.Time{}); err != nil {
		t.Fatal(err)
	}

	b := startBrowser(ctx, t, chrome, "http://"+ln.Addr().String())
	b.open("/login")
	b.probeConsole()
	b.fill("login-form", "email", adminEmail)
	b.fill("login-form", "password", adminPassword)
	b.submit("login-form")
	b.wantPage("/", "Dashboard")

	b.nav("settings")
	b.clickTo(testid("admins-link"))
	b.wantPage("/settings/admins", "Administrators and API tokens")
	if rows := b.texts("admin-row"); len(rows) != 1 || !strings.HasPrefix(rows[0], adminEmail) || !strings.HasSuffix(rows[0], "you") {
		t.Errorf("got admin rows %q, want this admin, marked as you", rows)
	}
	if rows := b.texts("token-row"); len(rows) != 2 || !strings.HasPrefix(rows[0], "payroll sync "+adminEmail) || !strings.Contains(rows[0], "never never") {
		t.Fatalf("got token rows %q, want payroll sync (never used, never expires) and tests", rows)
	}
	// The revoke asks first; a "no" keeps the token.
	b.run(`window.confirm = () => false`)
	b.do("decline to revoke", chromedp.Click(chromedp.CSS(testid("revoke-token"))))
	if n := len(b.texts("token-row")); n != 2 {
		t.Fatalf("after declining, %d token rows, want 2", n)
	}
	b.run(`window.confirm = () => true`)
	b.clickTo(testid("revoke-token"))
	b.wantPage("/settings/admins", "Administrators and API tokens")
	b.wantText("flash", "API token revoked. It no longer opens the API.")
	if rows := b.texts("token-row"); len(rows) != 1 || !strings.HasPrefix(rows[0], "tests ") {
		t.Errorf("after the revoke, token rows %q, want only tests", rows)
	}

	b.fill("password-form", "current", adminPassword)
	b.fill("password-form", "password", "a new and longer passphrase")
	b.fill("password-form", "confirm", "a new and longer passphrase")
	b.submit("password-form")
	b.wantPage("/settings/admins", "Administrators and API tokens")
	b.wantText("flash", "Password changed. You are signed out everywhere else.")

	b.do("emulate a phone", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateMobile))
	b.open("/settings/admins")
	b.wantFits("administrators")
	if errs := b.console.take(); len(errs) > 0 {
		t.Errorf("the pages logged %d JavaScript or console errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}
