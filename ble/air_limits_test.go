package ble

import (
	"context"
	"errors"
	"strings"
	"sync"
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

// TestAirDoorFrameBoundsTheReaderName: a door frame's reader name, like a
// hello's, has a size before it reaches the site's door inputs, its log
// or an error quoting it.
func TestAirDoorFrameBoundsTheReaderName(t *testing.T) {
	a, addr := startAir(t, AirOptions{})
	var mu sync.Mutex
	var got []string
	a.SetDoorInputs(func(_ context.Context, reader string, _ DoorInput) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, reader)
		return nil
	})
	err := SendDoorInput(guardCtx(t), addr, strings.Repeat("x", 60<<10), DoorInput("open"))
	if err == nil || !strings.Contains(err.Error(), "longer than 64 bytes") || len(err.Error()) > 200 {
		t.Errorf("a 60 KB reader name: got %.200v, want it refused in a short message", err)
	}
	if err := SendDoorInput(guardCtx(t), addr, "front", DoorInput("open")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "front" {
		t.Errorf("the door inputs saw readers %.80q, want only front", got)
	}
}
