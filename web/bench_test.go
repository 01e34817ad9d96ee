package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"postern/access"
	"postern/store"
	"postern/web"
)

// benchSite is an appliance with 10,000 users, 20 access points and a few
// thousand events, signed in.
func benchSite(b *testing.B) (http.Handler, *http.Cookie, string) {
	b.Helper()
	ctx := b.Context()
	s, err := store.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	first := []string{"Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo"}
	last := []string{"Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright"}
	for i := 0; i < 10_000; i++ {
		u := access.User{FirstName: first[i%10], LastName: fmt.Sprintf("%s%d", last[(i/10)%10], i), Email: fmt.Sprintf("user%d@example.com", i), Enabled: true}
		if err := s.CreateUser(ctx, "bench", &u); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		ap := access.AccessPoint{Name: fmt.Sprintf("Door %d", i), Reader: fmt.Sprintf("sim:door%d", i)}
		if err := s.CreateAccessPoint(ctx, "bench", &ap); err != nil {
			b.Fatal(err)
		}
	}
	admin, err := s.CreateAdmin(ctx, "bench", "admin@example.com", "unused", false)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.CreateSession(ctx, "bench-session", "bench-csrf", admin.ID, time.Hour); err != nil {
		b.Fatal(err)
	}
	token := web.NewAPIToken()
	if err := s.CreateAPIToken(ctx, "bench", admin.ID, "bench", token); err != nil {
		b.Fatal(err)
	}
	h := web.New(web.Config{Store: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: "http://example.com"})
	return h, &http.Cookie{Name: "postern_session", Value: "bench-session"}, token
}

// BenchmarkPages measures the admin pages' latency on a site with 10,000
// users, through the whole handler: session check, queries, rendering.
func BenchmarkPages(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 10,000 users")
	}
	h, session, token := benchSite(b)
	pages := []struct{ name, url string }{
		{"dashboard", "/"},
		{"users first page", "/users"},
		{"users search", "/users?q=smith"},
		{"users search htmx", "/users?q=jo"},
		{"access points", "/access-points"},
		{"events", "/events"},
		{"api users page", "/api/v1/users?limit=50"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest("GET", p.url, nil)
				r.AddCookie(session)
				r.Header.Set("Authorization", "Bearer "+token)
				if p.name == "users search htmx" {
					r.Header.Set("HX-Request", "true")
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: got %d", p.url, w.Code)
				}
			}
		})
	}
}
