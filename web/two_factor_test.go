package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"postern/access"
)

// cookieBrowser keeps every cookie the appliance sets, as a browser does,
// and sends forms from the appliance's own pages.
type cookieBrowser struct {
	t       *testing.T
	env     *env
	cookies map[string]*http.Cookie
}

func newCookieBrowser(t *testing.T, on *env) *cookieBrowser {
	return &cookieBrowser{t: t, env: on, cookies: map[string]*http.Cookie{}}
}

func (b *cookieBrowser) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", origin)
	}
	for _, c := range b.cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	w := b.env.serve(r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return w
}

// submit opens the page at from and sends its form with the page's own
// _csrf token and fields.
func (b *cookieBrowser) submit(from, to string, fields url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	page := b.do(http.MethodGet, from, nil)
	if page.Code != http.StatusOK {
		b.t.Fatalf("GET %s: got %d, want 200\n%s", from, page.Code, page.Body)
	}
	form := url.Values{"_csrf": {fieldValue(b.t, page.Body.String(), "_csrf")}}
	for k, v := range fields {
		form[k] = v
	}
	return b.do(http.MethodPost, to, form)
}

// signIn sends the password form and returns where it sent the browser.
func (b *cookieBrowser) signIn(email, password string) string {
	b.t.Helper()
	w := b.submit("/login", "/login", url.Values{"email": {email}, "password": {password}})
	if w.Code != http.StatusSeeOther {
		b.t.Fatalf("sign in: got %d, want 303\n%s", w.Code, w.Body)
	}
	return w.Header().Get("Location")
}

func (b *cookieBrowser) signOut() {
	b.t.Helper()
	if w := b.submit("/", "/logout", nil); w.Code != http.StatusSeeOther {
		b.t.Fatalf("sign out: got %d", w.Code)
	}
}

func (b *cookieBrowser) signedIn() bool {
	return b.do(http.MethodGet, "/", nil).Code == http.StatusOK
}

// setupSecret reads the secret a setup page shows, and checks that its
// otpauth URI carries the same one.
func setupSecret(t *testing.T, body string) string {
	t.Helper()
	doc := parse(t, body)
	secret := strings.ReplaceAll(byTestID(doc, "totp-secret").Text(), " ", "")
	key, err := otp.NewKeyFromURL(byTestID(doc, "totp-uri").AttrOr("href", ""))
	if err != nil || secret == "" || key.Secret() != secret {
		t.Fatalf("setup page: secret %q, URI %v (%v)\n%s", secret, key, err, body)
	}
	if byTestID(doc, "totp-qr").Length() != 1 {
		t.Errorf("setup page has no QR code")
	}
	return secret
}

func (env *env) totpCode(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, env.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// recoveryCodes reads the codes a page shows once.
func recoveryCodes(t *testing.T, w *httptest.ResponseRecorder) []string {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("recovery codes: got %d, want 200\n%s", w.Code, w.Body)
	}
	var codes []string
	for _, s := range byTestID(parse(t, w.Body.String()), "recovery-code").EachIter() {
		codes = append(codes, s.Text())
	}
	if len(codes) != 10 {
		t.Fatalf("got %d recovery codes, want 10", len(codes))
	}
	return codes
}

// TestInvitedAdminSignsInWithTwoFactor: an invited admin chooses a
// password from the emailed link (through a real SMTP server), turns on
// two-factor from their account page, and from then on signs in with the
// password and a code from their app, or a recovery code, once.
func TestInvitedAdminSignsInWithTwoFactor(t *testing.T) {
	srv := startSMTP(t)
	m := newMailEnv(t, srv.URL())
	env := m.env
	if w := env.post("/settings/admins/invite", url.Values{"email": {"ada@example.com"}, "role": {"admin"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("invite: got %d\n%s", w.Code, w.Body)
	}
	path := adminLinkPath.FindString(waitMail(t, srv, "ada@example.com").Text)
	if path == "" {
		t.Fatal("no link in the invitation")
	}
	const password = "ada's long password"
	ada := newCookieBrowser(t, env)
	if w := ada.submit(path, path, url.Values{"password": {password}, "confirm": {password}}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("set password: got %d to %q", w.Code, w.Header().Get("Location"))
	}

	// Set up from the account page: a wrong code does not turn it on.
	if w := ada.submit("/settings/admins", "/settings/two-factor/start", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("start two-factor: got %d\n%s", w.Code, w.Body)
	}
	page := ada.do(http.MethodGet, "/settings/admins", nil)
	secret := setupSecret(t, page.Body.String())
	if w := ada.submit("/settings/admins", "/settings/two-factor", url.Values{"code": {"000000"}}); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("a wrong code: got %d, want 422", w.Code)
	}
	codes := recoveryCodes(t, ada.submit("/settings/admins", "/settings/two-factor", url.Values{"code": {env.totpCode(t, secret)}}))
	if got := byTestID(parse(t, ada.do(http.MethodGet, "/settings/admins", nil).Body.String()), "recovery-left").Text(); got != "10" {
		t.Errorf("recovery codes left: got %q, want 10", got)
	}
	ada.signOut()

	// The password alone no longer signs in: it asks for the code.
	env.clock.Add(totpStepLength)
	if to := ada.signIn("ada@example.com", password); to != "/login/code?next=%2F" {
		t.Fatalf("password: sent to %q, want the code form", to)
	}
	if ada.signedIn() {
		t.Fatal("signed in with the password alone")
	}
	code := env.totpCode(t, secret)
	if w := ada.submit("/login/code", "/login/code", url.Values{"code": {code}}); w.Code != http.StatusSeeOther || !ada.signedIn() {
		t.Fatalf("password and code: got %d, signed in %v\n%s", w.Code, ada.signedIn(), w.Body)
	}
	ada.signOut()

	// The same code again, within its 30 seconds, is refused: it was seen.
	ada.signIn("ada@example.com", password)
	if w := ada.submit("/login/code", "/login/code", url.Values{"code": {code}}); w.Code != http.StatusUnauthorized || ada.signedIn() {
		t.Errorf("a code used already: got %d, signed in %v", w.Code, ada.signedIn())
	}
	// A recovery code signs in once, however it is typed.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	if w := ada.submit("/login/code", "/login/code", url.Values{"code": {typed}}); w.Code != http.StatusSeeOther || !ada.signedIn() {
		t.Fatalf("a recovery code: got %d\n%s", w.Code, w.Body)
	}
	ada.signOut()
	ada.signIn("ada@example.com", password)
	if w := ada.submit("/login/code", "/login/code", url.Values{"code": {codes[3]}}); w.Code != http.StatusUnauthorized || ada.signedIn() {
		t.Errorf("a recovery code used already: got %d, signed in %v", w.Code, ada.signedIn())
	}
	if w := ada.submit("/login/code", "/login/code", url.Values{"code": {codes[4]}}); w.Code != http.StatusSeeOther || !ada.signedIn() {
		t.Errorf("another recovery code: got %d", w.Code)
	}

	kinds := map[string]int{}
	for _, e := range env.events(t) {
		kinds[e.Kind]++
	}
	if kinds["admin.two_factor_enrolled"] != 1 || kinds["admin.recovery_code_used"] != 2 {
		t.Errorf("events: got %v, want one enrolment and two recovery codes used", kinds)
	}
}

// totpStepLength moves the clock to the next code.
const totpStepLength = 30 * time.Second

// TestRequiredTwoFactorIsSetUpAtSignIn: once the owner requires two-factor
// of a role, an admin of it without one sets it up right after the
// password, before any session, and cannot turn it off.
func TestRequiredTwoFactorIsSetUpAtSignIn(t *testing.T) {
	env := newLoggedInEnv(t)
	if _, err := env.s.CreateAdminAs(t.Context(), "test", "rita@example.com", adminHash(), access.RoleReception); err != nil {
		t.Fatal(err)
	}
	if w := env.post("/settings/two-factor/roles", url.Values{"require": {"reception"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("require two-factor: got %d\n%s", w.Code, w.Body)
	}
	rita := newCookieBrowser(t, env)
	if to := rita.signIn("rita@example.com", adminPassword); to != "/login/enrol?next=%2F" {
		t.Fatalf("password: sent to %q, want to set up two-factor", to)
	}
	if rita.signedIn() {
		t.Fatal("signed in before setting up two-factor")
	}
	page := rita.do(http.MethodGet, "/login/enrol", nil)
	secret := setupSecret(t, page.Body.String())
	// A reload shows the same secret, so an app that scanned it still works.
	if again := setupSecret(t, rita.do(http.MethodGet, "/login/enrol", nil).Body.String()); again != secret {
		t.Errorf("reload: got secret %s, want %s", again, secret)
	}
	if w := rita.submit("/login/enrol", "/login/enrol", url.Values{"code": {"123456"}}); w.Code != http.StatusUnprocessableEntity || rita.signedIn() {
		t.Errorf("a wrong code: got %d, signed in %v", w.Code, rita.signedIn())
	}
	recoveryCodes(t, rita.submit("/login/enrol", "/login/enrol", url.Values{"code": {env.totpCode(t, secret)}}))
	if !rita.signedIn() {
		t.Fatal("not signed in after setting up two-factor")
	}
	w := rita.submit("/settings/admins", "/settings/two-factor/disable", url.Values{"password": {adminPassword}})
	if w.Code != http.StatusConflict {
		t.Errorf("turn off a required two-factor: got %d, want 409", w.Code)
	}
	// An owner, not required, is let in with the password alone.
	if to := newCookieBrowser(t, env).signIn(adminEmail, adminPassword); to != "/" {
		t.Errorf("owner: sent to %q, want signed in", to)
	}
}

// TestTwoFactorCodeAttemptsLimited: whoever has the password gets five
// codes, then waits, however right the next code is; a wrong code is
// logged as a failed sign-in.
func TestTwoFactorCodeAttemptsLimited(t *testing.T) {
	env := newLoggedInEnv(t)
	owner := newCookieBrowser(t, env)
	owner.signIn(adminEmail, adminPassword)
	owner.submit("/settings/admins", "/settings/two-factor/start", nil)
	secret := setupSecret(t, owner.do(http.MethodGet, "/settings/admins", nil).Body.String())
	recoveryCodes(t, owner.submit("/settings/admins", "/settings/two-factor", url.Values{"code": {env.totpCode(t, secret)}}))
	env.clock.Add(totpStepLength)

	thief := newCookieBrowser(t, env)
	thief.signIn(adminEmail, adminPassword)
	for i := range 5 {
		if w := thief.submit("/login/code", "/login/code", url.Values{"code": {"00000" + itoa(int64(i))}}); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: got %d, want 401", i, w.Code)
		}
	}
	w := thief.submit("/login/code", "/login/code", url.Values{"code": {env.totpCode(t, secret)}})
	if w.Code != http.StatusTooManyRequests || thief.signedIn() || w.Header().Get("Retry-After") == "" {
		t.Fatalf("sixth code: got %d, signed in %v, want 429 with Retry-After", w.Code, thief.signedIn())
	}
	failed := 0
	for _, e := range env.events(t) {
		if e.Kind == "admin.login_failed" && strings.Contains(e.Detail, "wrong code") {
			failed++
		}
	}
	if failed == 0 {
		t.Error("no failed sign-in logged for the wrong codes")
	}
	// After the wait (which outlasts the sign-in: the password again),
	// the right code works.
	env.clock.Add(5 * time.Minute)
	if to := thief.signIn(adminEmail, adminPassword); to != "/login/code?next=%2F" {
		t.Fatalf("password again: sent to %q", to)
	}
	if w := thief.submit("/login/code", "/login/code", url.Values{"code": {env.totpCode(t, secret)}}); w.Code != http.StatusSeeOther {
		t.Errorf("after the wait: got %d\n%s", w.Code, w.Body)
	}
}

// TestTwoFactorTurnedOff: turning two-factor off takes the password, and
// then the password alone signs in again.
func TestTwoFactorTurnedOff(t *testing.T) {
	env := newLoggedInEnv(t)
	b := newCookieBrowser(t, env)
	b.signIn(adminEmail, adminPassword)
	b.submit("/settings/admins", "/settings/two-factor/start", nil)
	secret := setupSecret(t, b.do(http.MethodGet, "/settings/admins", nil).Body.String())
	recoveryCodes(t, b.submit("/settings/admins", "/settings/two-factor", url.Values{"code": {env.totpCode(t, secret)}}))
	if w := b.submit("/settings/admins", "/settings/two-factor/disable", url.Values{"password": {"not it"}}); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("wrong password: got %d, want 422", w.Code)
	}
	if w := b.submit("/settings/admins", "/settings/two-factor/disable", url.Values{"password": {adminPassword}}); w.Code != http.StatusSeeOther {
		t.Fatalf("turn off: got %d\n%s", w.Code, w.Body)
	}
	if to := newCookieBrowser(t, env).signIn(adminEmail, adminPassword); to != "/" {
		t.Errorf("after turning off: sent to %q, want signed in", to)
	}
}

// TestPasswordResetStillAsksForTheCode: a reset link proves the mailbox,
// not the phone, so an admin with two-factor gives the code after it.
func TestPasswordResetStillAsksForTheCode(t *testing.T) {
	srv := startSMTP(t)
	m := newMailEnv(t, srv.URL())
	env := m.env
	me := newCookieBrowser(t, env)
	me.signIn(adminEmail, adminPassword)
	me.submit("/settings/admins", "/settings/two-factor/start", nil)
	secret := setupSecret(t, me.do(http.MethodGet, "/settings/admins", nil).Body.String())
	recoveryCodes(t, me.submit("/settings/admins", "/settings/two-factor", url.Values{"code": {env.totpCode(t, secret)}}))

	b := newCookieBrowser(t, env)
	if w := b.submit("/login/forgot", "/login/forgot", url.Values{"email": {adminEmail}}); w.Code != http.StatusSeeOther {
		t.Fatalf("forgot: got %d", w.Code)
	}
	path := adminLinkPath.FindString(waitMail(t, srv, adminEmail).Text)
	w := b.submit(path, path, url.Values{"password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
	if to := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(to, "/login/code") || b.signedIn() {
		t.Fatalf("reset: got %d to %q, signed in %v; want the code form first", w.Code, to, b.signedIn())
	}
	env.clock.Add(totpStepLength)
	if w := b.submit("/login/code", "/login/code", url.Values{"code": {env.totpCode(t, secret)}}); w.Code != http.StatusSeeOther || !b.signedIn() {
		t.Errorf("code after the reset: got %d", w.Code)
	}
}
