package web_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"postern/access/protocol"
	"postern/mail/mailtest"
)

// TestBrowserDoorsAndDashboard drives Chromium through what a new admin
// found wrong at the doors and on the dashboard: a time profile in use, a
// clash named with its record, held open said one way, door events in
// people's words with each reader's state, an old phone after a reissue,
// and a phone's menu.
func TestBrowserDoorsAndDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second) // failure guard only
	t.Cleanup(cancel)
	app := startBrowserApp(t, ctx)

	// Two doors, the second bound to an adapter this gateway lacks; a
	// third on the first one's reader is refused, naming the first.
	app.newAccessPoint("Front door", "sim:front", "Held open: the door stays unlocked")
	app.newAccessPoint("Car park", "hci3", "")
	app.newAccessPoint("Side door", "sim:front", "")
	app.wantPage("/access-points", "New access point")
	app.wantContains("error-reader", "is already the reader of access point Front door")
	app.clickTo(testid("error-link-reader"))
	app.wantPage("/access-points/*", "Front door")
	app.expectRefusals(1)
	app.nav("access-points")
	app.wantRows("access-point-row",
		"Car park hci3 direct -60 dBm no normal",
		"Front door sim:front direct -60 dBm no held open")

	// A user, in office hours at the front door; the profile in use cannot
	// go, and its page says what uses it, with the way to remove it.
	app.newUser("Grace", "Hopper", "grace@example.com")
	app.submit("user-form")
	app.nav("time-profiles")
	app.clickTo(testid("new-time-profile"))
	app.fill("time-profile-form", "name", "Office hours")
	app.fill("time-profile-form", "windows", "Mon-Sun 00:00-23:59")
	app.submit("time-profile-form")
	app.openUser("Grace Hopper")
	app.choose("permission-form", "access_point_id", "Front door")
	app.choose("permission-form", "time_profile_id", "Office hours")
	app.submit("permission-form")
	app.nav("time-profiles")
	app.follow("open Office hours", chromedp.Click(chromedp.Search(`//tr[@data-testid="time-profile-row"]//a[normalize-space()="Office hours"]`)))
	app.dialogs.answer(true)
	app.clickTo(testid("delete-time-profile"))
	app.wantPage("/time-profiles/*", "Office hours")
	app.wantContains("flash", "Not deleted: permissions below still use it")
	app.wantRows("permission-row", "Grace Hopper Front door Office hours Remove")
	app.clickTo(testid("permission-row") + ` button[type="submit"]`)
	app.wantPage("/time-profiles/*", "Office hours")
	app.wantText("used-by-none", "No permission uses this time profile.")
	app.clickTo(testid("delete-time-profile"))
	app.wantPage("/time-profiles", "Time profiles")
	app.openUser("Grace Hopper")
	app.choose("permission-form", "access_point_id", "Front door")
	app.submit("permission-form")

	// Grace's phone; the dashboard follows it, in people's words.
	app.clickTo(testid("assign-credential"))
	invite, err := app.smtpd.Wait(ctx, mailtest.To("grace@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	oldPhone := registerKey(ctx, t, regexp.MustCompile(`http://\S+/key/register\?code=\d{32}`).FindString(invite.Text))
	app.nav("dashboard")
	app.wantPage("/", "Dashboard")
	front := app.mustAccessPoint(ctx, "Front door")
	app.poll("the front reader to listen", `document.querySelectorAll('[data-testid="reader-state"]').length === 2`)
	app.wantTiles(
		"Car park Locked Unlock now Reader: no radio no presentations yet",
		"Front door Held open Unlock now Reader: listening no presentations yet")
	app.wantText("no-events", "Nobody has presented a key yet.")
	if out, err := app.present(ctx, "front", oldPhone); err != nil || !out.Result.Granted {
		t.Fatalf("Grace at the front door: %+v %v", out, err)
	}
	last := fmt.Sprintf(`(document.querySelector('[data-testid="ap-last-%d"]')?.innerText ?? "")`, front.ID)
	app.poll("the front door's tile to say Granted", last+`.startsWith("Granted")`)
	app.poll("the row to appear", `document.querySelectorAll('[data-testid="event-row"]').length === 1`)
	if row := app.textOf("event-row"); !strings.Contains(row, "Access granted") || !strings.Contains(row, "Grace Hopper") || strings.Contains(row, "access.granted") {
		t.Errorf("the dashboard's row reads %q, want it in people's words", row)
	}

	// A new phone: Reissue, printed, registered; the old phone is then
	// refused as replaced, with Grace named, and said so to the key.
	app.openUser("Grace Hopper")
	app.clickTo(testid("print-code"))
	app.wantPage("/users/*/codes/*", "Registration code for Grace Hopper")
	registerKey(ctx, t, app.textOf("registration-link"))
	app.nav("dashboard")
	out, err := app.present(ctx, "front", oldPhone)
	if err != nil || out.Result.Granted || out.Result.Reason != protocol.ReasonReplaced {
		t.Fatalf("the old phone: %+v %v, want denied as replaced", out, err)
	}
	app.poll("the tile to say why", last+`.startsWith("Denied: replaced by a newer phone")`)
	app.poll("the denial to appear", `document.querySelectorAll('[data-testid="event-row"]').length === 2`)
	if row := app.textOf("event-row"); !strings.Contains(row, "Access denied") || !strings.Contains(row, "replaced by a newer phone") || !strings.Contains(row, "Grace Hopper") {
		t.Errorf("the dashboard's row for the old phone reads %q", row)
	}
	app.screenshot("dashboard")
	app.clickTo(testid("show-all"))
	app.wantPage("/", "Dashboard")
	if rows := strings.Join(app.texts("event-row"), "\n"); !strings.Contains(rows, "User added") || !strings.Contains(rows, "Smart credential assigned") {
		t.Errorf("Everything leaves out the admins' changes:\n%s", rows)
	}
	app.nav("events")
	app.do("filter the denials", chromedp.SetValue(chromedp.CSS(`select[name="result"]`), "denied"))
	app.clickTo(`form.toolbar button[type="submit"]`)
	app.wantRows("event-row-who", "Grace Hopper")

	// On a phone: a menu that fits, opened by a button.
	app.phone()
	app.open("/")
	app.wantFits("dashboard")
	if app.visible("nav-users") || !app.visible("menu-button") {
		t.Error("on a phone the sections show without the menu button")
	}
	app.screenshotTop("phone-menu-closed")
	app.do("open the menu", chromedp.Click(chromedp.CSS(testid("menu-button"))))
	app.poll("the menu to open", `document.querySelector('[data-testid="menu"]').open`)
	for _, s := range []string{"dashboard", "users", "settings", "logout"} {
		id := "nav-" + s
		if s == "logout" {
			id = s
		}
		if !app.visible(id) || app.rightEdge(id) > phoneWidth {
			t.Errorf("with the menu open, %s is hidden or reaches %d px on a %d px phone", id, app.rightEdge(id), phoneWidth)
		}
	}
	app.wantFits("dashboard with the menu open")
	app.screenshotTop("phone-menu-open")
	app.clickTo(testid("nav-users"))
	app.wantPage("/users", "Users")
	app.desktop()
	app.open("/")
	if !app.visible("nav-users") || app.visible("menu-button") {
		t.Errorf("on a laptop (%s px wide) the sections hide behind a menu button: sections shown %v, button shown %v",
			app.eval(`String(window.innerWidth)`), app.visible("nav-users"), app.visible("menu-button"))
	}
	app.screenshotTop("laptop-dashboard")

	if errs := app.console.take(); len(errs) > 0 {
		t.Errorf("the pages logged %d JavaScript or console errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// newAccessPoint fills Access points → New and submits it; state is the
// label of the state to choose, "" to leave it normal.
func (app *browserApp) newAccessPoint(name, reader, state string) {
	app.t.Helper()
	app.nav("access-points")
	app.clickTo(testid("new-access-point"))
	app.fill("access-point-form", "name", name)
	app.fill("access-point-form", "reader", reader)
	if state != "" {
		app.choose("access-point-form", "state", state)
	}
	app.submit("access-point-form")
}

// wantTiles checks the dashboard's access point tiles, word by word.
func (app *browserApp) wantTiles(want ...string) {
	app.t.Helper()
	app.wantRows("ap-card", want...)
}

// screenshotTop saves what the phone's screen shows, not the whole page.
func (app *browserApp) screenshotTop(name string) {
	app.t.Helper()
	png, err := chromedp.Run(app.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		app.t.Fatalf("screenshot of %s: %v", name, err)
	}
	app.save(name, png)
}
