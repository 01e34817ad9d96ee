//go:build linux

package ble

import (
	"context"
	"testing"
	"time"

	goble "github.com/go-ble/ble"

	"postern/ble/hcisim"
)

// simAir is a software-controller air for tests: every device on it is
// go-ble's real Linux stack (HCI, L2CAP, ATT, GATT) over a hcisim
// controller, so only the radio itself is simulated.
type simAir struct {
	t     *testing.T
	air   *hcisim.Air
	ctrls []*hcisim.Controller
}

func newSimAir(t *testing.T) *simAir {
	t.Helper()
	a := &simAir{t: t, air: hcisim.NewAir()}
	t.Cleanup(func() {
		a.air.Close()
		for _, c := range a.ctrls {
			if v := c.Violations(); len(v) > 0 {
				t.Errorf("controller %s: the host broke HCI's rules: %q", c.Addr(), v)
			}
		}
	})
	return a
}

// device opens go-ble on a new controller.
func (a *simAir) device(opts hcisim.Options) (goble.Device, *hcisim.Controller) {
	a.t.Helper()
	ctrl := a.air.NewController(opts)
	a.ctrls = append(a.ctrls, ctrl)
	dev, err := OpenHCITransport(ctrl.Host())
	if err != nil {
		a.t.Fatalf("open go-ble on the software controller: %v", err)
	}
	a.t.Cleanup(func() { dev.Stop() })
	return dev, ctrl
}

// listenOn runs a GATTRadio on dev until the test ends.
func listenOn(t *testing.T, dev goble.Device, opts GATTOptions) <-chan Candidate {
	t.Helper()
	radio := NewGATTRadio(dev, opts)
	ch := make(chan Candidate, 256)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- radio.Listen(ctx, "hci0", func(c Candidate) {
			select {
			case ch <- c:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(guard):
			t.Error("gave up waiting for Listen to return")
		}
	})
	return ch
}

func TestHCIReaderDialsAdvertisingKey(t *testing.T) {
	ctx := guardCtx(t)
	air := newSimAir(t)
	readerDev, _ := air.device(hcisim.Options{})
	keyDev, _ := air.device(hcisim.Options{})

	key := NewGATTKey(keyDev, GATTOptions{})
	type presented struct {
		l   Link
		err error
	}
	keyLink := make(chan presented, 1)
	go func() {
		l, err := key.Present(ctx, Presence{Discovery: DiscoverAdvertise})
		keyLink <- presented{l, err}
	}()
	cands := listenOn(t, readerDev, GATTOptions{})
	c := recv(t, cands, "the key's advert")
	t.Logf("candidate %+v", c)
	reader, err := c.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	p := recv(t, keyLink, "the key to be taken up")
	if p.err != nil {
		t.Fatalf("Present: %v", p.err)
	}
	exchangeBothWays(t, ctx, reader, p.l)
	reader.Close()
	p.l.Close()
}
