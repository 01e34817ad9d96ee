package store_test

import (
	"sync"
	"testing"
	"time"

	"postern/store"
)

func TestThrottle(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	pair := store.Bucket{Key: "pair", Burst: 2, Every: time.Minute}
	wide := store.Bucket{Key: "wide", Burst: 3, Every: 10 * time.Second}
	take := func(at time.Duration, want time.Duration, buckets ...store.Bucket) {
		t.Helper()
		wait, err := s.TakeThrottle(ctx, testNow.Add(at), buckets...)
		if err != nil || wait != want {
			t.Fatalf("at +%v: got wait %v, %v; want %v", at, wait, err, want)
		}
	}
	take(0, 0, pair, wide)
	take(0, 0, pair, wide)
	take(0, time.Minute, pair, wide) // pair is empty: a minute to its next try
	take(0, 0, wide)                 // a refused take took nothing from wide
	take(0, 10*time.Second, wide)
	take(15*time.Second, 45*time.Second, pair, wide) // the wait is the real refill time
	take(time.Minute, 0, pair, wide)
	if err := s.ReturnThrottle(ctx, testNow.Add(time.Minute), pair); err != nil {
		t.Fatal(err)
	}
	take(time.Minute, 0, pair) // the try given back
	take(time.Minute, time.Minute, pair)
}

// TestThrottleConcurrent: many takes at once never overdraw a bucket.
func TestThrottleConcurrent(t *testing.T) {
	s := openStore(t)
	b := store.Bucket{Key: "burst", Burst: 5, Every: time.Hour}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 40 {
		wg.Go(func() {
			wait, err := s.TakeThrottle(t.Context(), testNow, b)
			if err != nil {
				t.Error(err)
				return
			}
			if wait == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 5 {
		t.Errorf("got %d takes allowed, want 5", allowed)
	}
}
