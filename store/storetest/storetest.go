// Package storetest gives benchmarks a populated site without paying for
// it on every run.
package storetest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"postern/store"
)

// Large is the site the benchmarks measure: a large office's people and
// doors, and a few years of events.
var Large = store.Population{Users: 100_000, Groups: 100, AccessPoints: 1_000, Events: 1_000_000}

// Small stands in for Large under -short.
var Small = store.Population{Users: 1_000, Groups: 10, AccessPoints: 20, Events: 10_000}

// seedVersion names the seed in the cached file: bump it whenever
// store.Populate changes what it writes.
const seedVersion = 2

// Open opens a copy of a site populated with p (Small under -short) in a
// fresh folder, closed when the benchmark ends, and returns it with the
// path of its database file. The populated file is
// cached in os.TempDir() under a hash of the schema and p, so later runs
// only copy it; seeding Large takes about a minute.
func Open(b testing.TB, p store.Population) (*store.Store, string) {
	b.Helper()
	if testing.Short() {
		p = Small
	}
	src := seeded(b, p)
	dir := b.TempDir()
	path := filepath.Join(dir, store.FileName)
	// A copy per run: a benchmark's own writes do not grow the cache.
	if err := copyFile(src, path); err != nil {
		b.Fatal(err)
	}
	s, err := store.Open(b.Context(), dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, path
}

func seeded(b testing.TB, p store.Population) string {
	b.Helper()
	// Keyed by the schema's hash, not its version: two builds with
	// different migrations at the same count must not share a seed.
	cached := filepath.Join(os.TempDir(), fmt.Sprintf("postern-bench-schema%s-seed%d-%du-%dg-%da-%de.db",
		store.SchemaHash(), seedVersion, p.Users, p.Groups, p.AccessPoints, p.Events))
	if _, err := os.Stat(cached); err == nil {
		return cached
	}
	dir, err := os.MkdirTemp(os.TempDir(), "postern-bench-seed-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.Open(b.Context(), dir)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := s.Site(b.Context()); err != nil {
		b.Fatal(err)
	}
	if err := s.Populate(b.Context(), p); err != nil {
		b.Fatal(err)
	}
	// Closing the last connection folds the log into the file, so the
	// file alone is the site.
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, store.FileName+"-wal")); err == nil {
		b.Fatal("the write-ahead log outlived the store: the file alone is not the site")
	}
	b.Logf("populated %+v in %v", p, time.Since(start).Round(time.Millisecond))
	// Rename into place: a run interrupted while seeding leaves no half
	// file under the cached name.
	if err := os.Rename(filepath.Join(dir, store.FileName), cached); err != nil {
		b.Fatal(err)
	}
	return cached
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
