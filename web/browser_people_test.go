package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"postern/access"
)

// TestBrowserPeopleAndCodes drives Chromium through what a new admin found
// wrong with people and their codes: groups on the new-user form, a second
// user with one address, choosing a user for a permission by searching,
// the state of expired users, codes shown once and printed without email,
// the page the invitation's link opens, every field's error at once, and
// the users list's order and pages.
func TestBrowserPeopleAndCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second) // failure guard only
	t.Cleanup(cancel)
	app := startBrowserApp(t, ctx)

	// Settings: every field's error at once, and what was typed kept.
	app.nav("settings")
	app.wantPage("/settings", "Settings")
	app.fill("settings-form", "site_name", "Acme Workshop")
	app.fill("settings-form", "time_zone", "Mars/Olympus")
	app.fill("settings-form", "smtp", "smtp://doors:secret@mail.example.com:587?tls=maybe")
	app.submit("settings-form")
	app.wantPage("/settings", "Settings")
	app.wantContains("error-time_zone", "time zone name")
	app.wantContains("error-smtp", "tls")
	app.fill("settings-form", "smtp", "smtp://doors:secret@mail.example.com:587")
	app.submit("settings-form")
	app.wantPage("/settings", "Settings")
	app.wantContains("error-time_zone", "time zone name")
	if got := app.eval(`document.querySelector('[data-testid="settings-form"] [name="smtp"]').value`); got != "smtp://doors:secret@mail.example.com:587" {
		t.Errorf("after a bad time zone the SMTP field holds %q, want what was typed", got)
	}
	if got := app.eval(`document.querySelector('[data-testid="settings-form"] [name="site_name"]').value`); got != "Acme Workshop" {
		t.Errorf("after a bad time zone the site name is %q, want what was typed", got)
	}
	app.fill("settings-form", "time_zone", "UTC")
	app.fill("settings-form", "smtp", "")
	app.submit("settings-form")
	app.wantText("flash", "Changes saved.")
	app.expectRefusals(2)

	// A group, then a new user put in it from Users → New (README step 3).
	app.nav("groups")
	app.clickTo(testid("new-group"))
	app.fill("group-form", "name", "Staff")
	app.submit("group-form")
	app.wantPage("/groups/*", "Staff")
	app.newUser("Grace", "Hopper", "family@example.com", "Staff")
	app.submit("user-form")
	app.wantPage("/users/*", "Grace Hopper")
	if !app.checked(`//form[@data-testid="user-groups-form"]//label[normalize-space()="Staff"]/input`) {
		t.Error("Grace made in Staff from the new-user form is not in Staff")
	}

	// A second user with Grace's address: sent back once, naming her.
	app.newUser("Alan", "Hopper", "family@example.com")
	app.submit("user-form")
	app.wantPage("/users", "New user")
	app.wantContains("email-shared", "This address is already Grace Hopper")
	app.do("tick that they share it", chromedp.Click(chromedp.CSS(testid("email-shared-ok"))))
	app.submit("user-form")
	app.wantPage("/users/*", "Alan Hopper")
	app.expectRefusals(1)
	app.wantContains("email-shared", "Also the address of Grace Hopper")

	// A door, and a permission for Alan, found by typing his name.
	app.nav("access-points")
	app.clickTo(testid("new-access-point"))
	app.fill("access-point-form", "name", "Front door")
	app.fill("access-point-form", "reader", "sim:front")
	app.submit("access-point-form")
	app.nav("permissions")
	app.do("type a name in the user search", chromedp.SendKeys(chromedp.CSS(testid("permission-user-search")), "alan"))
	app.poll("the search to offer Alan", `document.querySelectorAll('[data-testid="user-choice"]').length === 1`)
	app.wantText("user-choice", "Alan Hopper family@example.com")
	app.do("choose Alan", chromedp.Click(chromedp.CSS(testid("user-choice")+" input")))
	app.choose("permission-form", "access_point_id", "Front door")
	app.submit("permission-form")
	app.wantText("flash", "Saved.")
	app.wantRows("permission-row", "Alan Hopper Front door Any time Remove")

	// Carla's access has ended: the list and her page say so, and issuing
	// her a credential asks first.
	app.newUser("Carla", "Diaz", "carla@example.com")
	app.run(`document.querySelector('[data-testid="user-form"] [name="valid_until"]').value = "2020-01-31"`)
	app.submit("user-form")
	app.wantPage("/users/*", "Carla Diaz")
	app.wantText("user-state", "expired: valid until 2020-01-31")
	app.wantContains("issue-warning", "Carla Diaz's access expired (valid until 2020-01-31)")
	app.dialogs.answer(false)
	app.do("ask for a credential", chromedp.Click(chromedp.CSS(testid("assign-credential"))))
	app.waitQuestion("Issue it anyway?")
	app.wantText("no-credentials", "No credentials yet.")
	app.dialogs.answer(true)
	app.clickTo(testid("assign-credential"))
	app.wantText("flash", "Smart credential assigned; the invitation is in the outbox.")

	// Dan has no email: his code is printed, shown once, and emails nothing.
	app.newUser("Dan", "Ek", "")
	app.submit("user-form")
	app.wantPage("/users/*", "Dan Ek")
	app.wantContains("needs-email", "no email address")
	app.clickTo(testid("assign-print"))
	app.wantPage("/users/*/codes/*", "Registration code for Dan Ek")
	app.wantContains("code-delivery", "Nothing was emailed")
	if app.eval(`String(document.querySelector('[data-testid="registration-qr"]')?.naturalWidth ?? 0)`) == "0" || !app.visible("print") {
		t.Error("the page to print shows no QR code or no Print button")
	}
	code := strings.ReplaceAll(app.textOf("registration-code"), " ", "")
	link := app.textOf("registration-link")
	app.screenshot("code-to-print")
	app.reload()
	app.wantPage("/users/*/codes/*", "This code was shown already")
	if strings.Contains(app.eval(`document.body.innerText`), code[:8]) {
		t.Error("reloading the code's page shows the code again")
	}
	app.expectRefusals(1)
	app.clickTo(testid("back-to-user"))
	app.wantPage("/users/*", "Dan Ek")
	if n := len(app.texts("credential-row")); n != 1 {
		t.Errorf("after the code's page was reloaded Dan has %d credentials, want 1", n)
	}
	outbox, _, err := app.st.Outbox(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range outbox {
		if m.Kind == "invitation" && !strings.Contains(m.Recipient, "carla@example.com") {
			t.Errorf("an invitation went to %q; only Carla's was emailed", m.Recipient)
		}
	}

	// The link on the printed page, opened in a browser: the site by name,
	// the code still good, and what to do, with no command line.
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	app.open(u.RequestURI())
	app.wantPage("/key/register", "Your Postern key for Acme Workshop")
	app.wantContains("code-state", "This invitation works until")
	app.wantContains("next-steps", "Postern key app")
	if body := app.eval(`document.body.innerText`); strings.Contains(body, "postern key") || strings.Contains(body, "--state") {
		t.Errorf("the registration page shows a command line:\n%s", body)
	}
	registerKey(ctx, t, link)
	app.reload()
	app.wantContains("code-state", "This code has already been used to set up a phone")

	// The users list: natural order, both ways, Previous and Next.
	for i := 1; i <= 55; i++ {
		u := access.User{FirstName: "Agency", LastName: fmt.Sprintf("Temp%d", i), Enabled: true}
		if err := app.st.CreateUser(ctx, "setup", &u); err != nil {
			t.Fatal(err)
		}
	}
	app.open("/users") // the registration page is not an admin page: no menu
	rows := app.texts("user-row")
	if len(rows) != 50 || !strings.HasPrefix(rows[4], "Agency Temp1 ") || !strings.HasPrefix(rows[8], "Agency Temp5 ") || !strings.HasPrefix(rows[49], "Agency Temp46 ") {
		t.Errorf("the first page of users, by last name as people read it:\n%q", rows)
	}
	app.clickTo(testid("next-page"))
	if rows := app.texts("user-row"); len(rows) != 9 || !strings.HasPrefix(rows[0], "Agency Temp47 ") {
		t.Errorf("the second page: %q", rows)
	}
	app.clickTo(testid("prev-page"))
	if rows := app.texts("user-row"); len(rows) != 50 || !strings.HasPrefix(rows[0], "Diaz") && !strings.HasPrefix(rows[0], "Carla Diaz") {
		t.Errorf("back on the first page: %q", rows)
	}
	app.clickTo(testid("sort-name"))
	if rows := app.texts("user-row"); !strings.HasPrefix(rows[0], "Agency Temp55 ") || app.textOf("sort-name") != "Name ↓" {
		t.Errorf("by name, Z to A: heading %q, rows %q", app.textOf("sort-name"), rows[:3])
	}
	app.clickTo(testid("sort-email"))
	if rows := app.texts("user-row"); !strings.HasPrefix(rows[0], "Carla Diaz carla@example.com") {
		t.Errorf("by email: %q", rows[:3])
	}

	// On a phone.
	app.phone()
	app.open("/users")
	app.wantFits("users")
	app.screenshot("phone-users")
	app.open(u.RequestURI())
	app.wantFits("registration link")
	app.screenshot("phone-registration-link")
	app.open("/")
	app.openUser("Carla Diaz")
	app.wantFits("expired user")
	app.screenshot("phone-expired-user")
	app.nav("permissions")
	app.wantFits("permissions")

	if errs := app.console.take(); len(errs) > 0 {
		t.Errorf("the pages logged %d JavaScript or console errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// newUser fills Users → New, ticking the groups named; the caller submits.
func (app *browserApp) newUser(first, last, email string, groups ...string) {
	app.t.Helper()
	app.nav("users")
	app.clickTo(testid("new-user"))
	app.wantPage("/users/new", "New user")
	app.fill("user-form", "first_name", first)
	app.fill("user-form", "last_name", last)
	app.fill("user-form", "email", email)
	for _, g := range groups {
		box := fmt.Sprintf(`//form[@data-testid="user-form"]//label[normalize-space()=%q]/input`, g)
		app.do("tick "+g, chromedp.Click(chromedp.Search(box)))
	}
}

// expectRefusals takes from the console log the n pages answered with an
// error status on purpose (a refused form, a code shown already): Chromium
// logs each as a failed load. Anything else logged stays.
func (app *browserApp) expectRefusals(n int) {
	app.t.Helper()
	var other []string
	for _, e := range app.console.take() {
		if n > 0 && strings.HasPrefix(e, "network: Failed to load resource: the server responded with a status of 4") {
			n--
			continue
		}
		other = append(other, e)
	}
	if n > 0 {
		app.t.Errorf("%d fewer refused pages than expected were logged", n)
	}
	app.console.mu.Lock()
	app.console.errs = append(other, app.console.errs...)
	app.console.mu.Unlock()
}

// waitQuestion waits for a confirm() dialog that says want.
func (app *browserApp) waitQuestion(want string) {
	app.t.Helper()
	for {
		for _, q := range app.dialogs.questions() {
			if strings.Contains(q, want) {
				return
			}
		}
		select {
		case <-app.ctx.Done():
			app.t.Fatalf("no dialog asked %q; asked: %q", want, app.dialogs.questions())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
