package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"postern/access"
)

// names lists the Name column of a users page.
func names(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	byTestID(parse(t, body), "user-row").Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Find(`td[data-label="Name"]`).Text()))
	})
	return out
}

func tempNames(from, to int) []string {
	var out []string
	if from <= to {
		for i := from; i <= to; i++ {
			out = append(out, fmt.Sprintf("Temp%d", i))
		}
		return out
	}
	for i := from; i >= to; i-- {
		out = append(out, fmt.Sprintf("Temp%d", i))
	}
	return out
}

// The users list sorts names as people read them, by name, email or last
// use, either way, with Previous and Next.
func TestUsersListSortAndPages(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ctx := t.Context()
	var temps []access.User
	for i := 1; i <= 60; i++ {
		u := access.User{FirstName: fmt.Sprintf("Temp%d", i), Email: fmt.Sprintf("t%02d@example.com", 61-i), Enabled: true}
		if err := env.s.CreateUser(ctx, "setup", &u); err != nil {
			t.Fatal(err)
		}
		temps = append(temps, u)
	}
	// Temp7 was in this morning, Temp3 a minute later.
	for i, idx := range []int{6, 2} {
		c, err := env.s.AssignCredential(ctx, "setup", temps[idx].ID, access.NewRegistrationCode(), env.clock.Now().Add(time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.s.TouchCredential(ctx, c.ID, env.clock.Now().Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}

	first := env.get("/users")
	doc := parse(t, first.Body.String())
	if got := names(t, first.Body.String()); strings.Join(got, " ") != strings.Join(tempNames(1, 50), " ") {
		t.Errorf("first page: got %v, want Temp1 … Temp50 by number", got)
	}
	if byTestID(doc, "prev-page").Length() != 0 {
		t.Error("the first page has a Previous link")
	}
	next := byTestID(doc, "next-page").AttrOr("href", "")
	second := env.get(next).Body.String()
	if got := names(t, second); strings.Join(got, " ") != strings.Join(tempNames(51, 60), " ") {
		t.Errorf("second page: got %v, want Temp51 … Temp60", got)
	}
	prev := byTestID(parse(t, second), "prev-page").AttrOr("href", "")
	if prev == "" {
		t.Fatal("the second page has no Previous link")
	}
	if got := names(t, env.get(prev).Body.String()); strings.Join(got, " ") != strings.Join(tempNames(1, 50), " ") {
		t.Errorf("back: got %v, want the first page again", got)
	}

	// The headings sort; the current one turns the order round.
	heads := map[string]string{}
	doc.Find(`[data-testid^="sort-"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-testid")
		heads[id] = s.AttrOr("href", "")
	})
	want := map[string]string{"sort-name": "/users?dir=desc", "sort-email": "/users?sort=email", "sort-last_used": "/users?dir=desc&sort=last_used"}
	for id, href := range want {
		if heads[id] != href {
			t.Errorf("%s links to %q, want %q", id, heads[id], href)
		}
	}
	if got := doc.Find(`th[aria-sort="ascending"]`).Text(); !strings.Contains(got, "Name") {
		t.Errorf("the ascending column is %q, want Name", got)
	}
	tests := []struct {
		url  string
		want []string
	}{
		{"/users?dir=desc", tempNames(60, 11)},
		{"/users?sort=email", tempNames(60, 11)}, // t01@ is Temp60
		{"/users?sort=email&dir=desc", tempNames(1, 50)},
		{"/users?sort=last_used&dir=desc", append([]string{"Temp3", "Temp7"}, tempNames(60, 13)...)[:50]},
	}
	for _, tt := range tests {
		w := env.get(tt.url)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d", tt.url, w.Code)
		}
		if got := names(t, w.Body.String()); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("GET %s:\ngot  %v\nwant %v", tt.url, got, tt.want)
		}
	}
	env.runPages(t, []scenario{
		{name: "last use shows", method: "GET", url: "/users?sort=last_used&dir=desc", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"user-last-used": "2026-03-11 10:01:00"}, wantContains: []string{">never<"}},
		{name: "a search keeps the order", method: "GET", url: "/users?q=temp&sort=email", wantStatus: http.StatusOK,
			wantFields: map[string]string{"q": "temp", "sort": "email"}},
		{name: "pages keep the search and the order", method: "GET", url: "/users?q=temp&sort=email", wantStatus: http.StatusOK,
			wantContains: []string{`href="/users?after=`, `&amp;q=temp&amp;sort=email"`}},
	})
}
