package ble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// startAir serves an air on a loopback port until the test ends.
func startAir(t *testing.T, opts AirOptions) (*Air, string) {
	t.Helper()
	if opts.AdvertInterval == 0 {
		opts.AdvertInterval = 20 * time.Millisecond
	}
	a := NewAir(opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(l) }()
	t.Cleanup(func() {
		a.Close()
		if err := recv(t, served, "Serve to return"); !errors.Is(err, ErrAirClosed) {
			t.Errorf("Serve: got %v, want ErrAirClosed", err)
		}
	})
	return a, l.Addr().String()
}

// listenAir attaches a reader that queues every candidate it hears.
func listenAir(t *testing.T, a *Air, name string) (<-chan Candidate, context.CancelFunc, <-chan error) {
	t.Helper()
	cands := make(chan Candidate, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.Radio().Listen(ctx, name, func(c Candidate) {
			select {
			case cands <- c:
			default: // never block the air
			}
		})
	}()
	t.Cleanup(cancel)
	if err := a.WaitReader(guardCtx(t), name); err != nil {
		t.Fatal(err)
	}
	return cands, cancel, done
}

func TestAirExchange(t *testing.T) {
	tests := []struct {
		name        string
		discovery   Discovery
		wantInbound bool
	}{
		{name: "key advertises", discovery: DiscoverAdvertise},
		{name: "key connects to the reader", discovery: DiscoverConnect, wantInbound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := guardCtx(t)
			a, addr := startAir(t, AirOptions{})
			cands, _, _ := listenAir(t, a, "front")

			ap, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -55, Touch: true, Discovery: tt.discovery})
			if err != nil {
				t.Fatalf("DialAir: %v", err)
			}
			defer ap.Close()
			c := recv(t, cands, "the candidate")
			if c.Addr != ap.Addr() || c.RSSI != -55 || !c.Touch || c.Inbound != tt.wantInbound {
				t.Fatalf("candidate %+v, want addr %s, RSSI -55, touch, inbound %v", c, ap.Addr(), tt.wantInbound)
			}
			reader, err := c.Connect(ctx)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer reader.Close()
			if _, err := c.Connect(ctx); !errors.Is(err, ErrTaken) {
				t.Fatalf("second Connect: got %v, want ErrTaken", err)
			}
			key, err := ap.Link(ctx)
			if err != nil {
				t.Fatalf("Link: %v", err)
			}

			big := []byte(strings.Repeat("x", 4000))
			for _, msg := range [][]byte{[]byte("challenge"), {}, big} {
				if err := reader.Send(ctx, msg); err != nil {
					t.Fatalf("reader Send: %v", err)
				}
				got, err := key.Recv(ctx)
				if err != nil || string(got) != string(msg) {
					t.Fatalf("key got %q, %v; want %q", got, err, msg)
				}
				reply := append([]byte("re:"), msg...)
				if err := key.Send(ctx, reply); err != nil {
					t.Fatalf("key Send: %v", err)
				}
				got, err = reader.Recv(ctx)
				if err != nil || string(got) != string(reply) {
					t.Fatalf("reader got %q, %v; want %q", got, err, reply)
				}
			}

			// The key hangs up: the reader sees the end of the link.
			key.Close()
			if _, err := reader.Recv(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("reader Recv after the key left: got %v, want EOF", err)
			}
		})
	}
}

func TestAirReaderHangsUpAfterLastMessage(t *testing.T) {
	ctx := guardCtx(t)
	// Latency keeps the result in flight when the reader closes: it must
	// still arrive, before the end of the link.
	a, addr := startAir(t, AirOptions{Faults: Faults{Latency: 50 * time.Millisecond}})
	cands, _, _ := listenAir(t, a, "front")
	ap, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -50})
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	reader, err := recv(t, cands, "the candidate").Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ap.Link(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reader.Send(ctx, []byte("one"))
	reader.Send(ctx, []byte("result"))
	reader.Close()
	for _, want := range []string{"one", "result"} {
		if got, err := key.Recv(ctx); err != nil || string(got) != want {
			t.Fatalf("key got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := key.Recv(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("key Recv after the reader hung up: got %v, want EOF", err)
	}
}

func TestAirRefusals(t *testing.T) {
	tests := []struct {
		name     string
		p        Presence
		wantIs   error
		wantCode string
		wantMsg  string
	}{
		{name: "unknown reader", p: Presence{Reader: "x", RSSI: -50}, wantIs: ErrNoReader, wantCode: airErrNoReader, wantMsg: `no reader named "x"`},
		{name: "impossible RSSI", p: Presence{Reader: "front", RSSI: 40}, wantCode: airErrBadHello, wantMsg: "RSSI 40 dBm is out of range (-127 to 20)"},
		// The name is not quoted back, nor logged, whole.
		{name: "a reader's name as long as a frame allows", p: Presence{Reader: strings.Repeat("x", 60<<10), RSSI: -50}, wantCode: airErrBadHello, wantMsg: "the reader's name is longer than 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, addr := startAir(t, AirOptions{})
			listenAir(t, a, "front")
			_, err := DialAir(guardCtx(t), addr, tt.p)
			var airErr *AirError
			if !errors.As(err, &airErr) {
				t.Fatalf("got %v, want an AirError", err)
			}
			if airErr.Code != tt.wantCode || err.Error() != tt.wantMsg {
				t.Fatalf("got %s %q, want %s %q", airErr.Code, err, tt.wantCode, tt.wantMsg)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("got %v, want it to match %v", err, tt.wantIs)
			}
		})
	}
}

func TestAirNoAirRunning(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = DialAir(guardCtx(t), addr, Presence{Reader: "front"})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the simulated air") {
		t.Fatalf("got %v, want a cannot-reach error", err)
	}
}

func TestAirKeyNotTakenUp(t *testing.T) {
	a, addr := startAir(t, AirOptions{})
	// A reader that hears the key but never connects: out of range for it.
	listenAir(t, a, "front")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := AirKeyRadio{Addr: addr}.Present(ctx, Presence{Reader: "front", RSSI: -99})
	if !errors.Is(err, ErrNotTakenUp) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrNotTakenUp after the deadline", err)
	}
	if !strings.Contains(err.Error(), `reader "front" did not take the key up`) {
		t.Fatalf("message %q does not say which reader did not answer", err)
	}
}

func TestAirReaderStopsWhileKeyWaits(t *testing.T) {
	ctx := guardCtx(t)
	a, addr := startAir(t, AirOptions{})
	cands, stop, done := listenAir(t, a, "front")
	ap, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -50})
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	recv(t, cands, "the candidate")
	stop()
	if err := recv(t, done, "Listen to return"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Listen: got %v, want context.Canceled", err)
	}
	_, err = ap.Link(ctx)
	var airErr *AirError
	if !errors.As(err, &airErr) || airErr.Code != airErrReaderStopped {
		t.Fatalf("got %v, want the reader-stopped refusal", err)
	}
}

func TestAirDuplicateReader(t *testing.T) {
	a, _ := startAir(t, AirOptions{})
	listenAir(t, a, "front")
	err := a.Radio().Listen(guardCtx(t), "front", func(Candidate) {})
	if err == nil || !strings.Contains(err.Error(), "already listening") {
		t.Fatalf("got %v, want already listening", err)
	}
}

func TestAirCloseEndsListen(t *testing.T) {
	a := NewAir(AirOptions{})
	done := make(chan error, 1)
	go func() { done <- a.Radio().Listen(context.Background(), "front", func(Candidate) {}) }()
	if err := a.WaitReader(guardCtx(t), "front"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := recv(t, done, "Listen to return"); !errors.Is(err, ErrAirClosed) {
		t.Fatalf("Listen: got %v, want ErrAirClosed", err)
	}
}

// TestAirFaults runs whole exchanges through a reader over a faulty air.
func TestAirFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		// wantDone: the exchange completes; otherwise it is cut off.
		wantDone bool
	}{
		{name: "clean", wantDone: true},
		{name: "latency", faults: Faults{Latency: 30 * time.Millisecond}, wantDone: true},
		{name: "relay", faults: Faults{RelayDelay: 40 * time.Millisecond}, wantDone: true},
		{name: "everything lost", faults: Faults{Drop: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := guardCtx(t)
			a, addr := startAir(t, AirOptions{Faults: tt.faults})
			rec := newRecorder()
			limit := guard / 2
			if !tt.wantDone {
				limit = 300 * time.Millisecond
			}
			runAirReader(t, a, ReaderConfig{Binding: "sim:front", ExchangeTimeout: limit}, echoExchanger, rec)

			keyDone := make(chan error, 1)
			go func() {
				l, err := AirKeyRadio{Addr: addr}.Present(ctx, Presence{Reader: "front", RSSI: -50})
				if err != nil {
					keyDone <- err
					return
				}
				keyDone <- echoKey(ctx, l)
			}()
			o := recv(t, rec.finished, "the exchange")
			if tt.wantDone {
				if o.err != nil {
					t.Fatalf("exchange: %v", o.err)
				}
				if err := recv(t, keyDone, "the key"); err != nil {
					t.Fatalf("key: %v", err)
				}
				return
			}
			if !errors.Is(o.err, ErrExchangeTimeout) {
				t.Fatalf("exchange over a dead air: got %v, want ErrExchangeTimeout", o.err)
			}
			if err := recv(t, keyDone, "the key"); err == nil {
				t.Fatal("key finished an exchange whose messages were all lost")
			}
		})
	}
}

func TestAirPartialDrop(t *testing.T) {
	ctx := guardCtx(t)
	a, addr := startAir(t, AirOptions{Seed: 7})
	cands, _, _ := listenAir(t, a, "front")
	ap, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -50})
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	reader, err := recv(t, cands, "the candidate").Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ap.Link(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.SetFaults(Faults{Drop: 0.5})
	const sent = 200
	for i := range sent {
		reader.Send(ctx, fmt.Appendf(nil, "%d", i))
	}
	// Links are FIFO: once faults are off, a marker arrives after
	// every survivor.
	a.SetFaults(Faults{})
	reader.Send(ctx, []byte("end"))
	got := 0
	for {
		m, err := key.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(m) == "end" {
			break
		}
		got++
	}
	if got == 0 || got == sent {
		t.Fatalf("%d of %d messages arrived with half lost, want some but not all", got, sent)
	}
}

// runAirReader runs a Reader with ex on the air until the test ends.
func runAirReader(t *testing.T, a *Air, cfg ReaderConfig, ex Exchanger, rec *recorder) {
	t.Helper()
	r, err := NewReader(a.Radio(), cfg, ReaderOptions{Exchanger: ex, Hooks: rec.hooks()})
	if err != nil {
		t.Fatal(err)
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
	b, _ := ParseBinding(cfg.Binding)
	if err := a.WaitReader(guardCtx(t), b.Reader); err != nil {
		t.Fatal(err)
	}
}

func TestReaderHundredKeysOverAir(t *testing.T) {
	ctx := guardCtx(t)
	a, addr := startAir(t, AirOptions{})
	rec := newRecorder()
	runAirReader(t, a, ReaderConfig{Binding: "sim:front", ExchangeTimeout: guard / 2}, echoExchanger, rec)

	const keys = 100
	var wg sync.WaitGroup
	keyErrs := make(chan error, keys)
	for range keys {
		wg.Go(func() {
			l, err := AirKeyRadio{Addr: addr}.Present(ctx, Presence{Reader: "front", RSSI: -50})
			if err == nil {
				err = echoKey(ctx, l)
			}
			keyErrs <- err
		})
	}
	seen := make(map[string]bool)
	for range keys {
		o := recv(t, rec.finished, "the exchanges")
		if o.err != nil {
			t.Fatalf("key %s: %v", o.addr, o.err)
		}
		seen[o.addr] = true
	}
	wg.Wait()
	close(keyErrs)
	for err := range keyErrs {
		if err != nil {
			t.Fatalf("key side: %v", err)
		}
	}
	if len(seen) != keys {
		t.Fatalf("%d distinct keys exchanged, want %d", len(seen), keys)
	}
}
