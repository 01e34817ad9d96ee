package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"postern/store"
	"postern/store/storetest"
	"postern/web"
)

// benchSite is the large site (100k users, 1k access points, 1M events),
// signed in.
func benchSite(b *testing.B) (http.Handler, *http.Cookie, string, *store.Store) {
	b.Helper()
	ctx := b.Context()
	s, _ := storetest.Open(b, storetest.Large)
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
	// As serve does at start-up.
	if _, err := s.LoadPolicy(ctx); err != nil {
		b.Fatal(err)
	}
	h := web.New(web.Config{Store: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: "http://example.com"})
	return h, &http.Cookie{Name: "postern_session", Value: "bench-session"}, token, s
}

// benchPages are the pages an admin opens most, the heaviest first.
// "Read afresh" makes a change to the site before each opening, so that
// the dashboard cannot serve the copy it read a moment before.
var benchPages = []struct{ name, url string }{
	{"dashboard", "/"},
	{"dashboard read afresh", "/"},
	{"a user's page", "/users/4242"},
	{"permissions", "/permissions"},
	{"users first page", "/users"},
	{"users search", "/users?q=last17"},
	{"users search htmx", "/users?q=first1"},
	{"access points", "/access-points"},
	{"events", "/events"},
	{"events denied at a door", "/events?access_point=11&result=denied"},
	{"api users page", "/api/v1/users?limit=50"},
}

// BenchmarkPages measures the admin pages on the large site through the
// whole handler (session, queries, rendering), one request at a time, and
// reports the median and the 95th percentile of a request. Between
// requests it pauses, untimed, three times as long as the last took, as an
// admin does between clicks: pages back to back would be measuring the
// page budget that keeps admins from crowding out the doors.
//
// Each page is opened once, untimed, before it is measured: the first
// opening after the copy of the site reads it from disk, and the first
// dashboard learns each door's newest decision.
func BenchmarkPages(b *testing.B) {
	h, session, token, st := benchSite(b)
	for _, p := range benchPages {
		b.Run(p.name, func(b *testing.B) {
			open := func() time.Duration {
				r := httptest.NewRequest("GET", p.url, nil)
				r.AddCookie(session)
				r.Header.Set("Authorization", "Bearer "+token)
				if p.name == "users search htmx" {
					r.Header.Set("HX-Request", "true")
				}
				w := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(w, r)
				took := time.Since(start)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: got %d", p.url, w.Code)
				}
				return took
			}
			open()
			var took []time.Duration
			for b.Loop() {
				if p.name == "dashboard read afresh" {
					b.StopTimer()
					if err := st.SetSetting(b.Context(), "", "bench.touched", time.Now().String()); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				took = append(took, open())
				b.StopTimer()
				time.Sleep(min(3*took[len(took)-1], time.Second))
				b.StartTimer()
			}
			slices.Sort(took)
			at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
			b.ReportMetric(at(0.50), "p50-ms")
			b.ReportMetric(at(0.95), "p95-ms")
		})
	}
}
