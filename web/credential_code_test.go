package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// codeViewPath is where a POST that made a code sends the browser.
var codeViewPath = regexp.MustCompile(`^/users/\d+/codes/[A-Z2-7]{26}$`)

// followCode follows the redirect of a POST that made a code to the code's
// one view and returns that page; it checks the view cannot be seen twice.
func (env *env) followCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !codeViewPath.MatchString(loc) {
		t.Fatalf("got status %d to %q, want 303 to the code's one view\n%s", w.Code, loc, w.Body)
	}
	first := env.get(loc)
	if first.Code != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200\n%s", loc, first.Code, first.Body)
	}
	if got := first.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("the code's page has Cache-Control %q, want no-store", got)
	}
	again := env.get(loc)
	if again.Code != http.StatusGone || codeRun.MatchString(again.Body.String()) {
		t.Errorf("GET %s again: got status %d, want 410 without the code\n%s", loc, again.Code, again.Body)
	}
	return first.Body.String()
}

// counts is what a reload must not change: credentials and emails.
func (env *env) counts(t *testing.T, userID int64) (creds, mails int) {
	t.Helper()
	cs, err := env.s.UserCredentials(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return len(cs), len(env.smartOutbox(t).Outbox)
}

// A code is shown after a redirect, once: reloading it makes no second
// credential and sends no second email, and shows the code no more.
func TestCodeShownOnceAfterRedirect(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, withSmartURL)
	uid := env.smartUser(t, "Eve", "eve@example.com")
	userPage := "/users/" + itoa(uid)

	w := env.post(userPage+"/credentials", url.Values{"show_code": {"1"}})
	view := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !codeViewPath.MatchString(view) {
		t.Fatalf("assign: got status %d to %q, want 303 to the code's view", w.Code, view)
	}
	if codeRun.MatchString(w.Body.String()) || strings.Contains(view, "code=") {
		t.Fatal("the POST's answer carries the code")
	}
	creds, mails := env.counts(t, uid)
	if creds != 1 || mails != 1 {
		t.Fatalf("after one assign: %d credentials and %d emails, want 1 and 1", creds, mails)
	}

	// Not for another session, nor under another user's address; neither
	// uses the view up.
	other := *env
	other.login(t)
	if got := other.get(view); got.Code != http.StatusGone {
		t.Errorf("another session: got status %d, want 410", got.Code)
	}
	if got := env.get(strings.Replace(view, userPage, "/users/"+itoa(env.smartUser(t, "Mal", "")), 1)); got.Code != http.StatusGone {
		t.Errorf("another user's address: got status %d, want 410", got.Code)
	}

	page := env.get(view)
	if page.Code != http.StatusOK {
		t.Fatalf("the view: got status %d, want 200", page.Code)
	}
	code := shownCode(t, page.Body.String())
	env.runPages(t, []scenario{
		{name: "reload", method: "GET", url: view, wantStatus: http.StatusGone,
			wantTestIDs: map[string]string{"code-gone": "shown only once", "back-to-user": "Back to Eve Tester"}, wantNotContains: []string{code}},
	})
	if c, m := env.counts(t, uid); c != creds || m != mails {
		t.Errorf("after reloading: %d credentials and %d emails, want %d and %d", c, m, creds, mails)
	}

	// Left unseen, a code is forgotten after a while.
	w = env.post(userPage+"/credentials", url.Values{"show_code": {"1"}})
	env.clock.Add(11 * time.Minute)
	if got := env.get(w.Header().Get("Location")); got.Code != http.StatusGone {
		t.Errorf("after 11 minutes: got status %d, want 410", got.Code)
	}
}

// Printing means not emailing: a code to print sends nothing, and a user
// without an email address can have one.
func TestCodeToPrintSendsNoEmail(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, withSmartURL)
	fay := env.smartUser(t, "Fay", "")
	eve := env.smartUser(t, "Eve", "eve@example.com")
	toPrint := url.Values{"delivery": {"print"}}

	body := env.followCode(t, env.post("/users/"+itoa(fay)+"/credentials", toPrint))
	code := shownCode(t, body)
	doc := parse(t, body)
	if got := byTestID(doc, "code-delivery").Text(); !strings.Contains(got, "Nothing was emailed") {
		t.Errorf("the page says %q, want that nothing was emailed", got)
	}
	if byTestID(doc, "registration-qr").AttrOr("src", "") == "" || byTestID(doc, "print").Length() != 1 {
		t.Error("the page to print has no QR code or no Print button")
	}
	if n := len(env.smartOutbox(t).Outbox); n != 0 {
		t.Errorf("a code to print queued %d emails, want 0", n)
	}
	env.mustRegister(t, newSmartDevice(t), code)

	// Eve has an address: her invitation is emailed, and a new code to
	// print cancels it and sends nothing.
	if w := env.post("/users/"+itoa(eve)+"/credentials", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("assign: got status %d", w.Code)
	}
	creds, _ := env.s.UserCredentials(t.Context(), eve)
	invited := creds[0].ID.String()
	for _, action := range []string{"resend", "reissue"} {
		env.followCode(t, env.post("/credentials/"+invited+"/"+action, toPrint))
	}
	if got := env.smartOutbox(t).statuses(invited); strings.Join(got, ",") != "cancelled" {
		t.Errorf("after two codes to print, the invitations are %v, want the first, cancelled", got)
	}
	events := env.events(t)
	if e := events[0]; !strings.Contains(e.Detail, "no email") {
		t.Errorf("the newest event reads %s %q, want it to say no email was sent", e.Kind, e.Detail)
	}

	// The API: "delivery": "print" returns the code and emails nothing.
	before := len(env.smartOutbox(t).Outbox)
	m := env.mustAPI(t, http.MethodPost, "/api/v1/users/"+itoa(fay)+"/credentials", `{"delivery":"print"}`, http.StatusCreated)
	if c, _ := m["code"].(string); !isCode(c) {
		t.Errorf("the API's code to print: got %v, want 32 digits", m["code"])
	}
	m = env.mustAPI(t, http.MethodPost, "/api/v1/credentials/"+invited+"/reissue", `{"delivery":"print"}`, http.StatusOK)
	if c, _ := m["code"].(string); !isCode(c) {
		t.Errorf("the API's reissue to print: got %v, want 32 digits", m["code"])
	}
	if after := len(env.smartOutbox(t).Outbox); after != before {
		t.Errorf("the API's codes to print queued %d emails, want none", after-before)
	}
	env.runAPI(t, []scenario{
		{name: "unknown delivery", method: "POST", url: "/api/v1/users/" + itoa(fay) + "/credentials", body: `{"delivery":"fax"}`,
			wantStatus: http.StatusUnprocessableEntity, wantContains: []string{`"delivery":"must be email or print"`}},
	})
}
