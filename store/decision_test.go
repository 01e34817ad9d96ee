package store

import (
	"sync"
	"testing"
	"time"

	"postern/access"
)

// holdWriter takes the writer's one connection, as a long admin
// transaction would, until the returned function gives it back.
func holdWriter(t *testing.T, s *Store) func() {
	t.Helper()
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return func() { conn.Close() }
}

// waitQueued waits until n decisions wait in the writer's queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.decisions) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d decisions queued, want %d", len(s.decisions), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func countEvents(t *testing.T, s *Store, kind string) int {
	t.Helper()
	var n int
	if err := s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM events WHERE kind = ?`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDecisionsReadyTogetherShareACommit: decisions that arrive while a
// commit cannot be made are written together, each answered after it.
func TestDecisionsReadyTogetherShareACommit(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := holdWriter(t, s)
	record := func(wg *sync.WaitGroup, errs chan<- error) {
		wg.Go(func() { errs <- s.RecordDecision(t.Context(), &access.Event{Kind: "access.granted"}, nil, time.Now()) })
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	record(&wg, errs)
	waitQueued(t, s, 0) // the writer holds it, waiting for the connection
	for range 19 {
		record(&wg, errs)
	}
	waitQueued(t, s, 19)
	if n := countEvents(t, s, "access.granted"); n != 0 {
		t.Fatalf("%d decisions written while the writer was held, want 0", n)
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := countEvents(t, s, "access.granted"); n != 20 {
		t.Fatalf("%d decisions written, want 20", n)
	}
	if decisions, commits := s.DecisionStats(); decisions != 20 || commits != 1 {
		t.Fatalf("%d decisions in %d commits, want 20 in 1", decisions, commits)
	}
}

// TestDecisionAnsweredAfterItsCommit: RecordDecision does not return while
// its commit cannot be made, and the decision is on disk when it does.
func TestDecisionAnsweredAfterItsCommit(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := holdWriter(t, s)
	done := make(chan error, 1)
	go func() { done <- s.RecordDecision(t.Context(), &access.Event{Kind: "access.denied"}, nil, time.Now()) }()
	select {
	case err := <-done:
		t.Fatalf("RecordDecision returned (%v) before its commit could be made", err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, s, "access.denied"); n != 1 {
		t.Fatalf("%d decisions on disk after RecordDecision returned, want 1", n)
	}
}

// TestCloseWritesQueuedDecisions: closing the store writes every decision
// already queued before it closes the database.
func TestCloseWritesQueuedDecisions(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	record := func() {
		wg.Go(func() { errs <- s.RecordDecision(t.Context(), &access.Event{Kind: "access.granted"}, nil, time.Now()) })
	}
	record()
	waitQueued(t, s, 0) // the writer holds it, waiting for the connection
	for range 9 {
		record()
	}
	waitQueued(t, s, 9)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	release()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a queued decision failed: %v", err)
		}
	}
	s, err = Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := countEvents(t, s, "access.granted"); n != 10 {
		t.Fatalf("%d decisions on disk, want 10", n)
	}
}
