package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSize(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var onDisk int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, FileName+suffix)); err == nil {
			onDisk += fi.Size()
		}
	}
	// Pages still in the log count twice (the main file grows into them
	// at the checkpoint), so the size is never below what is on disk.
	if got <= 0 || got < onDisk {
		t.Errorf("got %d bytes, the files hold %d", got, onDisk)
	}
	before := got
	if _, err := s.db.ExecContext(t.Context(), "CREATE TABLE filler (b BLOB); INSERT INTO filler VALUES (zeroblob(1000000))"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Size(t.Context()); got < before+1000000 {
		t.Errorf("after writing a megabyte: got %d bytes, want at least %d", got, before+1000000)
	}
}
