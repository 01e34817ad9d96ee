package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postern/store"
)

// TestUnauthenticatedFloodIsBounded sends big fields, as large as each
// route's body limit allows, to every route an outsider can reach: sign-in
// (from one address and from many), setup and the key API. The database
// and the admin pages grow by a small bound, not with what was sent, and
// the refusals past the window's share are one summary event.
func TestUnauthenticatedFloodIsBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := &clock{now: time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)}
	open := func() *env { return openEnv(t, dir, clk, withSetupToken) }
	dbSize := func(env *env) int64 {
		t.Helper()
		// Closing checkpoints the WAL into the file: its size is the data.
		if err := env.s.Close(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, store.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}

	env := open()
	if _, err := env.s.CreateAdmin(t.Context(), "test", adminEmail, adminHash(), false); err != nil {
		t.Fatal(err)
	}
	env.login(t)
	before := dbSize(env)
	session, csrf := env.session, env.csrf
	env = open()
	defer env.s.Close()
	env.session, env.csrf = session, csrf
	pagesBefore := len(env.get("/events").Body.String()) + len(env.get("/").Body.String())

	big := strings.Repeat("A", 450<<10) // two of them just fit the pages' 1 MB limit
	ck, formToken := env.preForm(t, "/login")
	posts := 0
	for i := range 50 {
		addr := "198.51.100.7:40000" // one address: over its limit after ten
		if i%2 == 0 {
			addr = fmt.Sprintf("203.0.113.%d:40000", i) // many addresses
		}
		form := url.Values{"_csrf": {formToken}, "email": {big + "@example.com"}, "password": {"wrong password!"}, "next": {"/" + big}}
		r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", origin)
		r.RemoteAddr = addr
		r.AddCookie(ck)
		w := env.serve(r)
		if w.Code != http.StatusUnauthorized && w.Code != http.StatusTooManyRequests {
			t.Fatalf("big sign-in %d: got status %d", i, w.Code)
		}
		if w.Body.Len() > 64<<10 {
			t.Errorf("big sign-in %d: the answer is %d bytes: it shows the field back whole", i, w.Body.Len())
		}
		posts++
	}
	smallBig := strings.Repeat("7", 30<<10) // two of them fit the key API's 64 KB
	for i := range 20 {
		body, _ := json.Marshal(map[string]string{"code": smallBig, "device": smallBig})
		r := httptest.NewRequest("POST", "/api/key/v1/register", bytes.NewReader(body))
		r.RemoteAddr = fmt.Sprintf("192.0.2.%d:40000", i)
		if w := env.serve(r); w.Code != http.StatusBadRequest {
			t.Fatalf("big registration %d: got status %d, want 400\n%.300s", i, w.Code, w.Body)
		}
		body, _ = json.Marshal(map[string]string{"credential_id": smallBig[:100], "first_name": smallBig, "admin_email": smallBig})
		r = httptest.NewRequest("POST", "/api/key/v1/share", bytes.NewReader(body))
		r.RemoteAddr = fmt.Sprintf("192.0.2.%d:40000", i)
		r.Header.Set("X-Postern-Time", "1")
		if w := env.serve(r); w.Code < 400 || w.Code >= 500 {
			t.Fatalf("big share %d: got status %d\n%.300s", i, w.Code, w.Body)
		}
		posts += 2
	}
	sck, stoken := env.preForm(t, "/login") // the setup form's cookie is the same
	for range 5 {
		form := url.Values{"_csrf": {stoken}, "token": {big}, "email": {big}, "password": {"x"}, "confirm": {"y"}}
		if w := env.postPre("/setup", sck, form); w.Code != http.StatusNotFound || w.Body.Len() > 64<<10 {
			t.Fatalf("big setup: got status %d and %d bytes, want 404 and a small page", w.Code, w.Body.Len())
		}
		posts++
	}
	t.Logf("%d posts of up to %d bytes each", posts, len(big))

	pagesAfter := len(env.get("/events").Body.String()) + len(env.get("/").Body.String())
	if grew := pagesAfter - pagesBefore; grew > 64<<10 {
		t.Errorf("the events page and the dashboard grew by %d bytes, want at most 64 KB", grew)
	}
	clk.Add(time.Minute)
	ck, formToken = env.preForm(t, "/login")
	if w := env.postPre("/login", ck, url.Values{"_csrf": {formToken}, "email": {adminEmail}, "password": {adminPassword}}); w.Code != http.StatusSeeOther {
		t.Fatalf("the admin signs in after the flood: got status %d", w.Code)
	}
	var logged, summaries int
	for _, e := range env.events(t) {
		switch {
		case e.Kind == "refused.summary":
			summaries++
			t.Logf("summary: %s", e.Detail)
		case strings.HasSuffix(e.Kind, "failed") || strings.HasSuffix(e.Kind, "limited"):
			logged++
		}
		if len(e.Detail) > 1000 || strings.Contains(e.Detail, strings.Repeat("A", 300)) {
			t.Errorf("event %s holds %d bytes of detail", e.Kind, len(e.Detail))
		}
	}
	if logged > 20 || summaries != 1 {
		t.Errorf("got %d refusals logged one by one and %d summaries, want at most 20 and one summary", logged, summaries)
	}
	after := dbSize(env)
	if grew := after - before; grew > 128<<10 {
		t.Errorf("the database grew by %d bytes, want at most 128 KB", grew)
	}
	t.Logf("database %d → %d bytes; pages %d → %d bytes", before, after, pagesBefore, pagesAfter)
}
