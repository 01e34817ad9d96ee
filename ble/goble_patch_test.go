//go:build linux

package ble

import (
	"bytes"
	"context"
	"testing"
	"time"

	goble "github.com/go-ble/ble"
	"github.com/go-ble/ble/linux"
	"github.com/go-ble/ble/linux/hci"
	"github.com/go-ble/ble/linux/hci/cmd"

	"postern/ble/hcisim"
)

// Tests of the patches to go-ble (third_party/go-ble/PATCHES.md), each
// through go-ble's own stack on the software controller, and each failing
// on upstream's code.

// hciOf returns the go-ble HCI under a device the software air opened.
func hciOf(t *testing.T, dev goble.Device) *linux.Device {
	t.Helper()
	d, ok := dev.(*hciDevice)
	if !ok {
		t.Fatalf("device %T is not OpenHCI's", dev)
	}
	return d.Device
}

// Patch adv-copy: an advertisement handed to the scan handler is not
// changed afterwards, when its scan response arrives.
func TestGoBLEAdvertisementIsNotChangedByItsScanResponse(t *testing.T) {
	air := newSimAir(t)
	scanner, _ := air.device(hcisim.Options{})
	adv, _ := air.device(hcisim.Options{})
	// Advertising data (flags) and a scan response (a complete local name).
	ad := []byte{0x02, 0x01, 0x06}
	sr := []byte{0x04, 0x09, 'd', 'o', 'g'}
	if err := hciOf(t, adv).HCI.SetAdvertisement(ad, sr); err != nil {
		t.Fatal(err)
	}
	if err := hciOf(t, adv).HCI.Advertise(); err != nil {
		t.Fatal(err)
	}

	got := make(chan goble.Advertisement, 64)
	ctx, cancel := context.WithCancel(guardCtx(t))
	defer cancel()
	go scanner.Scan(ctx, true, func(a goble.Advertisement) {
		select {
		case got <- a:
		default:
		}
	})
	var first goble.Advertisement
	for first == nil {
		if a := recv(t, got, "an advert"); a.LocalName() == "" {
			first = a // the advertising data alone
		}
	}
	for {
		if a := recv(t, got, "the advert with its scan response"); a.LocalName() == "dog" {
			break
		}
	}
	if name := first.LocalName(); name != "" {
		t.Fatalf("an advertisement already delivered changed under its handler: it now has the name %q of a later scan response", name)
	}
}

// keyConn is go-ble's connection under a key's link from GATTKey.Present
// in advertise mode (the key is the GATT server).
func keyConn(t *testing.T, l Link) goble.Conn {
	t.Helper()
	for {
		switch v := l.(type) {
		case *releasingLink:
			l = v.Link
		case *serverLink:
			return v.conn
		default:
			t.Fatalf("key link %T", l)
		}
	}
}

// dialKey has the reader on readerDev take up a key advertising on keyDev
// and returns both ends.
func dialKey(t *testing.T, ctx context.Context, cands <-chan Candidate, keyDev goble.Device, keyCtrl *hcisim.Controller) (reader, key Link) {
	t.Helper()
	p := presentAsync(ctx, NewGATTKey(keyDev, GATTOptions{}), DiscoverAdvertise)
	reader, err := candidateFrom(t, cands, keyCtrl.Addr(), false).Connect(ctx)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	k := recv(t, p, "the key to be taken up")
	if k.err != nil {
		t.Fatalf("Present: %v", k.err)
	}
	return reader, k.l
}

// readerOnAir starts an air with a listening reader on it.
func readerOnAir(t *testing.T, ctrl hcisim.Options, opts GATTOptions) (*simAir, *hcisim.Controller, <-chan Candidate) {
	t.Helper()
	air := newSimAir(t)
	dev, c := air.device(ctrl)
	return air, c, listenOn(t, dev, c, opts)
}

// takeUpNewKey adds a key to the air and has the reader take it up.
func (a *simAir) takeUpNewKey(ctx context.Context, cands <-chan Candidate) (reader, key Link, keyCtrl *hcisim.Controller) {
	a.t.Helper()
	keyDev, keyCtrl := a.device(hcisim.Options{})
	reader, key = dialKey(a.t, ctx, cands, keyDev, keyCtrl)
	return reader, key, keyCtrl
}

// Patch att-requests: a phone is a GATT client too, and may send the
// reader its own requests (discovering the reader's services) on the
// connection the reader opened. The reader answers them (request not
// supported) and goes on receiving notifications, instead of hanging.
func TestGoBLEReaderAnswersTheKeysOwnRequests(t *testing.T) {
	ctx := guardCtx(t)
	air, _, cands := readerOnAir(t, hcisim.Options{}, GATTOptions{})
	reader, key, _ := air.takeUpNewKey(ctx, cands)

	if err := reader.Send(ctx, []byte("challenge")); err != nil {
		t.Fatal(err)
	}
	if _, err := key.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	// ATT Read By Group Type Request for the primary services, 0x0001 to
	// 0xFFFF, as a phone's GATT client sends after connecting. The reader
	// is waiting for notifications, with no request of its own pending.
	if _, err := keyConn(t, key).Write([]byte{0x10, 0x01, 0x00, 0xFF, 0xFF, 0x00, 0x28}); err != nil {
		t.Fatal(err)
	}
	if err := key.Send(ctx, []byte("response")); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if got, err := reader.Recv(short); err != nil || string(got) != "response" {
		t.Fatalf("reader Recv after the key's request: got %q, %v; want the response", got, err)
	}
	// And the reader's own requests still get their answers.
	if err := reader.Send(ctx, []byte("result")); err != nil {
		t.Fatalf("reader Send after the key's request: %v", err)
	}
	if got, err := key.Recv(ctx); err != nil || string(got) != "result" {
		t.Fatalf("key got %q, %v; want the result", got, err)
	}
}

// Patch cancel-race: a connection that completes just as the reader gives
// up on it does not leave go-ble's Dial waiting forever (and the reader
// paused, deaf to every other key).
func TestGoBLEDialCancelledAsItConnects(t *testing.T) {
	ctx := guardCtx(t)
	air, _, cands := readerOnAir(t, hcisim.Options{Faults: hcisim.Faults{ConnectOnCancel: true}}, GATTOptions{DialTimeout: 100 * time.Millisecond})

	// A key is heard, then stops advertising: the dial waits until the
	// reader cancels it, and the controller connects as it cancels.
	goneDev, goneCtrl := air.device(hcisim.Options{})
	kctx, leave := context.WithCancel(ctx)
	presentAsync(kctx, NewGATTKey(goneDev, GATTOptions{}), DiscoverAdvertise)
	c := candidateFrom(t, cands, goneCtrl.Addr(), false)
	leave()
	eventually(t, "the key to stop advertising", func() bool { return !goneCtrl.Advertising() })
	if l, err := c.Connect(ctx); err == nil {
		l.Close()
	}

	// The next key is heard and taken up.
	reader, key, _ := air.takeUpNewKey(ctx, cands)
	exchangeBothWays(t, ctx, reader, key)
}

// Patch slave-done: a connection a central opened to us reports its end,
// and a write on it after the end fails instead of taking one of the
// controller's buffers for ever.
func TestGoBLEPeripheralConnectionReportsItsEnd(t *testing.T) {
	ctx := guardCtx(t)
	air, _, cands := readerOnAir(t, hcisim.Options{}, GATTOptions{})
	reader, key, _ := air.takeUpNewKey(ctx, cands)
	conn := keyConn(t, key)
	reader.Close()
	recv(t, conn.Disconnected(), "the key's connection to report its end")
	for range 16 {
		if _, err := conn.Write([]byte{0x52, 0x01, 0x00, 0x00}); err == nil {
			t.Fatal("a write on an ended connection succeeded")
		}
	}
	key.Close()
}

// Patch peer-addr-type: after dialling a key with a random address (as
// phones have), the reader still reaches one with a public address (a
// soft key on a board).
func TestGoBLEDialsPublicAfterRandom(t *testing.T) {
	ctx := guardCtx(t)
	air, _, cands := readerOnAir(t, hcisim.Options{}, GATTOptions{DialTimeout: 500 * time.Millisecond})

	randomCtrl := air.air.NewController(hcisim.Options{})
	randomDev, err := linux.NewDeviceWithName("phone", hci.OptTransport(randomCtrl.Host()),
		goble.OptAdvParams(cmd.LESetAdvertisingParameters{
			AdvertisingIntervalMin: 0x20, AdvertisingIntervalMax: 0x20,
			OwnAddressType: hcisim.AddrRandom, AdvertisingChannelMap: 0x7,
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { randomDev.Stop() })
	static := [6]byte{0x01, 0x02, 0x03, 0x04, 0x05, 0xC6} // a random static address, least significant byte first
	if err := randomDev.HCI.Send(&cmd.LESetRandomAddress{RandomAddress: static}, nil); err != nil {
		t.Fatal(err)
	}
	p := presentAsync(ctx, NewGATTKey(randomDev, GATTOptions{}), DiscoverAdvertise)
	random := hcisim.Address{Type: hcisim.AddrRandom, Addr: static}
	reader, err := candidateFrom(t, cands, random, false).Connect(ctx)
	if err != nil {
		t.Fatalf("dial the key with a random address: %v", err)
	}
	k := recv(t, p, "the random key to be taken up")
	if k.err != nil {
		t.Fatal(k.err)
	}
	exchangeBothWays(t, ctx, reader, k.l)
	reader.Close()
	k.l.Close()

	reader, key, _ := air.takeUpNewKey(ctx, cands)
	exchangeBothWays(t, ctx, reader, key)
}

// Patch flow-deadlock: a reader writing to one key while the controller's
// buffers are all in flight, when another key hangs up, finishes its
// write once the buffers come back: go-ble's event loop no longer waits,
// on the disconnection, for a lock the blocked writer holds.
func TestGoBLEDisconnectWhileBuffersAreFull(t *testing.T) {
	ctx := guardCtx(t)
	const buffers = 8
	air, readerCtrl, cands := readerOnAir(t, hcisim.Options{ACLBufferSize: 27, ACLBuffers: buffers}, GATTOptions{MTU: 247})
	reader1, key1, _ := air.takeUpNewKey(ctx, cands)
	_, key2, key2Ctrl := air.takeUpNewKey(ctx, cands)

	// The link is slow: no buffer comes back until the test says so. One
	// ATT write at this MTU (251 bytes with its L2CAP header) needs ten of
	// the 27-byte buffers, more than the host has, so the reader's Send
	// stops in the middle of a write. (go-ble keeps one buffer back.)
	readerCtrl.HoldCompletedPackets(true)
	sent := make(chan error, 1)
	msg := testMessage(0xB1, 400)
	go func() { sent <- reader1.Send(ctx, msg) }()
	eventually(t, "the reader to fill the controller's buffers", func() bool { return readerCtrl.BuffersInUse() == buffers-1 })
	key2.Close()
	eventually(t, "the second key to hang up", func() bool { return key2Ctrl.Connections() == 0 })
	readerCtrl.HoldCompletedPackets(false)
	if err := recv(t, sent, "the reader's Send to finish"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, err := key1.Recv(ctx); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("key got %d bytes, %v; want the %d-byte message", len(got), err, len(msg))
	}
}

// Patch event-errors: an event go-ble cannot place (here, the end of a
// connection it does not know) is logged, not kept as the HCI's error,
// which failed the commands after it until another event came.
func TestGoBLESurvivesAnUnexpectedEvent(t *testing.T) {
	air := newSimAir(t)
	dev, ctrl := air.device(hcisim.Options{})
	// Disconnection Complete: status 0, handle 0x0EFF, reason 0x13. No
	// other event comes: the device neither scans nor is connected.
	ctrl.SendEvent([]byte{0x04, 0x05, 0x04, 0x00, 0xFF, 0x0E, 0x13})
	for i := range 3 {
		if err := hciOf(t, dev).HCI.Send(&cmd.ReadBDADDR{}, &cmd.ReadBDADDRRP{}); err != nil {
			t.Fatalf("command %d after the unexpected event: %v", i+1, err)
		}
	}
}
