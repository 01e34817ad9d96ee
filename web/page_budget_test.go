package web

import (
	"testing"
	"time"
)

// TestPageBudget: one admin's pages never wait; pages back to back for
// longer than the burst wait until their share of the time has passed.
func TestPageBudget(t *testing.T) {
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	b := newPageBudget(1, func() time.Time { return now })
	page := func(took time.Duration) time.Duration {
		d := b.delay()
		now = now.Add(d)
		b.spend(took)
		now = now.Add(took)
		return d
	}
	// An admin: a 20 ms page every two seconds.
	for i := range 10 {
		if d := page(20 * time.Millisecond); d != 0 {
			t.Fatalf("page %d waited %v, want no wait", i+1, d)
		}
		now = now.Add(2 * time.Second)
	}
	// Admins clicking as fast as they are answered: after the burst, the
	// pages get their share of the time.
	start := now
	var busy time.Duration
	for range 200 {
		page(10 * time.Millisecond)
		busy += 10 * time.Millisecond
	}
	window := now.Sub(start)
	// A page starts while any budget is left, so one may overrun it.
	if limit := time.Duration(pageShare*float64(window)) + pageBurst + 10*time.Millisecond; busy > limit {
		t.Fatalf("pages took %v of %v, want at most %v: their share, the burst and one page", busy, window, limit)
	}
	if share := float64(busy) / float64(window); share < 0.9*pageShare {
		t.Fatalf("pages took %.2f of the time, want about %.2f", share, pageShare)
	}
}

// TestPageBudgetBoundsTheWait: after one very slow page the next waits at
// most pageMaxWait, not four times what the slow one took.
func TestPageBudgetBoundsTheWait(t *testing.T) {
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	b := newPageBudget(1, func() time.Time { return now })
	b.spend(time.Minute)
	if d := b.delay(); d > pageMaxWait+time.Millisecond {
		t.Fatalf("the page after a one-minute page waits %v, want at most %v", d, pageMaxWait)
	} else if d < pageMaxWait/2 {
		t.Fatalf("the page after a one-minute page waits %v, want about %v", d, pageMaxWait)
	}
}
