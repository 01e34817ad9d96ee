package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"postern/access"
)

// TestBrowserReports drives Chromium through the reports: the events
// filtered by date, door and result with the URL to share and the export's
// progress; a CSV of users previewed, run with its live progress bar and
// reloaded mid-run; and the roll call on a phone.
func TestBrowserReports(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // failure guard
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

	front := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","direction":"entry"}`)
	gate := env.create(t, "access-points", `{"name":"Gate","reader":"sim:gate","direction":"exit"}`)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee"}`)
	bob := env.create(t, "users", `{"first_name":"Bob","last_name":"Ray"}`)
	now := env.clock.Now()
	for _, e := range []access.Event{
		{At: now.AddDate(0, 0, -3), Kind: "access.granted", Reason: "long-ago", UserID: ann, AccessPointID: front},
		{At: now.Add(-3 * time.Hour), Kind: "access.granted", UserID: ann, AccessPointID: front},
		{At: now.Add(-3 * time.Hour), Kind: "access.granted", UserID: bob, AccessPointID: front},
		{At: now.Add(-2 * time.Hour), Kind: "access.denied", Reason: "no_permission", UserID: ann, AccessPointID: gate},
		{At: now.Add(-time.Hour), Kind: "access.granted", UserID: bob, AccessPointID: gate},
	} {
		if err := env.s.AppendEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}

	b := startBrowser(ctx, t, chrome, "http://"+ln.Addr().String())
	b.open("/login")
	b.probeConsole()
	b.fill("login-form", "email", adminEmail)
	b.fill("login-form", "password", adminPassword)
	b.submit("login-form")
	b.wantPage("/", "Dashboard")

	// Events: today at the gate, granted or not, then only the denied.
	b.nav("events")
	b.wantPage("/events", "Events")
	today := now.Format(time.DateOnly)
	b.run(fmt.Sprintf(`document.querySelector(%q).value = %q`, field("event-filter", "from"), today))
	b.run(fmt.Sprintf(`document.querySelector(%q).value = %q`, field("event-filter", "to"), today))
	b.choose("event-filter", "access_point", "Gate")
	b.choose("event-filter", "result", "Denied")
	b.clickTo(testid("filter-apply"))
	b.wantPage("/events", "Events")
	loc := b.location()
	for _, p := range []string{"from=" + today, "to=" + today, "access_point=" + itoa(gate), "result=denied"} {
		if !strings.Contains(loc, p) {
			t.Errorf("the filtered page's URL %q lacks %s: it cannot be shared", loc, p)
		}
	}
	if rows := b.texts("event-row"); len(rows) != 1 || !strings.Contains(rows[0], "no permission") {
		t.Errorf("filtered rows: got %q, want the one denial at the gate", rows)
	}
	// The same URL, opened afresh, shows the same view.
	b.open(loc)
	if rows := b.texts("event-row"); len(rows) != 1 {
		t.Errorf("the shared URL shows %d rows, want 1", len(rows))
	}
	b.do("export", chromedp.Click(chromedp.CSS(testid("event-export"))))
	b.poll("the export to finish", `document.querySelector('[data-testid="event-export-progress"]').dataset.done === "true"`)
	b.wantText("event-export-progress", "Exported 1 rows.")

	// Import: 1,500 users, previewed, run, and the page reloaded mid-run.
	var csv strings.Builder
	csv.WriteString("first_name,last_name,email,groups\n")
	for i := range 1500 {
		fmt.Fprintf(&csv, "Person%d,Imported,person%d@example.com,Visitors\n", i, i)
	}
	csv.WriteString("Broken,Line,not-an-email,\n")
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	b.nav("users")
	b.clickTo(testid("import-users"))
	b.wantPage("/users/import", "Import users")
	b.do("choose the file", chromedp.SetUploadFiles(testid("import-file"), []string{file}))
	b.submit("import-form")
	b.wantPage("/users/import/*", "Import users people.csv")
	b.wantText("plan-create", "1500")
	b.wantText("plan-refuse", "1")
	if rows := b.texts("refused-row"); len(rows) != 1 || !strings.Contains(rows[0], "email") {
		t.Errorf("refused rows: got %q, want the line without an email address", rows)
	}
	b.clickTo(testid("import-run"))
	b.wantPage("/users/import/*", "Import users people.csv")
	b.poll("the progress bar to be shown", `!!document.querySelector('[data-testid="import-progress"]')`)
	b.open(b.location()) // a reload, whatever point the run has reached
	b.poll("the run to finish", `document.querySelector('[data-testid="import-progress"]').dataset.status === "done"`)
	b.poll("the summary", `!!document.querySelector('[data-testid="import-summary"]')`)
	b.wantText("import-progress", "1501 of 1501 lines")
	if n, _ := env.s.CountUsers(ctx); n != 1502 {
		t.Errorf("got %d users, want the 2 there were and 1,500 imported once each", n)
	}

	// Roll call on a phone: Ann came in, Bob went out.
	b.do("emulate a phone", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateMobile))
	b.open("/roll-call")
	b.wantPage("/roll-call", "On site now 1")
	b.wantRows("on-site-name", "Ann Lee")
	b.wantFits("roll call")
	b.open("/events?who=ann")
	b.wantFits("events")

	if errs := b.console.take(); len(errs) > 0 {
		t.Errorf("the pages logged %d JavaScript or console errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}
