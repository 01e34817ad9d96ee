package store

import (
	"strconv"
	"testing"
	"time"
)

// TestThrottleForgetsFullBuckets: a bucket that has refilled is no row,
// so keys a flood makes up do not pile up.
func TestThrottleForgetsFullBuckets(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	rows := func() int {
		var n int
		if err := s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM throttle`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 100 {
		b := Bucket{Key: "addr-" + strconv.Itoa(i), Burst: 10, Every: 30 * time.Second}
		if _, err := s.TakeThrottle(t.Context(), now, b); err != nil {
			t.Fatal(err)
		}
	}
	if n := rows(); n != 100 {
		t.Fatalf("got %d rows, want 100", n)
	}
	// 30 s later every one of them is full again; the next take sweeps.
	if _, err := s.TakeThrottle(t.Context(), now.Add(31*time.Second), Bucket{Key: "new", Burst: 10, Every: time.Second}); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 1 {
		t.Errorf("got %d rows after they refilled, want 1", n)
	}
}
