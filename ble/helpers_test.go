package ble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// guard bounds every wait in these tests. It is a safety net against a hung
// test, never what a test asserts: outcomes are checked, not durations.
const guard = 20 * time.Second

func guardCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

// echoExchanger is the trivial exchange: send a challenge naming the key,
// expect it back.
var echoExchanger = ExchangerFunc(func(ctx context.Context, ap ReaderConfig, c Candidate, link Link) error {
	challenge := []byte("challenge for " + c.Addr)
	if err := link.Send(ctx, challenge); err != nil {
		return err
	}
	resp, err := link.Recv(ctx)
	if err != nil {
		return err
	}
	if !bytes.Equal(resp, challenge) {
		return fmt.Errorf("got %q, want %q", resp, challenge)
	}
	return nil
})

// echoKey answers one message with itself, then waits for the reader to
// hang up.
func echoKey(ctx context.Context, l Link) error {
	defer l.Close()
	m, err := l.Recv(ctx)
	if err != nil {
		return err
	}
	if err := l.Send(ctx, m); err != nil {
		return err
	}
	if _, err = l.Recv(ctx); !errors.Is(err, io.EOF) {
		return fmt.Errorf("after the exchange: got %v, want EOF", err)
	}
	return nil
}

// pipeKey is a key reachable over an in-memory Pipe; serve runs the key's
// side once the reader connects.
type pipeKey struct {
	addr     string
	rssi     int
	touch    bool
	serve    func(ctx context.Context, l Link)
	connects atomic.Int32
}

func (k *pipeKey) candidate() Candidate {
	return Candidate{
		Addr:  k.addr,
		RSSI:  k.rssi,
		Touch: k.touch,
		Connect: func(ctx context.Context) (Link, error) {
			k.connects.Add(1)
			reader, key := Pipe()
			go k.serve(context.Background(), key)
			return reader, nil
		},
	}
}

func echoServe(ctx context.Context, l Link) { echoKey(ctx, l) }

// silentServe connects and never answers, like a hostile or broken key.
func silentServe(ctx context.Context, l Link) {}

// fakeRadio is a Radio the test drives by hand: hear delivers a sighting
// synchronously, as a radio's event loop would.
type fakeRadio struct {
	mu        sync.Mutex
	found     map[string]func(Candidate)
	listening chan string
	stopped   chan string
}

var _ Radio = (*fakeRadio)(nil)

func newFakeRadio() *fakeRadio {
	return &fakeRadio{
		found:     make(map[string]func(Candidate)),
		listening: make(chan string, 64),
		stopped:   make(chan string, 64),
	}
}

func (f *fakeRadio) Listen(ctx context.Context, reader string, found func(Candidate)) error {
	f.mu.Lock()
	f.found[reader] = found
	f.mu.Unlock()
	f.listening <- reader
	<-ctx.Done()
	f.mu.Lock()
	delete(f.found, reader)
	f.mu.Unlock()
	f.stopped <- reader
	return ctx.Err()
}

func (f *fakeRadio) hear(t *testing.T, reader string, c Candidate) {
	t.Helper()
	f.mu.Lock()
	fn := f.found[reader]
	f.mu.Unlock()
	if fn == nil {
		t.Fatalf("reader %q is not listening", reader)
	}
	fn(c)
}

// hearKey delivers DefaultRSSISamples sightings of c, as a key in range is
// heard several times a second: the reader judges a key on the median of a
// few samples, never on one.
func (f *fakeRadio) hearKey(t *testing.T, reader string, c Candidate) {
	t.Helper()
	for range DefaultRSSISamples {
		f.hear(t, reader, c)
	}
}

// outcome is one Finished report.
type outcome struct {
	addr string
	err  error
}

type skip struct {
	addr string
	why  SkipReason
}

// recorder collects a reader's hooks on channels.
type recorder struct {
	finished chan outcome
	skipped  chan skip
}

func newRecorder() *recorder {
	return &recorder{finished: make(chan outcome, 1024), skipped: make(chan skip, 1024)}
}

func (r *recorder) hooks() ReaderHooks {
	return ReaderHooks{
		Skipped:  func(ap ReaderConfig, c Candidate, why SkipReason) { r.skipped <- skip{c.Addr, why} },
		Finished: func(ap ReaderConfig, c Candidate, err error) { r.finished <- outcome{c.Addr, err} },
	}
}

// startReader runs a reader until the test ends and waits until it listens.
func startReader(t *testing.T, radio *fakeRadio, cfg ReaderConfig, ex Exchanger, rec *recorder) *Reader {
	t.Helper()
	r, err := NewReader(radio, cfg, ReaderOptions{Exchanger: ex, Hooks: rec.hooks()})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := recv(t, done, "the reader to stop"); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	recv(t, radio.listening, "the reader to listen")
	return r
}
