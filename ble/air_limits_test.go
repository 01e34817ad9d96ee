package ble

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAirIdleLimit: a key no reader takes up is not held forever; the air
// hangs up on it after its idle limit, and the key reads that as not
// taken up.
func TestAirIdleLimit(t *testing.T) {
	a, addr := startAir(t, AirOptions{IdleLimit: 100 * time.Millisecond})
	listenAir(t, a, "front") // hears the key, never connects
	ctx := guardCtx(t)       // far longer than the idle limit
	ap, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -99})
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	_, err = ap.Link(ctx)
	var airErr *AirError
	if !errors.As(err, &airErr) || airErr.Code != airErrIdle || !errors.Is(err, ErrNotTakenUp) {
		t.Fatalf("got %v, want the air to hang up on the idle key (ErrNotTakenUp)", err)
	}
	if !strings.Contains(err.Error(), `reader "front" did not take the key up within 100ms`) {
		t.Errorf("got message %q, want it to name the reader and the limit", err)
	}
	waitConns(t, a, 0)
}

// TestAirMaxKeys: past MaxKeys keys at once, one more is told the air is
// busy; once a key leaves, another gets in.
func TestAirMaxKeys(t *testing.T) {
	a, addr := startAir(t, AirOptions{MaxKeys: 2})
	listenAir(t, a, "front")
	ctx := guardCtx(t)
	var present []*AirPresence
	for range 2 {
		ap, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -99})
		if err != nil {
			t.Fatal(err)
		}
		defer ap.Close()
		present = append(present, ap)
	}
	_, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -99})
	var airErr *AirError
	if !errors.As(err, &airErr) || airErr.Code != airErrBusy || !strings.Contains(err.Error(), "2 keys connected") {
		t.Fatalf("a third key: got %v, want the air busy", err)
	}
	present[0].Close()
	waitConns(t, a, 1)
	ap, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -99})
	if err != nil {
		t.Fatalf("after a key left: got %v, want room for one more", err)
	}
	ap.Close()
}

// waitConns waits until the air holds n key connections.
func waitConns(t *testing.T, a *Air, n int) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		a.mu.Lock()
		got := len(a.conns)
		a.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the air holds %d connections, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
