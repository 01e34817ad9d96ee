package web_test

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"postern/access"
)

// TestBrowserRoles signs in as each role in Chromium and checks that the
// menu and the buttons offer only what the role may do, and that opening
// a forbidden page by its address is refused.
func TestBrowserRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second) // failure guard
	t.Cleanup(cancel)

	env := newAdminEnv(t)
	env.create(t, "access-points", `{"name":"Front door","reader":"sim:front"}`)
	env.create(t, "users", `{"first_name":"Pat","last_name":"Doe","email":"pat@example.com"}`)
	for _, r := range []access.Role{access.RoleViewer, access.RoleReception, access.RoleAdmin} {
		if _, err := env.s.CreateAdminAs(ctx, "test", string(r)+"@example.com", adminHash(), r); err != nil {
			t.Fatal(err)
		}
	}
	base := serveLoopback(t, env)

	tests := []struct {
		email     string
		nav       []string // the menu, in order
		buttons   map[string]bool
		forbidden []string // pages refused by address
	}{
		{"viewer@example.com",
			[]string{"Dashboard", "Users", "Groups", "Access points", "Time profiles", "Permissions", "Visitors", "Events", "Roll call", "Alarms", "Readers", "Shares", "Your account"},
			map[string]bool{"new-user": false, "unlock-now": false, "start-lockdown": false, "register-visitor": false, "start-two-factor": true, "save-two-factor-roles": false, "bulk-actions": false},
			[]string{"/outbox", "/settings", "/settings/backup", "/users/new", "/users/import"}},
		{"reception@example.com",
			[]string{"Dashboard", "Users", "Groups", "Access points", "Time profiles", "Permissions", "Visitors", "Events", "Roll call", "Alarms", "Readers", "Shares", "Your account"},
			map[string]bool{"new-user": false, "unlock-now": true, "start-lockdown": true, "register-visitor": true, "start-two-factor": true, "save-two-factor-roles": false, "bulk-actions": false},
			[]string{"/outbox", "/settings", "/access-points/new", "/users/import"}},
		{"admin@example.com",
			[]string{"Dashboard", "Users", "Groups", "Access points", "Time profiles", "Permissions", "Visitors", "Events", "Roll call", "Alarms", "Readers", "Outbox", "Shares", "Your account"},
			map[string]bool{"new-user": true, "unlock-now": true, "start-lockdown": true, "register-visitor": true, "start-two-factor": true, "save-two-factor-roles": false, "bulk-actions": true},
			[]string{"/settings", "/settings/backup"}},
		{adminEmail,
			[]string{"Dashboard", "Users", "Groups", "Access points", "Time profiles", "Permissions", "Visitors", "Events", "Roll call", "Alarms", "Readers", "Outbox", "Shares", "Settings"},
			map[string]bool{"new-user": true, "unlock-now": true, "start-lockdown": true, "register-visitor": true, "start-two-factor": true, "save-two-factor-roles": true, "bulk-actions": true},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			b := startBrowser(ctx, t, chrome, base)
			b.open("/login")
			b.fill("login-form", "email", tt.email)
			b.fill("login-form", "password", adminPassword)
			b.submit("login-form")
			b.wantPage("/", "Dashboard")
			got := b.eval(`Array.from(document.querySelectorAll("nav a"), a => a.innerText).join("|")`)
			if want := strings.Join(tt.nav, "|"); got != want {
				t.Errorf("menu: got %s\nwant %s", got, want)
			}
			seen := map[string]bool{}
			for _, page := range []string{"/", "/users", "/visitors", "/settings/admins"} {
				b.open(page)
				for id := range tt.buttons {
					seen[id] = seen[id] || len(b.texts(id)) > 0
				}
			}
			for id, want := range tt.buttons {
				if seen[id] != want {
					t.Errorf("button %s shown: got %v, want %v", id, seen[id], want)
				}
			}
			for _, page := range tt.forbidden {
				b.open(page)
				b.wantPage(page, "Something is not right")
				if msg := b.texts("error-message"); len(msg) != 1 || !strings.Contains(msg[0], "may not do this") {
					t.Errorf("%s: got %q, want the refusal for the role", page, msg)
				}
			}
		})
	}
}

// serveLoopback serves env's appliance on a loopback port until the test
// ends, and returns its base URL.
func serveLoopback(t *testing.T, env *env) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(env.e)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return "http://" + ln.Addr().String()
}
