package ble

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"postern/access"
)

func TestReaderRSSIGate(t *testing.T) {
	tests := []struct {
		name      string
		mode      access.Mode
		threshold int
		rssi      int
		touch     bool
		want      bool // processed; otherwise skipped as weak
	}{
		{name: "direct default at threshold", mode: access.ModeDirect, rssi: -60, want: true},
		{name: "direct default above", mode: access.ModeDirect, rssi: -45, want: true},
		{name: "direct default below", mode: access.ModeDirect, rssi: -61},
		{name: "direct calibrated", mode: access.ModeDirect, threshold: -70, rssi: -68, want: true},
		{name: "direct calibrated below", mode: access.ModeDirect, threshold: -50, rssi: -55},
		{name: "long-range far car", mode: access.ModeLongRange, rssi: -88, want: true},
		{name: "long-range out of reach", mode: access.ModeLongRange, rssi: -95},
		{name: "touch near", mode: access.ModeTouch, rssi: -70, touch: true, want: true},
		{name: "touch too far even when touched", mode: access.ModeTouch, rssi: -80, touch: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			radio := newFakeRadio()
			rec := newRecorder()
			cfg := ReaderConfig{ID: 1, Name: "Front", Binding: "sim:front", Mode: tt.mode, RSSIThreshold: tt.threshold, TouchWindow: 50 * time.Millisecond}
			startReader(t, radio, cfg, echoExchanger, rec)
			k := &pipeKey{addr: "k1", rssi: tt.rssi, touch: tt.touch, serve: echoServe}
			radio.hearKey(t, "front", k.candidate())
			if tt.want {
				o := recv(t, rec.finished, "the exchange")
				if o.err != nil {
					t.Fatalf("exchange: %v", o.err)
				}
				return
			}
			// A weak key is reported synchronously and never connected.
			select {
			case s := <-rec.skipped:
				if s.why != SkipWeakSignal {
					t.Fatalf("skipped for %v, want %v", s.why, SkipWeakSignal)
				}
			default:
				t.Fatal("weak key was not reported as skipped")
			}
			if n := k.connects.Load(); n != 0 {
				t.Fatalf("weak key connected %d times, want 0", n)
			}
		})
	}
}

func TestReaderWeakReportedOncePerStay(t *testing.T) {
	radio := newFakeRadio()
	rec := newRecorder()
	startReader(t, radio, ReaderConfig{Binding: "sim:front"}, echoExchanger, rec)
	k := &pipeKey{addr: "k1", rssi: -90, serve: echoServe}
	for range 20 {
		radio.hear(t, "front", k.candidate())
	}
	if got := len(rec.skipped); got != 1 {
		t.Fatalf("got %d skip reports for one stay, want 1", got)
	}
	// Walking up to the reader: the same stay, now strong enough. The
	// median of the latest samples follows within a few adverts.
	k.rssi = -50
	for range maxRSSISamples/2 + 1 {
		radio.hear(t, "front", k.candidate())
	}
	if o := recv(t, rec.finished, "the exchange"); o.err != nil {
		t.Fatalf("exchange: %v", o.err)
	}
}

func TestReaderTouchPicksNearest(t *testing.T) {
	tests := []struct {
		name string
		// arm is done by Reader.Touch when no key carries the touch.
		keys []*pipeKey
		want string
	}{
		{
			name: "input line touch",
			keys: []*pipeKey{{addr: "far", rssi: -70}, {addr: "near", rssi: -50}, {addr: "mid", rssi: -60}},
			want: "near",
		},
		{
			name: "key's own touch arms, nearest still wins",
			keys: []*pipeKey{{addr: "toucher", rssi: -65, touch: true}, {addr: "nearer", rssi: -55}},
			want: "nearer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			radio := newFakeRadio()
			rec := newRecorder()
			cfg := ReaderConfig{Binding: "sim:gate", Mode: access.ModeTouch, TouchWindow: 300 * time.Millisecond}
			r := startReader(t, radio, cfg, echoExchanger, rec)

			// Heard before any touch: not armed.
			early := &pipeKey{addr: "early", rssi: -40, serve: echoServe}
			radio.hearKey(t, "gate", early.candidate())
			if s := recv(t, rec.skipped, "the not-armed report"); s != (skip{"early", SkipNotArmed}) {
				t.Fatalf("got %+v, want early skipped as not armed", s)
			}

			anyTouch := slices.ContainsFunc(tt.keys, func(k *pipeKey) bool { return k.touch })
			if !anyTouch && !r.Touch() {
				t.Fatal("Touch reported the reader is not in touch mode")
			}
			for _, k := range tt.keys {
				k.serve = echoServe
				radio.hearKey(t, "gate", k.candidate())
			}
			o := recv(t, rec.finished, "the exchange")
			if o.err != nil || o.addr != tt.want {
				t.Fatalf("took up %s (err %v), want %s", o.addr, o.err, tt.want)
			}
			for range len(tt.keys) - 1 {
				if s := recv(t, rec.skipped, "a not-nearest report"); s.why != SkipNotNearest {
					t.Fatalf("got %+v, want a not-nearest skip", s)
				}
			}
			for _, k := range append(tt.keys, early) {
				want := int32(0)
				if k.addr == tt.want {
					want = 1
				}
				if got := k.connects.Load(); got != want {
					t.Errorf("%s connected %d times, want %d", k.addr, got, want)
				}
			}
		})
	}
}

func TestReaderTouchOnlyInTouchMode(t *testing.T) {
	radio := newFakeRadio()
	r := startReader(t, radio, ReaderConfig{Binding: "sim:front"}, echoExchanger, newRecorder())
	if r.Touch() {
		t.Fatal("a direct-mode reader accepted a touch")
	}
}

func TestReaderDebounce(t *testing.T) {
	radio := newFakeRadio()
	rec := newRecorder()
	cfg := ReaderConfig{Binding: "sim:front", Debounce: 200 * time.Millisecond}
	startReader(t, radio, cfg, echoExchanger, rec)
	k := &pipeKey{addr: "k1", rssi: -50, serve: echoServe}

	// A key staying in range advertises over and over: one exchange.
	for range 50 {
		radio.hear(t, "front", k.candidate())
	}
	if o := recv(t, rec.finished, "the exchange"); o.err != nil {
		t.Fatalf("exchange: %v", o.err)
	}
	for range 10 {
		radio.hear(t, "front", k.candidate())
	}
	if got := k.connects.Load(); got != 1 {
		t.Fatalf("key staying in range connected %d times, want 1", got)
	}

	// Gone for longer than the debounce, then back: a new stay.
	time.Sleep(2 * cfg.Debounce)
	radio.hearKey(t, "front", k.candidate())
	if o := recv(t, rec.finished, "the second exchange"); o.err != nil {
		t.Fatalf("second exchange: %v", o.err)
	}
	if got := k.connects.Load(); got != 2 {
		t.Fatalf("key back in range connected %d times in all, want 2", got)
	}
}

func TestReaderSlowKeyDoesNotStallOthers(t *testing.T) {
	radio := newFakeRadio()
	rec := newRecorder()
	// Few slots and a long limit: if the silent key could stall the
	// reader, the others could not all finish while it still hangs.
	cfg := ReaderConfig{Binding: "sim:front", MaxConcurrent: 2, ExchangeTimeout: time.Hour}
	startReader(t, radio, cfg, echoExchanger, rec)

	hostile := &pipeKey{addr: "hostile", rssi: -40, serve: silentServe}
	// The silent key is dialled on a goroutine of its own, which a loaded
	// machine may run after every honest key is done: count its connects
	// only once the first has happened.
	hc := hostile.candidate()
	dial := hc.Connect
	connected := make(chan struct{}, 8)
	hc.Connect = func(ctx context.Context) (Link, error) {
		defer func() { connected <- struct{}{} }()
		return dial(ctx)
	}
	radio.hearKey(t, "front", hc)
	for i := range 20 {
		k := &pipeKey{addr: fmt.Sprintf("k%02d", i), rssi: -50, serve: echoServe}
		radio.hearKey(t, "front", k.candidate())
	}
	for range 20 {
		o := recv(t, rec.finished, "the honest keys' exchanges")
		if o.addr == "hostile" {
			t.Fatalf("the silent key finished (%v) before the honest ones", o.err)
		}
		if o.err != nil {
			t.Fatalf("key %s: %v", o.addr, o.err)
		}
	}
	recv(t, connected, "the silent key's connect")
	if got := hostile.connects.Load(); got != 1 {
		t.Fatalf("silent key connected %d times, want 1", got)
	}
}

func TestReaderHardLimitPerKey(t *testing.T) {
	tests := []struct {
		name string
		key  Candidate
	}{
		{name: "key never answers", key: (&pipeKey{addr: "silent", rssi: -50, serve: silentServe}).candidate()},
		{name: "connect hangs", key: Candidate{Addr: "hang", RSSI: -50, Connect: func(ctx context.Context) (Link, error) {
			select {} // a radio that ignores its context
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			radio := newFakeRadio()
			rec := newRecorder()
			startReader(t, radio, ReaderConfig{Binding: "sim:front", ExchangeTimeout: 100 * time.Millisecond}, echoExchanger, rec)
			radio.hearKey(t, "front", tt.key)
			o := recv(t, rec.finished, "the cut-off exchange")
			if !errors.Is(o.err, ErrExchangeTimeout) {
				t.Fatalf("got %v, want ErrExchangeTimeout", o.err)
			}
		})
	}
}

func TestReaderUpdate(t *testing.T) {
	radio := newFakeRadio()
	rec := newRecorder()
	r := startReader(t, radio, ReaderConfig{Binding: "sim:front", RSSIThreshold: -60}, echoExchanger, rec)

	radio.hearKey(t, "front", (&pipeKey{addr: "a", rssi: -65, serve: echoServe}).candidate())
	if s := recv(t, rec.skipped, "the weak report"); s.why != SkipWeakSignal {
		t.Fatalf("got %v, want weak signal", s.why)
	}

	if err := r.Update(ReaderConfig{Binding: "sim:front", RSSIThreshold: -70}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	radio.hearKey(t, "front", (&pipeKey{addr: "b", rssi: -65, serve: echoServe}).candidate())
	if o := recv(t, rec.finished, "the exchange after lowering the threshold"); o.err != nil || o.addr != "b" {
		t.Fatalf("got %+v, want b exchanged", o)
	}

	if err := r.Update(ReaderConfig{Binding: "sim:front", Mode: access.ModeTouch}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	radio.hearKey(t, "front", (&pipeKey{addr: "c", rssi: -50, serve: echoServe}).candidate())
	if s := recv(t, rec.skipped, "the not-armed report"); s != (skip{"c", SkipNotArmed}) {
		t.Fatalf("got %+v, want c not armed", s)
	}
	if got := r.Config().RSSIThreshold; got != access.ModeTouch.DefaultRSSI() {
		t.Fatalf("threshold after switching mode: got %d, want the touch default %d", got, access.ModeTouch.DefaultRSSI())
	}

	bad := []struct {
		name string
		cfg  ReaderConfig
	}{
		{name: "another binding", cfg: ReaderConfig{Binding: "sim:back"}},
		{name: "unknown mode", cfg: ReaderConfig{Binding: "sim:front", Mode: "nearby"}},
		{name: "positive threshold", cfg: ReaderConfig{Binding: "sim:front", RSSIThreshold: 5}},
	}
	for _, tt := range bad {
		if err := r.Update(tt.cfg); err == nil {
			t.Errorf("Update with %s: got nil error", tt.name)
		}
	}
}
