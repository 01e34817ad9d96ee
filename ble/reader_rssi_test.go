package ble

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"postern/access"
)

// rssiExchanger records the signal each exchange was given.
func rssiExchanger(got chan<- int) Exchanger {
	return ExchangerFunc(func(ctx context.Context, ap ReaderConfig, c Candidate, link Link) error {
		got <- c.RSSI
		return echoExchanger(ctx, ap, c, link)
	})
}

func TestReaderRSSIWindow(t *testing.T) {
	tests := []struct {
		name     string
		offset   int
		samples  []int // heard in this order, within the window
		want     bool  // taken up; otherwise not (weak, or not heard enough)
		wantRSSI int   // what the exchange is given
	}{
		{name: "steady at the door", samples: []int{-55, -55, -55}, want: true, wantRSSI: -55},
		{name: "one reflection does not open", samples: []int{-40, -80, -80}},
		{name: "one dip does not hold shut", samples: []int{-55, -58, -90}, want: true, wantRSSI: -58},
		{name: "two samples are not enough", samples: []int{-50, -50}},
		{name: "walking up", samples: []int{-80, -75, -70, -58, -55, -52, -50}, want: true, wantRSSI: -58},
		{name: "calibrated up", offset: 10, samples: []int{-65, -66, -64}, want: true, wantRSSI: -55},
		{name: "calibrated down", offset: -10, samples: []int{-55, -55, -55}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			radio := newFakeRadio()
			rec := newRecorder()
			got := make(chan int, 1)
			startReader(t, radio, ReaderConfig{Binding: "sim:front", RSSIOffset: tt.offset}, rssiExchanger(got), rec)
			k := &pipeKey{addr: "k1", serve: echoServe}
			for _, dBm := range tt.samples {
				k.rssi = dBm
				radio.hear(t, "front", k.candidate())
			}
			if !tt.want {
				select {
				case o := <-rec.finished:
					t.Fatalf("taken up (%+v); want not", o)
				case <-time.After(50 * time.Millisecond):
				}
				if n := k.connects.Load(); n != 0 {
					t.Fatalf("connected %d times, want 0", n)
				}
				return
			}
			if o := recv(t, rec.finished, "the exchange"); o.err != nil {
				t.Fatal(o.err)
			}
			if rssi := <-got; rssi != tt.wantRSSI {
				t.Fatalf("the exchange was given %d dBm, want %d (the calibrated median)", rssi, tt.wantRSSI)
			}
		})
	}
}

func TestReaderRSSIWindowForgetsOldSamples(t *testing.T) {
	radio := newFakeRadio()
	rec := newRecorder()
	window := 100 * time.Millisecond
	startReader(t, radio, ReaderConfig{Binding: "sim:front", RSSIWindow: window}, echoExchanger, rec)
	k := &pipeKey{addr: "k1", rssi: -50, serve: echoServe}
	radio.hear(t, "front", k.candidate())
	radio.hear(t, "front", k.candidate())
	time.Sleep(2 * window)
	radio.hear(t, "front", k.candidate())
	if n := k.connects.Load(); n != 0 {
		t.Fatal("taken up on samples older than the window")
	}
	radio.hear(t, "front", k.candidate())
	radio.hear(t, "front", k.candidate())
	if o := recv(t, rec.finished, "the exchange"); o.err != nil {
		t.Fatal(o.err)
	}
}

func TestReaderTouchPicksNearestByMedian(t *testing.T) {
	radio := newFakeRadio()
	rec := newRecorder()
	r := startReader(t, radio, ReaderConfig{Binding: "sim:gate", Mode: access.ModeTouch, TouchWindow: 200 * time.Millisecond}, echoExchanger, rec)
	if !r.Touch() {
		t.Fatal("not in touch mode")
	}
	// spiky had the single strongest reading; steady is nearer.
	spiky := &pipeKey{addr: "spiky", serve: echoServe}
	steady := &pipeKey{addr: "steady", rssi: -52, serve: echoServe}
	for _, dBm := range []int{-40, -65, -66} {
		spiky.rssi = dBm
		radio.hear(t, "gate", spiky.candidate())
		radio.hear(t, "gate", steady.candidate())
	}
	if o := recv(t, rec.finished, "the exchange"); o.addr != "steady" {
		t.Fatalf("took up %s, want steady", o.addr)
	}
}

func TestReaderCalibrate(t *testing.T) {
	tests := []struct {
		name      string
		threshold int
		keys      map[string][]int // address: samples
		want      Calibration
		wantErr   error
	}{
		{
			name:      "nearest key sets the offset",
			threshold: -60,
			keys:      map[string][]int{"near": {-71, -70, -69}, "far": {-85, -86, -84}},
			want:      Calibration{Key: "near", Samples: []int{-71, -70, -69}, Median: -70, Threshold: -60, Offset: 10},
		},
		{
			name:      "a strong reader reads lower",
			threshold: -60,
			keys:      map[string][]int{"near": {-48, -50, -52}},
			want:      Calibration{Key: "near", Samples: []int{-48, -50, -52}, Median: -50, Threshold: -60, Offset: -10},
		},
		{name: "nobody there", threshold: -60, wantErr: ErrNoKeyToCalibrate},
		{name: "heard once only", threshold: -60, keys: map[string][]int{"near": {-60}}, wantErr: ErrNoKeyToCalibrate},
		{name: "not at the door", threshold: -60, keys: map[string][]int{"far": {-110, -110, -110}}, wantErr: ErrCalibrationOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			radio := newFakeRadio()
			rec := newRecorder()
			// Touch mode, never touched: keys are heard and never taken up.
			r := startReader(t, radio, ReaderConfig{Binding: "sim:front", Mode: access.ModeTouch, RSSIThreshold: tt.threshold}, echoExchanger, rec)
			for addr, samples := range tt.keys {
				k := &pipeKey{addr: addr, serve: echoServe}
				for _, dBm := range samples {
					k.rssi = dBm
					radio.hear(t, "front", k.candidate())
				}
			}
			got, err := r.Calibrate()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Calibrate: got error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Key != tt.want.Key || got.Median != tt.want.Median || got.Offset != tt.want.Offset ||
				got.Threshold != tt.want.Threshold || !slices.Equal(got.Samples, tt.want.Samples) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			// With the offset applied, the key where it stood reads as the
			// threshold, and is taken up.
			if err := r.Update(ReaderConfig{Binding: "sim:front", Mode: access.ModeDirect, RSSIThreshold: tt.threshold, RSSIOffset: got.Offset}); err != nil {
				t.Fatal(err)
			}
			k := &pipeKey{addr: "again", rssi: got.Median, serve: echoServe}
			radio.hearKey(t, "front", k.candidate())
			if o := recv(t, rec.finished, "the exchange once calibrated"); o.err != nil || o.addr != "again" {
				t.Fatalf("got %+v, want the key taken up", o)
			}
		})
	}
}
