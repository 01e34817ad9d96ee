package protocol

import (
	"testing"
	"time"
)

func TestPendingDeadline(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		deadline time.Duration
		after    time.Duration
		want     error
	}{
		{"at once", 0, 0, nil},
		{"exactly at the default deadline", 0, DefaultDeadline, nil},
		{"a millisecond past the default deadline", 0, DefaultDeadline + time.Millisecond, ErrLate},
		{"within a longer deadline", 3 * time.Second, 2 * time.Second, nil},
		{"past a shorter deadline", 100 * time.Millisecond, 150 * time.Millisecond, ErrLate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: t0}
			p := NewPending(clk.Now, tt.deadline)
			ch, eph := f.challenge(t, 0, clk.Now())
			if err := p.Issue(ch, eph); err != nil {
				t.Fatal(err)
			}
			resp, _ := f.respond(t, ch, false)
			clk.Advance(tt.after)
			_, err := p.Open(ch.Nonce, resp)
			if tt.want == nil && err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if tt.want != nil {
				wantErr(t, err, tt.want)
			}
		})
	}
}

func TestPendingForgetsExpired(t *testing.T) {
	f := newFixture(t)
	clk := &clock{now: t0}
	p := NewPending(clk.Now, 0)
	for range 5 {
		ch, eph := f.challenge(t, 0, clk.Now())
		if err := p.Issue(ch, eph); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := p.Len(), 5; got != want {
		t.Fatalf("before: got %v, want %v", got, want)
	}
	clk.Advance(p.Deadline() + time.Millisecond)
	ch, eph := f.challenge(t, 0, clk.Now())
	if err := p.Issue(ch, eph); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Len(), 1; got != want {
		t.Errorf("after: got %v, want %v", got, want)
	}
}

func TestPendingBounded(t *testing.T) {
	f := newFixture(t)
	clk := &clock{now: t0}
	p := NewPending(clk.Now, 0)
	_, eph := f.challenge(t, 0, clk.Now())
	for i := range MaxPending + 1 {
		// Issue does not check signatures, so cheap unsigned challenges do.
		ch := &Challenge{IssuedAt: clk.Now()}
		ch.Nonce[0], ch.Nonce[1] = byte(i), byte(i>>8)
		err := p.Issue(ch, eph)
		if i < MaxPending && err != nil {
			t.Fatalf("challenge %d: %v", i, err)
		}
		if i == MaxPending {
			wantErr(t, err, ErrTooManyPending)
		}
	}
}

func TestPendingRefusesDuplicateNonce(t *testing.T) {
	f := newFixture(t)
	p := NewPending((&clock{now: t0}).Now, 0)
	ch, eph := f.challenge(t, 0, t0)
	if err := p.Issue(ch, eph); err != nil {
		t.Fatal(err)
	}
	if err := p.Issue(ch, eph); err == nil {
		t.Errorf("got nil error, want a refusal")
	}
}

func TestPendingGarbageDoesNotUseTheChallenge(t *testing.T) {
	f := newFixture(t)
	clk := &clock{now: t0}
	p := NewPending(clk.Now, 0)
	ch, eph := f.challenge(t, 0, clk.Now())
	if err := p.Issue(ch, eph); err != nil {
		t.Fatal(err)
	}
	resp, _ := f.respond(t, ch, false)
	bad := append([]byte(nil), resp...)
	bad[len(bad)-1] ^= 1
	_, err := p.Open(ch.Nonce, bad)
	wantErr(t, err, ErrDecrypt)
	if _, err := p.Open(ch.Nonce, resp); err != nil {
		t.Errorf("genuine response after garbage: got %v, want nil", err)
	}
}

func TestPendingUnknownNonce(t *testing.T) {
	p := NewPending((&clock{now: t0}).Now, 0)
	_, err := p.Open(Nonce{1}, []byte{typeResponse})
	wantErr(t, err, ErrLate)
}

// TestPendingDeadlineIgnoresWireTime: the deadline runs on the reader's
// own clock from the moment it issued the challenge, not from the time
// written in it, so a wall clock set wrong (or jumping) neither stretches
// nor shrinks it.
func TestPendingDeadlineIgnoresWireTime(t *testing.T) {
	f := newFixture(t)
	clk := &clock{now: t0}
	p := NewPending(clk.Now, time.Second)
	ch, eph := f.challenge(t, 0, t0.AddDate(-1, 0, 0))
	if err := p.IssueWithin(ch, eph, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	resp, _ := f.respond(t, ch, false)
	clk.Advance(200 * time.Millisecond)
	if _, err := p.Open(ch.Nonce, resp); err != nil {
		t.Fatalf("in time on the reader's clock: %v", err)
	}
	ch2, eph2 := f.challenge(t, 0, clk.Now().Add(time.Hour))
	if err := p.IssueWithin(ch2, eph2, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	resp2, _ := f.respond(t, ch2, false)
	clk.Advance(400 * time.Millisecond)
	_, err := p.Open(ch2.Nonce, resp2)
	wantErr(t, err, ErrLate)
}
