package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"postern/access"
	"postern/store"
	"postern/web"
)

// BenchmarkMetrics measures what metrics add: the per-request counter on
// a cheap route, and one scrape of a site with 50 access points.
func BenchmarkMetrics(b *testing.B) {
	s, err := store.Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var ids []int64
	for i := range 50 {
		ap := &access.AccessPoint{Name: fmt.Sprintf("Door %d", i), Reader: fmt.Sprintf("sim:door%d", i), Mode: access.ModeDirect}
		if err := s.CreateAccessPoint(b.Context(), "bench", ap); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, ap.ID)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := web.NewMetrics(s, "bench")
	m.WatchReaders(func() []int64 { return ids })
	plain := web.New(web.Config{Store: s, Log: log})
	counted := web.New(web.Config{Store: s, Log: log, Metrics: m, MetricsAllow: mustPrefixes("192.0.2.0/24")})

	for _, bb := range []struct {
		name string
		h    http.Handler
		url  string
	}{
		{"static file without metrics", plain, "/assets/favicon.svg"},
		{"static file counted", counted, "/assets/favicon.svg"},
		{"scrape", counted, "/metrics"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				w := httptest.NewRecorder()
				bb.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, bb.url, nil))
				if w.Code != http.StatusOK {
					b.Fatalf("got %d", w.Code)
				}
			}
		})
	}
}

func mustPrefixes(s string) []netip.Prefix {
	ps, err := web.ParsePrefixes(s)
	if err != nil {
		panic(err)
	}
	return ps
}
