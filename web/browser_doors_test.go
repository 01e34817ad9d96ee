package web_test

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/store"
	"postern/web"
)

// TestBrowserDoors drives headless Chromium through what an admin does
// with doors: unlock now from the dashboard's tile, a lockdown started with
// one confirmed click and its banner on every page until it is ended, and
// a door's state and contact on the dashboard changing live, without a
// reload. It skips without Chromium unless POSTERN_REQUIRE_BROWSER is set.
func TestBrowserDoors(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // failure guard only
	t.Cleanup(cancel)

	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateAdmin(ctx, "test", adminEmail, adminHash(), false); err != nil {
		t.Fatal(err)
	}
	front := access.AccessPoint{Name: "Front door", Reader: "sim:front", UnlockDuration: 5 * time.Second}
	if err := st.CreateAccessPoint(ctx, "test", &front); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Listener.Close()
	srv.Listener = ln
	base := "http://" + ln.Addr().String()
	srv.Config.Handler = web.New(web.Config{Store: st, Log: slog.New(slog.NewTextHandler(t.Output(), nil)), PublicURL: base})
	srv.Start()
	t.Cleanup(srv.Close)

	b := startBrowser(ctx, t, chrome, base)
	b.open("/login")
	b.fill("login-form", "email", adminEmail)
	b.fill("login-form", "password", adminPassword)
	b.submit("login-form")
	b.wantPage("/", "Dashboard")
	b.wantText("door-state", "Locked")

	// Unlock now, from the door's tile.
	b.clickTo(testid("unlock-now"))
	b.wantPage("/", "Dashboard")
	b.wantText("flash", "Unlocked.")
	if got := b.texts("door-state"); len(got) != 1 || !strings.HasPrefix(got[0], "Unlocked until ") {
		t.Errorf("after unlock now the door reads %q, want unlocked until a time", got)
	}
	b.clickTo(testid("lock-now"))
	b.wantText("door-state", "Locked")

	// The door's contact, live: the tile changes without a reload.
	b.run(`window.posternSamePage = true`)
	// The stream shows what comes after it connects, which the page does
	// not say: the door is forced again until the tile shows it.
	forced := `(document.querySelector('[data-testid="door-contact"]')?.innerText ?? "").includes("Forced open")`
	for i := 0; b.eval(`String(`+forced+`)`) != "true"; i++ {
		if i == 20 {
			t.Fatal("the tile never said forced open")
		}
		if err := st.AppendEvent(ctx, &access.Event{Kind: "door.forced", Actor: "door", AccessPointID: front.ID}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if b.eval(`String(window.posternSamePage === true)`) != "true" {
		t.Error("the door's contact came with a page load, not live")
	}

	// A lockdown, with one confirmed click: the banner is on every page.
	b.run(`window.confirm = () => true`)
	b.clickTo(testid("start-lockdown"))
	b.wantPage("/", "Dashboard")
	if got := b.texts("emergency-banner"); len(got) != 1 || !strings.Contains(got[0], "Lockdown.") || !strings.Contains(got[0], "by admin:"+adminEmail) {
		t.Fatalf("the banner reads %q, want the lockdown and who started it", got)
	}
	b.wantText("door-state", "Locked down (site lockdown)")
	b.nav("users")
	if got := b.texts("emergency-banner"); len(got) != 1 {
		t.Errorf("the users page has %d banners, want the lockdown's", len(got))
	}
	b.run(`window.confirm = () => true`)
	b.clickTo(testid("emergency-end"))
	b.wantPage("/", "Dashboard")
	if got := b.texts("emergency-banner"); len(got) != 0 {
		t.Errorf("after the end the banner still reads %q", got)
	}
	b.wantText("door-state", "Locked")
	evs, _, err := st.Events(ctx, access.EventFilter{Kind: "site."})
	if err != nil || len(evs) != 2 || evs[0].Kind != "site.lockdown_ended" || evs[1].Actor != "admin:"+adminEmail {
		t.Errorf("got events %+v, %v; want the lockdown started and ended by the admin", evs, err)
	}
	if errs := b.console.take(); len(errs) > 0 {
		t.Errorf("the pages logged JavaScript or console errors:\n%s", strings.Join(errs, "\n"))
	}
}
