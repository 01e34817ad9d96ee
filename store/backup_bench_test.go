package store

import (
	"database/sql"
	"fmt"
	"io"
	"testing"
	"time"
)

// Size of the site BenchmarkBackup copies.
const (
	backupBenchUsers  = 100_000
	backupBenchEvents = 500_000
)

// countingWriter counts what a backup writes.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

// BenchmarkBackup takes a plain backup of a site with 100,000 users and
// 500,000 events, and reports its size. docs/performance.md has the
// numbers.
func BenchmarkBackup(b *testing.B) {
	s, err := Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Site(b.Context()); err != nil {
		b.Fatal(err)
	}
	err = s.tx(b.Context(), "seed", func(tx *sql.Tx) error {
		users, err := tx.PrepareContext(b.Context(), `INSERT INTO users (id, first_name, last_name, email, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 0, 0)`)
		if err != nil {
			return err
		}
		for i := range backupBenchUsers {
			first, last := benchFirst[i%len(benchFirst)], benchLast[i/len(benchFirst)%len(benchLast)]
			if _, err := users.ExecContext(b.Context(), i+1, first, last, fmt.Sprintf("user%d@example.com", i)); err != nil {
				return err
			}
		}
		events, err := tx.PrepareContext(b.Context(), `INSERT INTO events (at, kind, reason, actor, user_id, credential_id, rssi, latency_us, detail) VALUES (?, 'access.granted', 'granted', 'key', ?, ?, -55, 2400, '')`)
		if err != nil {
			return err
		}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		for i := range backupBenchEvents {
			if _, err := events.ExecContext(b.Context(), at+int64(i)*1000, i%backupBenchUsers+1, fmt.Sprintf("%032x", i%backupBenchUsers)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	for _, pass := range []string{"", "a passphrase"} {
		name := "plain"
		if pass != "" {
			name = "encrypted"
		}
		b.Run(name, func(b *testing.B) {
			var w countingWriter
			var m Manifest
			for b.Loop() {
				w.n = 0
				if m, err = s.Backup(b.Context(), &w, BackupOptions{Passphrase: pass}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(m.Database.Size)/(1<<20), "db-MB")
			b.ReportMetric(float64(w.n)/(1<<20), "file-MB")
		})
	}
}
