package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// memOutbox is an in-memory Outbox that behaves as the store will.
type memOutbox struct {
	mu       sync.Mutex
	mails    map[int64]*memMail
	nextID   int64
	dueCalls int
	marks    int
	dueSeen  chan struct{} // when set, signalled after each DueOutbox
}

type memMail struct {
	Outgoing
	sentAt    time.Time
	lastErr   string
	failedAt  time.Time
	permanent bool
	cancelled bool
}

func newMemOutbox() *memOutbox { return &memOutbox{mails: map[int64]*memMail{}} }

func (o *memOutbox) add(m Message, attempts int) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nextID++
	o.mails[o.nextID] = &memMail{Outgoing: Outgoing{ID: o.nextID, Message: m, Attempts: attempts}}
	return o.nextID
}

func (o *memOutbox) get(id int64) memMail {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *o.mails[id]
}

func (o *memOutbox) counts() (due, marks int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dueCalls, o.marks
}

func (o *memOutbox) DueOutbox(_ context.Context, now time.Time, limit int) ([]Outgoing, error) {
	o.mu.Lock()
	o.dueCalls++
	var ids []int64
	for id, m := range o.mails {
		if m.sentAt.IsZero() && !m.permanent && !m.cancelled && !m.NextAttempt.After(now) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var due []Outgoing
	for _, id := range ids[:min(limit, len(ids))] {
		due = append(due, o.mails[id].Outgoing)
	}
	o.mu.Unlock()
	if o.dueSeen != nil {
		o.dueSeen <- struct{}{}
	}
	return due, nil
}

func (o *memOutbox) StillQueued(_ context.Context, id int64) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.mails[id]
	return m.sentAt.IsZero() && !m.permanent && !m.cancelled, nil
}

// cancel is what the store does to an invitation whose code was replaced.
func (o *memOutbox) cancel(id int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mails[id].cancelled = true
}

func (o *memOutbox) MarkOutboxSent(_ context.Context, id int64, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.marks++
	m := o.mails[id]
	m.Attempts++
	m.sentAt = at
	return nil
}

func (o *memOutbox) MarkOutboxFailed(_ context.Context, id int64, at time.Time, errText string, next time.Time, permanent bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.marks++
	m := o.mails[id]
	m.Attempts++
	m.failedAt, m.lastErr, m.NextAttempt, m.permanent = at, errText, next, permanent
	return nil
}

// clock is a settable time for the worker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// senderVar is the SMTP setting as the settings page would change it.
type senderVar struct {
	mu sync.Mutex
	s  Sender
}

func (v *senderVar) get() Sender {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.s
}

func (v *senderVar) set(s Sender) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.s = s
}

func TestWorkerRetriesUntilServerIsUp(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add(testMessage(), 0)
	second := ob.add(testMessage(), 0)
	clk := &clock{t: t0}
	setting := &senderVar{}
	setting.set(NewSMTP(Config{Host: "127.0.0.1", Port: freePort(t), TLS: NoTLS}))
	newWorker := func() *Worker {
		return NewWorker(ob, setting.get, WithClock(clk.now), WithLogger(quietLogger()))
	}

	// The server is down: the mail stays queued with its error and a
	// later next attempt.
	newWorker().drain(t.Context())
	got := ob.get(id)
	if got.Attempts != 1 || got.permanent || !got.sentAt.IsZero() {
		t.Fatalf("after a refused connection: got attempts %d, permanent %v, sent %v; want 1, false, unsent", got.Attempts, got.permanent, got.sentAt)
	}
	if got.lastErr == "" {
		t.Errorf("no error recorded")
	}
	// The server being down says nothing about the second mail: it waits
	// for the next round instead of spending an attempt.
	if got := ob.get(second); got.Attempts != 0 || got.lastErr != "" {
		t.Errorf("second mail: got attempts %d, error %q; want it untouched", got.Attempts, got.lastErr)
	}
	if lo, hi := t0.Add(24*time.Second), t0.Add(30*time.Second); got.NextAttempt.Before(lo) || got.NextAttempt.After(hi) {
		t.Errorf("next attempt: got %v, want between %v and %v", got.NextAttempt, lo, hi)
	}

	// With the server up, the second mail goes out; the first waits
	// until its next attempt is due.
	be := &backend{}
	setting.set(NewSMTP(Config{Host: "127.0.0.1", Port: startServer(t, be, plainServer), TLS: NoTLS}))
	clk.set(t0.Add(10 * time.Second))
	newWorker().drain(t.Context())
	if got := ob.get(id); got.Attempts != 1 || !got.sentAt.IsZero() {
		t.Fatalf("before it was due: got attempts %d, sent at %v; want 1, unsent", got.Attempts, got.sentAt)
	}
	if got := ob.get(second); !got.sentAt.Equal(t0.Add(10*time.Second)) || got.Attempts != 1 {
		t.Errorf("second mail: got sent at %v, attempts %d; want %v, 1", got.sentAt, got.Attempts, t0.Add(10*time.Second))
	}

	// Once due, a new worker (as after a restart) sends it.
	clk.set(t0.Add(time.Minute))
	newWorker().drain(t.Context())
	got = ob.get(id)
	if !got.sentAt.Equal(t0.Add(time.Minute)) || got.Attempts != 2 {
		t.Errorf("after the server came up: got sent at %v, attempts %d; want %v, 2", got.sentAt, got.Attempts, t0.Add(time.Minute))
	}
	if n := len(be.messages()); n != 2 {
		t.Errorf("server got %d messages, want 2", n)
	}
}

func TestWorkerPermanentReply(t *testing.T) {
	be := &backend{rcptErr: &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}}
	s := NewSMTP(Config{Host: "127.0.0.1", Port: startServer(t, be, plainServer), TLS: NoTLS})
	ob := newMemOutbox()
	id := ob.add(testMessage(), 0)
	clk := &clock{t: t0}
	var notified []error
	w := NewWorker(ob, func() Sender { return s }, WithClock(clk.now),
		WithNotify(func(o Outgoing, err error) { notified = append(notified, err) }))

	w.drain(t.Context())
	got := ob.get(id)
	if !got.permanent || got.Attempts != 1 || !got.NextAttempt.IsZero() {
		t.Errorf("got permanent %v, attempts %d, next %v; want true, 1, zero", got.permanent, got.Attempts, got.NextAttempt)
	}
	if len(notified) != 1 || !IsPermanent(notified[0]) {
		t.Errorf("notified %v, want one permanent error", notified)
	}
	// Given up means given up.
	clk.set(t0.Add(48 * time.Hour))
	w.drain(t.Context())
	if got := ob.get(id); got.Attempts != 1 {
		t.Errorf("a permanent failure was retried: attempts %d", got.Attempts)
	}
}

func TestWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	var f Fake
	cause := errors.New("connection reset by peer")
	f.SetErr(cause)
	ob := newMemOutbox()
	early := ob.add(testMessage(), 3)
	last := ob.add(testMessage(), 19) // attempts made before a restart
	var notified []Outgoing
	var errs []error
	w := NewWorker(ob, func() Sender { return &f }, WithClock(func() time.Time { return t0 }), WithMaxAttempts(20),
		WithNotify(func(o Outgoing, err error) { notified, errs = append(notified, o), append(errs, err) }))
	w.drain(t.Context())

	tests := []struct {
		id            int64
		wantAttempts  int
		wantPermanent bool
	}{
		{early, 4, false},
		{last, 20, true},
	}
	for _, tt := range tests {
		got := ob.get(tt.id)
		if got.Attempts != tt.wantAttempts || got.permanent != tt.wantPermanent {
			t.Errorf("mail %d: got attempts %d, permanent %v; want %d, %v", tt.id, got.Attempts, got.permanent, tt.wantAttempts, tt.wantPermanent)
		}
	}
	if len(notified) != 2 || notified[0].Attempts != 4 || notified[1].Attempts != 20 {
		t.Fatalf("notified %+v, want attempts 4 then 20", notified)
	}
	if IsPermanent(errs[0]) || !IsPermanent(errs[1]) || !errors.Is(errs[1], cause) {
		t.Errorf("notified errors %v: want the first retryable, the second permanent and wrapping %v", errs, cause)
	}
}

func TestWorkerWithoutSender(t *testing.T) {
	for name, sender := range map[string]func() Sender{
		"nil func":      nil,
		"returning nil": func() Sender { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			ob := newMemOutbox()
			id := ob.add(testMessage(), 0)
			NewWorker(ob, sender).drain(t.Context())
			if due, marks := ob.counts(); due != 0 || marks != 0 {
				t.Errorf("got %d reads and %d marks, want none", due, marks)
			}
			if got := ob.get(id); got.Attempts != 0 {
				t.Errorf("attempts: got %d, want 0", got.Attempts)
			}
		})
	}
}

func TestWorkerDrainsMoreThanABatch(t *testing.T) {
	var f Fake
	ob := newMemOutbox()
	for range 5 {
		ob.add(testMessage(), 0)
	}
	NewWorker(ob, func() Sender { return &f }, WithBatchSize(2)).drain(t.Context())
	if n := len(f.Sent()); n != 5 {
		t.Errorf("sent %d mails, want 5", n)
	}
}

func TestWorkerWake(t *testing.T) {
	be := &backend{}
	s := NewSMTP(Config{Host: "127.0.0.1", Port: startServer(t, be, plainServer), TLS: NoTLS})
	ob := newMemOutbox()
	ob.dueSeen = make(chan struct{}, 10)
	events := make(chan error, 10)
	// An hour's poll: only Wake can make this test pass in time.
	w := NewWorker(ob, func() Sender { return s }, WithPollInterval(time.Hour),
		WithNotify(func(o Outgoing, err error) { events <- err }))
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(stopped)
	}()
	defer func() {
		cancel()
		<-stopped
	}()

	wait := func(what string, c <-chan struct{}) {
		t.Helper()
		select {
		case <-c:
		case <-time.After(guard):
			t.Fatalf("no %s", what)
		}
	}
	wait("first look at the outbox", ob.dueSeen) // it was empty
	id := ob.add(testMessage(), 0)
	w.Wake()
	w.Wake() // coalesces; must not block
	select {
	case err := <-events:
		if err != nil {
			t.Fatalf("send: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("Wake did not send the queued mail")
	}
	if got := ob.get(id); got.sentAt.IsZero() {
		t.Errorf("mail not marked sent")
	}
	if n := len(be.messages()); n != 1 {
		t.Errorf("server got %d messages, want 1", n)
	}
}

// blockingSender reports each call and then waits for its context to end.
type blockingSender struct{ called chan struct{} }

func (b blockingSender) Send(ctx context.Context, m Message) error {
	b.called <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func TestWorkerShutdownLeavesMailQueued(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add(testMessage(), 2)
	bs := blockingSender{called: make(chan struct{}, 1)}
	w := NewWorker(ob, func() Sender { return bs })
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(stopped)
	}()
	select {
	case <-bs.called:
	case <-time.After(guard):
		t.Fatal("the worker never tried to send")
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(guard):
		t.Fatal("Run did not return after its context ended")
	}
	if got := ob.get(id); got.Attempts != 2 || got.lastErr != "" {
		t.Errorf("got attempts %d, error %q; want the mail untouched (2, none)", got.Attempts, got.lastErr)
	}
}

func TestWorkerBackoff(t *testing.T) {
	w := NewWorker(nil, nil)
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{1, 30 * time.Second},
		{2, time.Minute},
		{3, 2 * time.Minute},
		{7, 32 * time.Minute},
		{8, time.Hour},
		{20, time.Hour},
		{500, time.Hour},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempts), func(t *testing.T) {
			w.jitter = func(time.Duration) time.Duration { return 0 }
			if got := w.backoff(tt.attempts); got != tt.want {
				t.Errorf("no jitter: got %v, want %v", got, tt.want)
			}
			w.jitter = func(n time.Duration) time.Duration { return n - 1 }
			if got, lo := w.backoff(tt.attempts), tt.want*4/5; got <= lo || got > tt.want {
				t.Errorf("most jitter: got %v, want in (%v, %v]", got, lo, tt.want)
			}
		})
	}
}

func TestWorkerWrongPasswordKeepsQueue(t *testing.T) {
	// A 5xx to AUTH is permanent for Send, but it is the settings that are
	// wrong, not the mails: they wait until the admin fixes the password.
	be := &backend{user: "postern", pass: "right"}
	port := startServer(t, be, implicitServer)
	cfg := Config{Host: "127.0.0.1", Port: port, TLS: ImplicitTLS, InsecureSkipVerify: true, Username: "postern", Password: "wrong"}
	setting := &senderVar{}
	setting.set(NewSMTP(cfg))
	ob := newMemOutbox()
	first, second := ob.add(testMessage(), 0), ob.add(testMessage(), 0)
	clk := &clock{t: t0}
	var errs []error
	w := NewWorker(ob, setting.get, WithClock(clk.now), WithNotify(func(o Outgoing, err error) { errs = append(errs, err) }))

	w.drain(t.Context())
	if got := ob.get(first); got.permanent || got.Attempts != 1 || got.NextAttempt.IsZero() {
		t.Errorf("first mail: got permanent %v, attempts %d, next %v; want a retry", got.permanent, got.Attempts, got.NextAttempt)
	}
	if got := ob.get(second); got.Attempts != 0 {
		t.Errorf("second mail: got attempts %d, want 0", got.Attempts)
	}
	if len(errs) != 1 || IsPermanent(errs[0]) {
		t.Errorf("notified %v, want one retryable error", errs)
	}

	cfg.Password = "right"
	setting.set(NewSMTP(cfg))
	clk.set(t0.Add(time.Hour))
	w.drain(t.Context())
	for _, id := range []int64{first, second} {
		if got := ob.get(id); got.sentAt.IsZero() {
			t.Errorf("mail %d not sent after the password was fixed: %s", id, got.lastErr)
		}
	}
}

// failingOutbox cannot record that a mail was sent.
type failingOutbox struct{ *memOutbox }

func (failingOutbox) MarkOutboxSent(context.Context, int64, time.Time) error {
	return errors.New("database is locked")
}

func TestWorkerStopsWhenOutboxFails(t *testing.T) {
	var f Fake
	ob := failingOutbox{newMemOutbox()}
	for range 3 {
		ob.add(testMessage(), 0)
	}
	NewWorker(ob, func() Sender { return &f }, WithLogger(quietLogger())).drain(t.Context())
	// Going on would send mails the store cannot mark, and send them
	// again on the next round.
	if n := len(f.Sent()); n != 1 {
		t.Errorf("sent %d mails, want 1", n)
	}
}

// cancellingSender cancels a mail while it sends the first, as an admin
// reissuing a code while the worker works through a batch does.
type cancellingSender struct {
	Fake
	ob     *memOutbox
	victim int64
}

func (c *cancellingSender) Send(ctx context.Context, m Message) error {
	c.ob.cancel(c.victim)
	return c.Fake.Send(ctx, m)
}

// TestWorkerSkipsMailCancelledInItsBatch: a mail cancelled after the
// worker read its batch is not sent.
func TestWorkerSkipsMailCancelledInItsBatch(t *testing.T) {
	ob := newMemOutbox()
	first, second, third := ob.add(testMessage(), 0), ob.add(testMessage(), 0), ob.add(testMessage(), 0)
	s := &cancellingSender{ob: ob, victim: second}
	NewWorker(ob, func() Sender { return s }, WithLogger(quietLogger())).drain(t.Context())
	if n := len(s.Sent()); n != 2 {
		t.Errorf("sent %d mails, want 2 (not the cancelled one)", n)
	}
	for _, id := range []int64{first, third} {
		if ob.get(id).sentAt.IsZero() {
			t.Errorf("mail %d was not sent", id)
		}
	}
	if got := ob.get(second); !got.sentAt.IsZero() || got.Attempts != 0 {
		t.Errorf("the cancelled mail: sent at %v after %d attempts, want never tried", got.sentAt, got.Attempts)
	}
}
