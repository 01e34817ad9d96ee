package web_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/ble"
	"postern/mail"
	"postern/mail/mailtest"
	"postern/store"
	"postern/web"
)

// TestBrowserAdminWalkthrough drives headless Chromium through what a new
// administrator does first, by clicking and typing: set up, add users, a
// group, an access point, a time profile and permissions, sign out and back
// in. Along the way it checks that no page raises a JavaScript error under
// the strict Content-Security-Policy, and that the pages fit a phone.
//
// Without Chromium it skips, unless POSTERN_REQUIRE_BROWSER is set (CI sets
// it). POSTERN_SCREENSHOT_DIR keeps the phone-sized screenshots in that
// folder instead of a temporary one. It is not parallel: Chromium is the
// heaviest thing the package runs, and its timeouts are kinder alone.
func TestBrowserAdminWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	chrome := findChromium(t)

	// Failure guard only: nothing below is timed.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)

	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Listener.Close()
	srv.Listener = ln
	base := "http://" + ln.Addr().String()
	token := randomHex(t, 16)
	// A real SMTP server for the invitation, and the simulated air with a
	// reader loop for the live dashboard.
	smtpd, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtpd.Close() })
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	mailer, err := mail.NewMailer(web.MailOutbox(st), st, mail.MailerConfig{SMTP: smtpd.URL(), From: "doors@example.com", Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	go mailer.Run(ctx)
	// The reader manager comes later in the story; Calibrate asks it then.
	var readers atomic.Pointer[ble.Manager]
	srv.Config.Handler = web.New(web.Config{
		Store:      st,
		Log:        logger,
		PublicURL:  base,
		SetupToken: token,
		Mailer:     mailer,
		Calibrate: func(id int64) (web.Calibration, error) {
			var r *ble.Reader
			if m := readers.Load(); m != nil {
				r = m.Reader(id)
			}
			if r == nil {
				return web.Calibration{}, access.Conflict("the reader is not running")
			}
			c, err := r.Calibrate()
			if err != nil {
				return web.Calibration{}, access.Conflict("%v", err)
			}
			return web.Calibration{Samples: c.Samples, Median: c.Median, Offset: c.Offset}, nil
		},
	})
	srv.Start()
	t.Cleanup(srv.Close)

	b := startBrowser(ctx, t, chrome, base)

	const (
		adminEmail    = "ann@example.com"
		adminPassword = "correct horse battery"
	)

	// First run: the one-time setup link.
	b.open("/setup?token=" + token)
	b.wantPage("/setup", "Welcome to Postern")
	b.probeConsole()
	b.fill("setup-form", "email", adminEmail)
	b.fill("setup-form", "password", adminPassword)
	b.fill("setup-form", "confirm", adminPassword)
	b.submit("setup-form")
	b.wantPage("/", "Dashboard")
	b.wantText("user-count", "0")

	// Users: two, so that a search has something to filter out.
	b.nav("users")
	b.wantPage("/users", "Users")
	b.wantText("empty", "No users yet.")
	for _, u := range []struct{ first, last, email string }{
		{"Grace", "Hopper", "grace@example.com"},
		{"Alan", "Turing", "alan@example.com"},
	} {
		b.clickTo(testid("new-user"))
		b.wantPage("/users/new", "New user")
		b.fill("user-form", "first_name", u.first)
		b.fill("user-form", "last_name", u.last)
		b.fill("user-form", "email", u.email)
		b.submit("user-form")
		b.wantPage("/users/*", u.first+" "+u.last)
		b.wantText("flash", "Saved.")
		b.nav("users")
		b.wantPage("/users", "Users")
	}
	b.wantRows("user-row", // by last name
		"Grace Hopper grace@example.com enabled never",
		"Alan Turing alan@example.com enabled never")

	// The search box filters with htmx, without loading a new page.
	b.run(`window.posternSamePage = true`)
	b.do("type in the search box", chromedp.SendKeys(chromedp.CSS(testid("user-search")), "hopper"))
	b.poll("the user table to show one row", `document.querySelectorAll('[data-testid="user-row"]').length === 1`)
	b.wantRows("user-row", "Grace Hopper grace@example.com enabled never")
	if b.eval(`String(window.posternSamePage === true)`) != "true" {
		t.Fatal("searching loaded a new page: htmx did not handle the search box")
	}
	if got := b.location(); got != "/users?q=hopper" {
		t.Errorf("after the search the address is %q, want /users?q=hopper (hx-push-url)", got)
	}

	// Groups.
	b.nav("groups")
	b.wantPage("/groups", "Groups")
	b.wantText("empty", "No groups yet.")
	b.clickTo(testid("new-group"))
	b.wantPage("/groups/new", "New group")
	b.fill("group-form", "name", "Staff")
	b.fill("group-form", "description", "Everyone on the payroll")
	b.submit("group-form")
	b.wantPage("/groups/*", "Staff")
	b.wantText("flash", "Saved.")

	// Put Grace in the group from her page.
	b.openUser("Grace Hopper")
	staff := `//form[@data-testid="user-groups-form"]//label[normalize-space()="Staff"]/input`
	if b.checked(staff) {
		t.Fatal("Grace is in Staff before anyone put her there")
	}
	b.do("tick the Staff group", chromedp.Click(chromedp.Search(staff)))
	b.submit("user-groups-form")
	b.wantPage("/users/*", "Grace Hopper")
	b.wantText("flash", "Changes saved.")
	if !b.checked(staff) {
		t.Error("after Save groups, the Staff box on Grace's page is not ticked")
	}

	// Access points.
	b.nav("access-points")
	b.wantPage("/access-points", "Access points")
	b.wantText("empty", "No access points yet.")
	b.clickTo(testid("new-access-point"))
	b.wantPage("/access-points/new", "New access point")
	b.fill("access-point-form", "name", "Front door")
	b.fill("access-point-form", "reader", "sim:front")
	b.choose("access-point-form", "mode", "Touch the reader")
	b.submit("access-point-form")
	b.wantPage("/access-points/*", "Front door")
	b.wantText("flash", "Saved.")
	b.nav("access-points")
	b.wantRows("access-point-row", "Front door sim:front touch -75 dBm no normal")

	// Time profiles.
	b.nav("time-profiles")
	b.wantPage("/time-profiles", "Time profiles")
	b.clickTo(testid("new-time-profile"))
	b.wantPage("/time-profiles/new", "New time profile")
	b.fill("time-profile-form", "name", "Office hours")
	b.fill("time-profile-form", "windows", "Mon-Fri 08:00-18:00")
	b.submit("time-profile-form")
	b.wantPage("/time-profiles/*", "Office hours")
	b.wantText("flash", "Saved.")
	b.nav("time-profiles")
	b.wantRows("time-profile-row", "Office hours Mon-Fri 08:00-18:00 0")

	// A permission for the group, from the permissions page.
	b.nav("permissions")
	b.wantPage("/permissions", "Permissions")
	b.wantText("no-permissions", "No permissions yet.")
	b.choose("permission-form", "group_id", "Staff")
	b.choose("permission-form", "access_point_id", "Front door")
	b.choose("permission-form", "time_profile_id", "Office hours")
	b.submit("permission-form")
	b.wantPage("/permissions", "Permissions")
	b.wantText("flash", "Saved.")
	b.wantRows("permission-row", "Group Staff Front door Office hours Remove")

	// And one for Grace herself, from her page.
	b.openUser("Grace Hopper")
	b.wantText("no-permissions", "No permissions yet.")
	b.choose("permission-form", "access_point_id", "Front door")
	b.submit("permission-form")
	b.wantPage("/users/*", "Grace Hopper")
	b.wantText("flash", "Saved.")
	b.wantRows("permission-row", "Grace Hopper Front door Any time Remove")

	// A Smart credential: assigned in the browser, the invitation read from
	// the SMTP server, the key registered with it once.
	b.submit("assign-form")
	b.wantPage("/users/*", "Grace Hopper")
	b.wantText("flash", "Smart credential assigned; the invitation is in the outbox.")
	b.wantText("credential-status", "invited: waiting for the device to register")
	invite, err := smtpd.Wait(ctx, mailtest.To("grace@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`http://\S+/key/register\?code=\d{32}`).FindString(invite.Text)
	if link == "" {
		t.Fatalf("no registration link in the invitation:\n%s", invite.Text)
	}
	key := registerKey(ctx, t, link)
	if _, err := registerKeyErr(ctx, link); err == nil || !strings.Contains(err.Error(), "already been used") {
		t.Errorf("registering the same code again: got %v, want a registration error", err)
	}
	b.openUser("Grace Hopper")
	b.wantText("credential-status", "active")

	// The dashboard shows a presentation as it happens, over SSE.
	air := ble.NewAir(ble.AirOptions{Logger: logger})
	airLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go air.Serve(airLn)
	t.Cleanup(func() { air.Close() })
	aps, err := st.AllAccessPoints(ctx)
	if err != nil || len(aps) != 1 {
		t.Fatalf("access points: %v %v", aps, err)
	}
	mgr := ble.NewManager(ble.ManagerOptions{
		Radios:    map[string]ble.Radio{ble.RadioSim: air.Radio()},
		Exchanger: ble.NewSiteExchange(st, ble.LogDoor{Logger: logger}, 0, logger),
		Logger:    logger,
	})
	t.Cleanup(func() { mgr.Close() })
	if err := mgr.Sync([]ble.ReaderConfig{{ID: aps[0].ID, Name: aps[0].Name, Binding: aps[0].Reader, Mode: aps[0].Mode, RSSIThreshold: aps[0].RSSIThreshold}}); err != nil {
		t.Fatal(err)
	}
	if err := air.WaitReader(ctx, "front"); err != nil {
		t.Fatal(err)
	}
	readers.Store(mgr)

	// Calibrating the front door at the door: with no phone near, the page
	// says so; with one presenting where a phone should open the door, the
	// offset is set so that spot reads as the threshold (-75 dBm, touch).
	b.open("/access-points/" + strconv.FormatInt(aps[0].ID, 10))
	b.wantPage("/access-points/*", "Front door")
	b.submit("calibrate-form")
	b.wantPage("/access-points/*/calibrate", "Front door")
	if got := b.texts("error-calibrate"); len(got) != 1 || !strings.Contains(got[0], "no phone heard") {
		t.Errorf("calibrating with no phone near: got %q, want the reader to say it heard none", got)
	}
	// The refusal is a 409, which the browser logs; nothing else may be.
	if errs := b.console.take(); len(errs) != 1 || !strings.Contains(errs[0], "409") {
		t.Errorf("the refused calibration logged %q, want its 409 only", errs)
	}
	installer, err := ble.DialAir(ctx, airLn.Addr().String(), ble.Presence{Reader: "front", RSSI: -63, Discovery: ble.DiscoverAdvertise})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := mgr.Reader(aps[0].ID).Calibrate(); err == nil {
			break // the reader has heard the phone well enough
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.submit("calibrate-form")
	b.wantPage("/access-points/*", "Front door")
	b.wantText("flash", "Calibrated: where the phone stood now reads as the threshold.")
	if got := b.eval(`document.querySelector('[data-testid="access-point-form"] [name="rssi_offset"]').value`); got != "-12" {
		t.Errorf("the offset field after calibrating reads %q, want -12 (the -75 dBm threshold less the phone's -63)", got)
	}
	installer.Close()
	b.nav("dashboard")
	b.wantPage("/", "Dashboard")
	b.wantText("ap-last-"+strconv.FormatInt(aps[0].ID, 10), "no presentations yet")
	b.poll("the live event stream to connect", `document.querySelector('[data-testid="live"]') !== null`)
	presence, err := ble.DialAir(ctx, airLn.Addr().String(), ble.Presence{Reader: "front", RSSI: -50, Touch: true, Discovery: ble.DiscoverAdvertise})
	if err != nil {
		t.Fatal(err)
	}
	link2, err := presence.Link(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ble.PresentKey(ctx, link2, key, false)
	presence.Close()
	if err != nil || !out.Result.Granted {
		t.Fatalf("presenting at the front door: %+v %v", out, err)
	}
	b.poll("the granted row to appear without a reload", `document.querySelector('[data-testid="event-row"][data-kind="access.granted"]') !== null`)
	b.poll("the front door's last result to turn granted", `(document.querySelector('[data-testid="last-result"]')?.innerText ?? "") === "Granted"`)

	// Sign out: the pages are closed to the browser until it signs in again.
	b.clickTo(testid("logout"))
	b.wantPage("/login", "Sign in")
	b.wantText("flash", "You are signed out.")
	b.open("/users")
	b.wantPage("/login", "Sign in")
	if got := b.location(); got != "/login?next=%2Fusers" {
		t.Errorf("signed out, /users went to %q, want /login?next=%%2Fusers", got)
	}
	b.fill("login-form", "email", adminEmail)
	b.fill("login-form", "password", adminPassword)
	b.submit("login-form")
	b.wantPage("/users", "Users")
	// By last name; Grace's last use is her presentation at the front door.
	if rows := b.texts("user-row"); len(rows) != 2 || !strings.HasPrefix(rows[0], "Grace Hopper grace@example.com enabled 2") || rows[1] != "Alan Turing alan@example.com enabled never" {
		t.Errorf("users after signing in again: %q", rows)
	}
	b.nav("permissions")
	b.wantRows("permission-row",
		"Group Staff Front door Office hours Remove",
		"Grace Hopper Front door Any time Remove")
	b.nav("groups")
	b.wantRows("group-row", "Staff 1 Everyone on the payroll")
	b.nav("dashboard")
	b.wantText("user-count", "2")
	b.wantText("access-point-count", "1")

	// On a phone: nothing may stick out sideways.
	shots := os.Getenv("POSTERN_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	b.do("emulate a phone", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateMobile))
	for _, p := range []struct{ name, url string }{
		{"users", "/users"},
		{"dashboard", "/"},
		{"user", ""}, // Grace's page, opened by clicking
		{"groups", "/groups"},
		{"access-points", "/access-points"},
		{"access-point-new", "/access-points/new"},
		{"time-profiles", "/time-profiles"},
		{"permissions", "/permissions"},
		{"events", "/events"},
	} {
		if p.url == "" {
			b.openUser("Grace Hopper")
		} else {
			b.open(p.url)
		}
		b.wantFits(p.name)
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot of %s: %v", p.name, err)
		}
		file := filepath.Join(shots, "phone-"+p.name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("phone-sized screenshot of the %s page: %s", p.name, file)
	}

	if errs := b.console.take(); len(errs) > 0 {
		t.Errorf("the pages logged %d JavaScript or console errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// findChromium returns the path of a Chromium or Chrome binary, or skips
// the test (fails it when POSTERN_REQUIRE_BROWSER is set) when there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("POSTERN_REQUIRE_BROWSER") != "" {
		t.Fatal("no Chromium found (looked for chromium, chromium-browser and google-chrome on PATH) and POSTERN_REQUIRE_BROWSER is set: install Debian's chromium (apt-get install chromium)")
	}
	t.Skip("no Chromium found: install Debian's chromium (apt-get install chromium) or set POSTERN_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func testid(id string) string { return `[data-testid="` + id + `"]` }

// browser is one tab of a headless Chromium on the app at base.
type browser struct {
	t       *testing.T
	ctx     context.Context
	base    string
	console *consoleLog
}

func startBrowser(ctx context.Context, t *testing.T, chrome, base string) *browser {
	t.Helper()
	// Chromium now and then dies while starting on a loaded machine (a
	// crash report, no page): that says nothing about the app, so a start
	// is tried three times, each with a fresh profile.
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var b *browser
		if b, err = launchBrowser(ctx, t, chrome, base); err == nil {
			return b
		}
		t.Logf("starting %s, attempt %d: %v", chrome, attempt, err)
	}
	t.Fatalf("starting %s: %v", chrome, err)
	return nil
}

func launchBrowser(ctx context.Context, t *testing.T, chrome, base string) (*browser, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true), // the app is on loopback
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	console := &consoleLog{}
	tctx, cancelTab := chromedp.NewContext(actx, chromedp.WithListener(console.listen))
	if err := chromedp.Do(tctx); err != nil {
		cancelTab()
		cancelAlloc()
		return nil, err
	}
	// Registered after the user data folder's, so the browser has exited
	// before that folder is removed.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	return &browser{t: t, ctx: tctx, base: base, console: console}, nil
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s (on %s): %v", what, b.location(), err)
	}
}

// open goes to a path as if typed in the address bar.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// clickTo clicks the element and waits for the page that the click loads.
func (b *browser) clickTo(css string) {
	b.t.Helper()
	b.follow("click "+css, chromedp.Click(chromedp.CSS(css)))
}

func (b *browser) follow(what string, click chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, click)); err != nil {
		b.t.Fatalf("%s (on %s): %v", what, b.location(), err)
	}
}

// nav clicks a section in the page header, opening the menu first where
// it is a button (on a phone).
func (b *browser) nav(section string) {
	b.t.Helper()
	closed := `(() => { const m = document.querySelector('[data-testid="menu"]'); const s = document.querySelector('[data-testid="menu-button"]');
		return String(!!m && !m.open && !!s && s.getClientRects().length > 0) })()`
	if b.eval(closed) == "true" {
		b.do("open the menu", chromedp.Click(chromedp.CSS(testid("menu-button"))))
	}
	b.clickTo(testid("nav-" + section))
}

// openUser goes to Users and clicks the user's name.
func (b *browser) openUser(name string) {
	b.t.Helper()
	b.nav("users")
	link := fmt.Sprintf(`//tr[@data-testid="user-row"]//a[normalize-space()=%q]`, name)
	b.follow("open "+name, chromedp.Click(chromedp.Search(link)))
	b.wantPage("/users/*", name)
}

func field(form, name string) string {
	return testid(form) + ` [name="` + name + `"]`
}

// fill types value into a form's field, replacing what it held.
func (b *browser) fill(form, name, value string) {
	b.t.Helper()
	sel := chromedp.CSS(field(form, name))
	b.do("fill "+form+" "+name, chromedp.Clear(sel), chromedp.SendKeys(sel, value))
}

// choose picks an option of a select by typing its label, as a keyboard
// user does.
func (b *browser) choose(form, name, label string) {
	b.t.Helper()
	b.do("choose "+label+" in "+form+" "+name, chromedp.SendKeys(chromedp.CSS(field(form, name)), label))
	js := fmt.Sprintf(`(() => { const s = document.querySelector(%q); return s.options[s.selectedIndex].text })()`, field(form, name))
	if got := b.eval(js); got != label {
		b.t.Fatalf("typing %q in %s %s selected %q", label, form, name, got)
	}
}

// submit clicks a form's first submit button and waits for the answer
// page. A button inside it that belongs to another form (form="…") is not
// its own.
func (b *browser) submit(form string) {
	b.t.Helper()
	b.clickTo(testid(form) + ` button[type="submit"]:not([form])`)
}

func (b *browser) checked(xpath string) bool {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[bool](chromedp.Search(xpath), "checked"))
	if err != nil {
		b.t.Fatalf("reading %s: %v", xpath, err)
	}
	return v
}

// run evaluates JavaScript for its effect.
func (b *browser) run(js string) {
	b.t.Helper()
	b.do("run "+js, chromedp.Evaluate[chromedp.Void](js))
}

// eval evaluates a JavaScript expression whose value is a string.
func (b *browser) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[*string](js))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", js, err)
	}
	if v == nil {
		return ""
	}
	return *v
}

// poll waits until the JavaScript condition holds; the test's context is
// the only limit.
func (b *browser) poll(what, cond string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(0))); err != nil {
		b.t.Fatalf("waiting for %s (on %s): %v", what, b.location(), err)
	}
}

// location is the path and query of the page shown.
func (b *browser) location() string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil {
		return "an unknown page (" + err.Error() + ")"
	}
	return v
}

// texts is the visible text of each element with the data-testid, with
// runs of white space made one space.
func (b *browser) texts(id string) []string {
	b.t.Helper()
	js := fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.innerText)`, testid(id))
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		b.t.Fatalf("reading %s: %v", testid(id), err)
	}
	for i := range v {
		v[i] = strings.Join(strings.Fields(v[i]), " ")
	}
	return v
}

func (b *browser) wantText(id, want string) {
	b.t.Helper()
	got := b.texts(id)
	if len(got) == 0 {
		b.t.Fatalf("on %s: no %s, want one reading %q", b.location(), testid(id), want)
	}
	if got[0] != want {
		b.t.Errorf("on %s: %s reads %q, want %q", b.location(), testid(id), got[0], want)
	}
}

func (b *browser) wantRows(id string, want ...string) {
	b.t.Helper()
	if got := b.texts(id); !slices.Equal(got, want) {
		b.t.Errorf("on %s: rows %s\ngot  %q\nwant %q", b.location(), testid(id), got, want)
	}
}

// wantPage checks the page's path against a path.Match pattern and its
// first heading. A wrong page stops the test: the next steps would only
// fail in confusing ways.
func (b *browser) wantPage(pattern, h1 string) {
	b.t.Helper()
	loc := b.location()
	p, _, _ := strings.Cut(loc, "?")
	if ok, _ := path.Match(pattern, p); !ok {
		b.t.Fatalf("on %s (%q), want %s; the page says: %s", loc, b.eval(`document.querySelector("h1")?.innerText ?? ""`), pattern,
			b.eval(`document.querySelector("main")?.innerText ?? document.body.innerText`))
	}
	if got := b.eval(`document.querySelector("h1")?.innerText ?? ""`); got != h1 {
		b.t.Fatalf("on %s the heading is %q, want %q", loc, got, h1)
	}
}

// phoneWidth is the viewport width of a common phone, in CSS pixels.
const phoneWidth = 390

// wantFits checks that the page is no wider than the phone's viewport.
// A mobile browser widens its window to content that sticks out (and shows
// it zoomed out), so the window is compared with the phone's width too.
func (b *browser) wantFits(name string) {
	b.t.Helper()
	js := `[document.documentElement.scrollWidth, window.innerWidth]`
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]int](js))
	if err != nil || len(v) != 2 {
		b.t.Fatalf("measuring %s: %v %v", name, v, err)
	}
	if scroll, inner := v[0], v[1]; scroll > inner || inner > phoneWidth {
		b.t.Errorf("on a %dpx-wide phone, the %s page (%s) is %dpx wide (window.innerWidth %d): it shows zoomed out or scrolls sideways",
			phoneWidth, name, b.location(), scroll, inner)
	}
}

// probeConsole shows that a JavaScript error on the page reaches the
// console log, so that an empty log at the end means something.
func (b *browser) probeConsole() {
	b.t.Helper()
	const probe = "postern-console-probe"
	b.run(`setTimeout(() => { throw new Error("` + probe + `") })`)
	for !b.console.has(probe) {
		select {
		case <-b.ctx.Done():
			b.t.Fatal("an error thrown on the page never reached the console listener")
		case <-time.After(10 * time.Millisecond):
		}
	}
	b.console.take()
}

// consoleLog collects what the pages report as errors: uncaught
// exceptions, console.error calls and the browser's own error entries,
// such as a script refused by the Content-Security-Policy.
type consoleLog struct {
	mu   sync.Mutex
	errs []string
	// also, when set, sees every event too (the Bluetooth stand-in's
	// binding calls).
	also func(ev any)
}

// listen runs in the tab's event loop: it must be quick.
func (c *consoleLog) listen(ev any) {
	c.mu.Lock()
	also := c.also
	c.mu.Unlock()
	if also != nil {
		also(ev)
	}
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "uncaught " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += ": " + d.Exception.Description
		}
		msg += " at " + d.URL + ":" + strconv.FormatInt(d.LineNumber+1, 10)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, string(a.Value))
			}
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError {
			return
		}
		// Browsers ask for /favicon.ico on their own; the app has none yet.
		if strings.HasSuffix(ev.Entry.URL, "/favicon.ico") {
			return
		}
		msg = string(ev.Entry.Source) + ": " + ev.Entry.Text + " " + ev.Entry.URL
	default:
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, msg)
}

func (c *consoleLog) has(substr string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.errs, func(s string) bool { return strings.Contains(s, substr) })
}

// take returns what was collected and empties the log.
func (c *consoleLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := c.errs
	c.errs = nil
	return errs
}

// registerKeyErr registers a fresh soft key with an invitation link, as the
// key app does: the site and the code come from the link, and the keys go to
// POST /api/key/v1/register. A refusal is an error with the site's message.
func registerKeyErr(ctx context.Context, link string) (ble.KeyCredential, error) {
	var key ble.KeyCredential
	u, err := url.Parse(link)
	if err != nil {
		return key, err
	}
	site := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/key/register")
	code := u.Query().Get("code")
	keys, err := softkey.NewKeys()
	if err != nil {
		return key, err
	}
	tapPub, _ := keys.Tap.PublicKey.Bytes()
	uvPub, _ := keys.UV.PublicKey.Bytes()
	tapSig, uvSig, err := protocol.SignRegistration(code, keys.Tap, keys.UV)
	if err != nil {
		return key, err
	}
	body, err := json.Marshal(web.KeyRegisterRequest{Code: code, TapKey: tapPub, UVKey: uvPub, TapSig: tapSig, UVSig: uvSig, Device: "browser test"})
	if err != nil {
		return key, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, site+"/api/key/v1/register", bytes.NewReader(body))
	if err != nil {
		return key, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return key, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var ke web.KeyError
		if err := json.NewDecoder(res.Body).Decode(&ke); err != nil {
			return key, fmt.Errorf("register: HTTP %d", res.StatusCode)
		}
		return key, fmt.Errorf("register: %s: %s", ke.Error, ke.Message)
	}
	var resp web.KeyRegisterResponse
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		return key, err
	}
	id, err := access.ParseCredentialID(resp.CredentialID)
	if err != nil {
		return key, err
	}
	sitePub, err := protocol.ParsePublicKey(resp.Site.PublicKey)
	if err != nil {
		return key, err
	}
	siteID, err := hex.DecodeString(resp.Site.ID)
	if err != nil || len(siteID) != 16 {
		return key, fmt.Errorf("site id %q", resp.Site.ID)
	}
	key = ble.KeyCredential{ID: protocol.CredentialID(id), Tap: keys.Tap, Sites: map[protocol.SiteID]*ecdsa.PublicKey{protocol.SiteID(siteID): sitePub}, Strict: true}
	return key, nil
}

func registerKey(ctx context.Context, t *testing.T, link string) ble.KeyCredential {
	t.Helper()
	key, err := registerKeyErr(ctx, link)
	if err != nil {
		t.Fatalf("registering with %s: %v", link, err)
	}
	return key
}
