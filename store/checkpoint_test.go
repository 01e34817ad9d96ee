package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"postern/access"
)

// TestCheckpointsInTheBackground: no commit folds the write-ahead log into
// the database file; the background checkpoint does, soon after.
func TestCheckpointsInTheBackground(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func() int64 {
		fi, err := os.Stat(filepath.Join(dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	for i := range 300 {
		e := &access.Event{Kind: "access.granted", Detail: string(make([]byte, 200)), AccessPointID: int64(i)}
		if err := s.RecordDecision(t.Context(), e, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for size() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is still %d bytes: the log was never folded in", size())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
