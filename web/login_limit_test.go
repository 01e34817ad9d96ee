package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// signIn is one browser at one address: its form cookie and token, and the
// device cookie it was given when it signed in.
type signIn struct {
	env    *env
	addr   string
	ck     *http.Cookie
	csrf   string
	device *http.Cookie
}

func (env *env) browserAt(t *testing.T, addr string) *signIn {
	t.Helper()
	ck, csrf := env.preForm(t, "/login")
	return &signIn{env: env, addr: addr, ck: ck, csrf: csrf}
}

// try signs in as email with pw and returns the answer; a success keeps
// the device cookie it set.
func (b *signIn) try(email, pw string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/login", strings.NewReader(loginForm(b.csrf, email, pw, "")))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", origin)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	if strings.Contains(b.addr, ":") {
		r.RemoteAddr = "[" + b.addr + "]:40000"
	} else {
		r.RemoteAddr = b.addr + ":40000"
	}
	r.AddCookie(b.ck)
	if b.device != nil {
		r.AddCookie(b.device)
	}
	w := b.env.serve(r)
	if c := cookie(w, "postern_device"); c != nil {
		b.device = c
	}
	return w
}

func wantStatus(t *testing.T, what string, w *httptest.ResponseRecorder, want int, retryAfter string) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("%s: got status %d, want %d\n%s", what, w.Code, want, w.Body)
	}
	if got := w.Header().Get("Retry-After"); got != retryAfter {
		t.Errorf("%s: got Retry-After %q, want %q", what, got, retryAfter)
	}
}

// TestLoginLimitPerAddressAndEmail: five wrong passwords from one address
// stop that address guessing the email, for the real refill time, but the
// owner elsewhere still signs in. Refusals over the limit are counted in
// a summary, not logged one by one.
func TestLoginLimitPerAddressAndEmail(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	guesser := env.browserAt(t, "198.51.100.7")
	for i := range 5 {
		wantStatus(t, "failure "+itoa(int64(i+1)), guesser.try(adminEmail, "wrong password!"), 401, "")
	}
	w := guesser.try(adminEmail, "wrong password!")
	wantStatus(t, "sixth try", w, 429, "60") // one try a minute
	if got := fieldValue(t, w.Body.String(), "email"); got != adminEmail {
		t.Errorf("the refused form shows email %q, want it kept", got)
	}
	if !strings.Contains(w.Body.String(), "Try again in a minute") {
		t.Errorf("the page does not say how long to wait:\n%s", w.Body)
	}
	wantStatus(t, "the right password from the guesser's address", guesser.try(adminEmail, adminPassword), 429, "60")
	wantStatus(t, "in another case", guesser.try("Ann@Example.com", adminPassword), 429, "60")
	env.clock.Add(30 * time.Second)
	wantStatus(t, "half a minute later", guesser.try(adminEmail, adminPassword), 429, "30")

	owner := env.browserAt(t, "192.0.2.10")
	wantStatus(t, "the owner at another address", owner.try(adminEmail, adminPassword), 303, "")

	if n := countKind(t, env, "admin.login_failed"); n != 5 {
		t.Errorf("got %d admin.login_failed events, want 5", n)
	}
	if n := countKind(t, env, "admin.login_limited"); n != 0 {
		t.Errorf("got %d admin.login_limited events, want none: they are counted", n)
	}
	env.clock.Add(30 * time.Second)
	wantStatus(t, "a minute after the fifth failure", guesser.try(adminEmail, adminPassword), 303, "")
	evs := env.events(t)
	var summaries []string
	for _, e := range evs {
		if e.Kind == "refused.summary" {
			summaries = append(summaries, e.Detail)
		}
	}
	if len(summaries) != 1 || !strings.Contains(summaries[0], "4 more refused attempts") || !strings.Contains(summaries[0], "sign-ins over the rate limit 4") {
		t.Errorf("got summaries %q, want one counting the 4 refusals over the limit", summaries)
	}
}

// TestLoginLimitPerAddress: one address trying many emails is limited too,
// and so is its whole IPv6 /64; a forwarded-for header changes nothing.
func TestLoginLimitPerAddress(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, addr, neighbour, other string }{
		{"IPv4", "198.51.100.7", "198.51.100.7", "198.51.100.8"},
		{"IPv6 /64", "2001:db8:1:2::7", "2001:db8:1:2:ffff::1", "2001:db8:1:3::7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newAdminEnv(t)
			b := env.browserAt(t, tt.addr)
			for i := range 10 {
				wantStatus(t, "guess "+itoa(int64(i+1)), b.try("guess"+itoa(int64(i))+"@example.com", "wrong password!"), 401, "")
			}
			wantStatus(t, "11th try", b.try(adminEmail, adminPassword), 429, "30")
			wantStatus(t, "with X-Forwarded-For", b.try(adminEmail, adminPassword, "X-Forwarded-For", "203.0.113.9"), 429, "30")
			wantStatus(t, "from the same network", env.browserAt(t, tt.neighbour).try(adminEmail, adminPassword), 429, "30")
			wantStatus(t, "from another network", env.browserAt(t, tt.other).try(adminEmail, adminPassword), 303, "")
		})
	}
}

// TestLoginLimitPerEmailSparesTheOwnersBrowser: guessers at many
// addresses use up the email's own, slower allowance; a new browser then
// waits, but the browser the owner signed in from before does not.
func TestLoginLimitPerEmailSparesTheOwnersBrowser(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	owner := env.browserAt(t, "192.0.2.10")
	wantStatus(t, "the owner signs in", owner.try(adminEmail, adminPassword), 303, "")
	if owner.device == nil || !owner.device.HttpOnly || owner.device.SameSite != http.SameSiteStrictMode || owner.device.MaxAge <= 0 {
		t.Fatalf("got device cookie %v, want a lasting HttpOnly, SameSite=Strict one", owner.device)
	}
	for i := range 20 {
		b := env.browserAt(t, "203.0.113."+itoa(int64(i+1)))
		wantStatus(t, "guesser "+itoa(int64(i+1)), b.try(adminEmail, "wrong password!"), 401, "")
	}
	stranger := env.browserAt(t, "203.0.113.200")
	wantStatus(t, "a new browser once the email's allowance is used", stranger.try(adminEmail, adminPassword), 429, "300")
	wantStatus(t, "the owner's own browser", owner.try(adminEmail, adminPassword), 303, "")
	// The device cookie speaks only for its own admin.
	stranger.device = owner.device
	wantStatus(t, "the owner's cookie for another email", stranger.try("mallory@example.com", "wrong password!"), 401, "")
}

// TestLoginLimitSurvivesRestart: the counters are in the database, so a
// restart hands a guesser no fresh allowance.
func TestLoginLimitSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := &clock{now: time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)}
	open := func() *env {
		e := openEnv(t, dir, clk)
		t.Cleanup(func() { e.s.Close() })
		return e
	}
	first := open()
	if _, err := first.s.CreateAdmin(t.Context(), "test", adminEmail, adminHash(), false); err != nil {
		t.Fatal(err)
	}
	b := first.browserAt(t, "198.51.100.7")
	for range 5 {
		wantStatus(t, "failure", b.try(adminEmail, "wrong password!"), 401, "")
	}
	if err := first.s.Close(); err != nil {
		t.Fatal(err)
	}
	again := open()
	b.env = again
	wantStatus(t, "after a restart", b.try(adminEmail, adminPassword), 429, "60")
}
