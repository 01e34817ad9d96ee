package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// formClient is a plain HTTP client with a cookie jar that stops at
// redirects, as a browser on the admin pages is when the test looks at
// each answer.
func formClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// postForm fetches the form at page for its CSRF token and posts form to
// target with it, as the browser would; it returns the status.
func postForm(t *testing.T, c *http.Client, base, page, target string, form url.Values) int {
	t.Helper()
	resp, err := c.Get(base + page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s has no _csrf field:\n%s", page, body)
	}
	form.Set("_csrf", string(m[1]))
	req, _ := http.NewRequest("POST", base+target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func pageSize(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: got status %d", url, resp.StatusCode)
	}
	return len(body)
}

func dbSize(t *testing.T, data string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(data, "postern.db"))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestUnauthenticatedFloodThroughTheBinary: fifty sign-ins with
// half-megabyte fields and twenty oversized key registrations grow neither
// the database nor the admin pages by more than a small bound, and what
// was refused past the window's share is one summary event, written at
// the latest when serve stops.
func TestUnauthenticatedFloodThroughTheBinary(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	token := adminToken(t, data, "admin@office.example")
	a.stop() // the WAL is checkpointed into the file
	before := dbSize(t, data)

	a = startAppliance(t, data)
	admin := formClient(t)
	if st := postForm(t, admin, a.url, "/login", "/login", url.Values{"email": {"admin@office.example"}, "password": {"correct horse battery"}}); st != http.StatusSeeOther {
		t.Fatalf("sign in: got status %d\n%s", st, a.output())
	}
	pagesBefore := pageSize(t, admin, a.url+"/events") + pageSize(t, admin, a.url+"/")

	big := strings.Repeat("A", 450<<10)
	attacker := formClient(t)
	for i := range 50 {
		st := postForm(t, attacker, a.url, "/login", "/login", url.Values{"email": {big + "@example.com"}, "password": {"guess"}, "next": {"/" + big}})
		if st != http.StatusUnauthorized && st != http.StatusTooManyRequests {
			t.Fatalf("big sign-in %d: got status %d", i, st)
		}
	}
	for i := range 20 {
		body, _ := json.Marshal(map[string]string{"code": big[:30<<10], "device": big[:30<<10]})
		resp, err := http.Post(a.url+"/api/key/v1/register", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("big registration %d: got status %d", i, resp.StatusCode)
		}
	}
	pagesAfter := pageSize(t, admin, a.url+"/events") + pageSize(t, admin, a.url+"/")
	if grew := pagesAfter - pagesBefore; grew > 64<<10 {
		t.Errorf("the events page and the dashboard grew by %d bytes, want at most 64 KB", grew)
	}
	a.stop()
	after := dbSize(t, data)
	if grew := after - before; grew > 128<<10 {
		t.Errorf("the database grew by %d bytes, want at most 128 KB", grew)
	}
	t.Logf("database %d → %d bytes; pages %d → %d bytes", before, after, pagesBefore, pagesAfter)

	a = startAppliance(t, data)
	var page struct {
		Events []struct{ Kind, Detail string }
	}
	api(t, a.url, token, "GET", "/api/v1/events?kind=refused.summary", nil, &page)
	if len(page.Events) != 1 || !strings.Contains(page.Events[0].Detail, "refused attempts") {
		t.Errorf("got summaries %+v, want one", page.Events)
	}
	var failed struct{ Events []struct{ Kind string } }
	api(t, a.url, token, "GET", fmt.Sprintf("/api/v1/events?kind=admin.login_failed&limit=%d", 100), nil, &failed)
	if n := len(failed.Events); n == 0 || n > 20 {
		t.Errorf("got %d failed sign-ins logged one by one, want 1 to 20", n)
	}
}
