package web_test

import (
	"bytes"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"postern/access"
	"postern/store"
	"postern/web"
)

// exportBenchEvents is the size of the log the export benchmark reads.
const exportBenchEvents = 1_000_000

// seedEvents fills a new site's log with n access decisions by 1,000 users
// at 20 doors, written straight into the database in one statement: the
// store's own path logs one event per transaction, which for a million
// would take longer than the export it is here to measure.
func seedEvents(b *testing.B, dir string, n int) {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.FileName)+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for _, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1000)
			INSERT INTO users (id, first_name, last_name, email, created_at, updated_at)
			SELECT i, 'First' || i, 'Last' || i, 'user' || i || '@example.com', 0, 0 FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20)
			INSERT INTO access_points (id, name, reader, mode, rssi_threshold, unlock_ms, created_at, updated_at)
			SELECT i, 'Door ' || i, 'sim:door' || i, 'direct', -60, 5000, 0, 0 FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
			INSERT INTO events (at, kind, reason, user_id, access_point_id, credential_id, rssi, latency_us)
			SELECT ? + i * 1000, CASE WHEN i % 10 = 0 THEN 'access.denied' ELSE 'access.granted' END,
				CASE WHEN i % 10 = 0 THEN 'outside_schedule' ELSE '' END,
				i % 1000 + 1, i % 20 + 1, printf('%032x', i), -50 - i % 30, 1200 + i % 500 FROM n`,
	} {
		args := []any{}
		if bytes.Contains([]byte(q), []byte("events")) {
			args = []any{n, start}
		}
		if _, err := db.ExecContext(b.Context(), q, args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
}

// peakWriter throws the download away, counting it, and samples the heap
// as each flushed buffer arrives.
type peakWriter struct {
	header http.Header
	bytes  int64
	writes int
	peak   uint64
}

func (w *peakWriter) Header() http.Header { return w.header }
func (w *peakWriter) WriteHeader(int)     {}
func (w *peakWriter) Flush()              {}
func (w *peakWriter) Write(p []byte) (int, error) {
	w.bytes += int64(len(p))
	if w.writes++; w.writes%4 == 0 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.peak = max(w.peak, m.HeapAlloc)
	}
	return len(p), nil
}

// BenchmarkEventExport exports a log of a million events as CSV through
// the whole handler and reports what it costs per event and the heap's
// peak while it runs: memory must stay flat whatever the log's size.
func BenchmarkEventExport(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds a million events")
	}
	dir := b.TempDir()
	s, err := store.Open(b.Context(), dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	seedEvents(b, dir, exportBenchEvents)
	admin, err := s.CreateAdmin(b.Context(), "bench", "admin@example.com", "unused", false)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.CreateSession(b.Context(), "bench-session", "bench-csrf", admin.ID, time.Hour); err != nil {
		b.Fatal(err)
	}
	total, err := s.CountEvents(b.Context(), access.EventFilter{})
	if err != nil || total < exportBenchEvents {
		b.Fatalf("got %d events, %v; want at least %d", total, err, exportBenchEvents)
	}
	// Four slots earn page time as fast as one export spends it: the
	// benchmark measures the export, not the page budget's pacing (which
	// lets a lone page use 0.35 of a slot's time once its burst is
	// spent).
	h := web.New(web.Config{Store: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PageSlots: 4})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var w *peakWriter
	for b.Loop() {
		r := httptest.NewRequest("GET", "/events/export.csv", nil)
		r.AddCookie(&http.Cookie{Name: "postern_session", Value: "bench-session"})
		w = &peakWriter{header: http.Header{}}
		h.ServeHTTP(w, r)
		if got := w.header.Get("X-Total-Count"); got != strconv.Itoa(total) {
			b.Fatalf("got X-Total-Count %q, want %d", got, total)
		}
	}
	runtime.ReadMemStats(&after)
	events := float64(b.N) * float64(total)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/events, "B/event")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/events, "allocs/event")
	b.ReportMetric(float64(w.peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(before.HeapAlloc)/(1<<20), "heap-before-MB")
	b.ReportMetric(float64(w.bytes)/(1<<20), "csv-MB")
}
