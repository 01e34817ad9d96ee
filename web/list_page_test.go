package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// TestListPagesNextLink fills each admin list past one page and follows its
// "Next page" link: every item shows once, and a search stays a search.
func TestListPagesNextLink(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ctx := t.Context()
	const n = store.DefaultLimit + 3
	var ap access.AccessPoint
	for i := range n {
		name := fmt.Sprintf("item %03d", i)
		u := access.User{FirstName: "Sam", LastName: fmt.Sprintf("Smith %03d", i), Enabled: true}
		g := access.Group{Name: name}
		a := access.AccessPoint{Name: name, Reader: fmt.Sprintf("sim:r%d", i)}
		p := access.TimeProfile{Name: name, Windows: []access.Window{{Days: []time.Weekday{1}, Start: 60, End: 120}}}
		for _, err := range []error{env.s.CreateUser(ctx, "setup", &u), env.s.CreateGroup(ctx, "setup", &g),
			env.s.CreateAccessPoint(ctx, "setup", &a), env.s.CreateTimeProfile(ctx, "setup", &p)} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 {
			ap = a
		}
		if err := env.s.CreatePermission(ctx, "setup", &access.Permission{UserID: u.ID, AccessPointID: ap.ID}); err != nil {
			t.Fatal(err)
		}
	}
	jones := access.User{FirstName: "Jo", LastName: "Jones", Enabled: true}
	if err := env.s.CreateUser(ctx, "setup", &jones); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, url, row string
		want           int
	}{
		{"users", "/users", "user-row", n + 1},
		{"users search", "/users?q=smith", "user-row", n},
		{"groups", "/groups", "group-row", n},
		{"access points", "/access-points", "access-point-row", n},
		{"time profiles", "/time-profiles", "time-profile-row", n},
		{"permissions", "/permissions", "permission-row", n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]int{}
			next := tt.url
			for page := 1; next != ""; page++ {
				if page > 10 {
					t.Fatal("still a next page after 10 pages")
				}
				w := env.get(next)
				if w.Code != 200 {
					t.Fatalf("GET %s: got status %d, want 200", next, w.Code)
				}
				doc := parse(t, w.Body.String())
				rows := byTestID(doc, tt.row)
				if rows.Length() > store.DefaultLimit {
					t.Fatalf("GET %s: got %d rows, want at most %d", next, rows.Length(), store.DefaultLimit)
				}
				for i := range rows.Length() {
					seen[strings.Join(strings.Fields(rows.Eq(i).Find("a").First().Text()), " ")]++
				}
				if strings.Contains(tt.url, "q=") && strings.Contains(w.Body.String(), "Jones") {
					t.Errorf("GET %s: the search shows Jones", next)
				}
				next = byTestID(doc, "next-page").AttrOr("href", "")
				if next != "" && strings.Contains(tt.url, "q=") && !strings.Contains(next, "q=smith") {
					t.Errorf("the next-page link %q dropped the search", next)
				}
			}
			total := 0
			for key, c := range seen {
				if c != 1 {
					t.Errorf("%q shown %d times, want once", key, c)
				}
				total += c
			}
			if total != tt.want {
				t.Errorf("got %d rows over all pages, want %d", total, tt.want)
			}
		})
	}
}
