package ble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access/protocol"
)

// checkHosted fails unless dev hosts exactly the documented service: RX
// with write (with response) only, then TX with notify.
func checkHosted(t *testing.T, dev *fakeDevice, svc, rx, tx string) {
	t.Helper()
	hosted := dev.hosted()
	if len(hosted) != 1 || !isDoc(hosted[0].UUID, svc) {
		t.Fatalf("hosting %d services, want only %s", len(hosted), svc)
	}
	chars := hosted[0].Characteristics
	if len(chars) != 2 ||
		!isDoc(chars[0].UUID, rx) || chars[0].Property != goble.CharWrite ||
		!isDoc(chars[1].UUID, tx) || chars[1].Property != goble.CharNotify {
		for _, c := range chars {
			t.Logf("characteristic %s, properties %#02x", c.UUID, c.Property)
		}
		t.Fatalf("want %s (write, %#02x) and %s (notify, %#02x)", rx, goble.CharWrite, tx, goble.CharNotify)
	}
}

// checkAdvert fails unless dev's advert carries the documented service
// UUID and nothing else.
func checkAdvert(t *testing.T, dev *fakeDevice, svc string) {
	t.Helper()
	a := dev.advertised()
	if a == nil || !areDoc(a.Services(), svc) || a.LocalName() != "" || a.ManufacturerData() != nil ||
		a.ServiceData() != nil || a.SolicitedService() != nil || a.OverflowService() != nil || !a.Connectable() {
		t.Fatalf("advertising %+v, want a connectable advert of %s and nothing else", a, svc)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// listenGATT runs a GATTRadio on dev until the test ends and waits until it
// advertises and scans. stop ends it and returns Listen's error.
func listenGATT(t *testing.T, dev *fakeDevice, opts GATTOptions) (cands <-chan Candidate, stop func() error) {
	t.Helper()
	radio := NewGATTRadio(dev, opts)
	ch := make(chan Candidate, 256)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = radio.Listen(ctx, "hci0", func(c Candidate) {
			select {
			case ch <- c:
			default:
			}
		})
	}()
	stop = func() error {
		cancel()
		select {
		case <-done:
		case <-time.After(guard):
			t.Fatal("gave up waiting for Listen to return")
		}
		return err
	}
	t.Cleanup(func() { stop() })
	recv(t, dev.advertising, "the reader to advertise")
	recv(t, dev.scanning, "the reader to scan")
	return ch, stop
}

func TestGATTRadioScanFilter(t *testing.T) {
	dev := newFakeDevice()
	hang := make(chan struct{})
	defer close(hang)
	dev.dial = func(ctx context.Context, a goble.Addr) (goble.Client, error) {
		<-hang
		return nil, errors.New("released")
	}
	cands, stop := listenGATT(t, dev, GATTOptions{})
	checkAdvert(t, dev, docReaderService)
	checkHosted(t, dev, docReaderService, docReaderRX, docReaderTX)

	key, reader := docUUID(docKeyService), docUUID(docReaderService)

	tests := []struct {
		name string
		adv  fakeAdv
		want bool
	}{
		{name: "a key", adv: fakeAdv{addr: "aa:00:00:00:00:01", rssi: -52, services: []goble.UUID{key}, connectable: true}, want: true},
		{name: "among others", adv: fakeAdv{addr: "aa:00:00:00:00:02", rssi: -58, services: []goble.UUID{goble.BatteryUUID, key}, connectable: true}, want: true},
		{name: "another reader", adv: fakeAdv{addr: "aa:00:00:00:00:06", rssi: -40, services: []goble.UUID{reader}, connectable: true}},
		{name: "another service", adv: fakeAdv{addr: "aa:00:00:00:00:03", rssi: -40, services: []goble.UUID{goble.BatteryUUID}, connectable: true}},
		{name: "no services", adv: fakeAdv{addr: "aa:00:00:00:00:04", rssi: -40, connectable: true}},
		{name: "not connectable", adv: fakeAdv{addr: "aa:00:00:00:00:05", rssi: -40, services: []goble.UUID{key}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The handler runs on go-ble's event loop: it must return at
			// once (the Dial above would hang) and hand over a candidate.
			dev.advert(tt.adv)
			select {
			case c := <-cands:
				if !tt.want {
					t.Fatalf("filtered advert became candidate %+v", c)
				}
				if c.Addr != tt.adv.addr || c.RSSI != tt.adv.rssi || c.Inbound {
					t.Fatalf("candidate %+v, want addr %s RSSI %d", c, tt.adv.addr, tt.adv.rssi)
				}
			default:
				if tt.want {
					t.Fatal("advert for the key service gave no candidate")
				}
			}
		})
	}
	if n := dev.dials.Load(); n != 0 {
		t.Fatalf("the advert handler dialled %d times, want 0", n)
	}

	dev.mu.Lock()
	handler := dev.scan
	dev.mu.Unlock()
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Listen: got %v, want context.Canceled", err)
	}
	if len(dev.hosted()) != 0 {
		t.Fatal("the reader left its service behind")
	}
	// go-ble may still deliver an advert it had in hand: nobody hears it.
	handler(tests[0].adv)
	if len(cands) != 0 {
		t.Fatal("an advert after Listen returned became a candidate")
	}
}

func TestGATTDialTimeout(t *testing.T) {
	dev := newFakeDevice()
	release := make(chan struct{})
	late := newFakeClient(newFakeDevice(), "aa:00:00:00:00:01", protocol.DefaultMTU, -50)
	dev.dial = func(ctx context.Context, a goble.Addr) (goble.Client, error) {
		<-release // ignores ctx, as go-ble's Dial can
		return late, nil
	}
	cands, _ := listenGATT(t, dev, GATTOptions{})
	dev.advert(fakeAdv{addr: "aa:00:00:00:00:01", rssi: -50, services: []goble.UUID{docUUID(docKeyService)}, connectable: true})
	c := recv(t, cands, "the candidate")

	for _, attempt := range []string{"hung dial", "dial behind the hung one"} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_, err := c.Connect(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: got %v, want DeadlineExceeded", attempt, err)
		}
	}
	if n := dev.dials.Load(); n != 1 {
		t.Fatalf("dialled %d times, want 1 (one attempt at a time)", n)
	}
	// The abandoned dial completes after all: that connection is dropped.
	close(release)
	eventually(t, "the late connection to be dropped", late.conn.isDisconnected)
}

func TestGATTReaderDialsAdvertisingKey(t *testing.T) {
	tests := []struct {
		name string
		mtu  int
	}{
		{name: "minimum MTU", mtu: protocol.MinMTU},
		{name: "phone MTU", mtu: protocol.DefaultMTU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := guardCtx(t)
			readerDev, keyDev := newFakeDevice(), newFakeDevice()
			conns := make(chan *fakeClient, 1)
			readerDev.dial = func(ctx context.Context, a goble.Addr) (goble.Client, error) {
				c := newFakeClient(keyDev, a.String(), tt.mtu, -50)
				conns <- c
				return c, nil
			}

			keyLink := presentAsync(ctx, NewGATTKey(keyDev, GATTOptions{}), DiscoverAdvertise)
			recv(t, keyDev.advertising, "the key to advertise")
			checkAdvert(t, keyDev, docKeyService)
			checkHosted(t, keyDev, docKeyService, docKeyRX, docKeyTX)

			cands, _ := listenGATT(t, readerDev, GATTOptions{})
			readerDev.advert(fakeAdv{addr: "5e:00:00:00:00:09", rssi: -50, services: []goble.UUID{docUUID(docKeyService)}, connectable: true})
			reader, err := recv(t, cands, "the candidate").Connect(ctx)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			p := recv(t, keyLink, "the key to be taken up")
			if p.err != nil {
				t.Fatalf("Present: %v", p.err)
			}
			conn := recv(t, conns, "the reader to dial")
			challenge, response := exchangeBothWays(t, ctx, reader, p.l)
			svcs, chars, sub := conn.discovery()
			if !areDoc(svcs, docKeyService) || !areDoc(chars, docKeyRX, docKeyTX) || !isDoc(sub, docKeyTX) {
				t.Fatalf("the reader looked for %v %v and subscribed to %v, want the key service, Key RX and TX, and Key TX", svcs, chars, sub)
			}
			writes, notified := conn.traffic()
			checkTraffic(t, "reader writes", writes, docKeyRX, [][]byte{challenge}, tt.mtu)
			checkTraffic(t, "key notifications", notified, docKeyTX, [][]byte{response}, tt.mtu)

			// What the fragment format cannot carry is refused, not cut.
			if err := reader.Send(ctx, make([]byte, protocol.MaxMessageSize+1)); err == nil {
				t.Fatal("reader Send of a message over the protocol's bound succeeded")
			}
			if err := p.l.Send(ctx, nil); err == nil {
				t.Fatal("key Send of an empty message succeeded")
			}
			if w, n := conn.traffic(); len(w) != len(writes) || len(n) != len(notified) {
				t.Fatal("a refused message went out in part")
			}

			// The reader hangs up: the key sees the end, and stops serving.
			reader.Close()
			if _, err := p.l.Recv(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("key Recv after hang-up: got %v, want EOF", err)
			}
			p.l.Close()
			if len(keyDev.hosted()) != 0 {
				t.Fatal("the key left its service behind")
			}
		})
	}
}

// presented is what a key's Present returned.
type presented struct {
	l   Link
	err error
}

// presentAsync presents key in the background.
func presentAsync(ctx context.Context, key KeyRadio, d Discovery) <-chan presented {
	ch := make(chan presented, 1)
	go func() {
		l, err := key.Present(ctx, Presence{Discovery: d})
		ch <- presented{l, err}
	}()
	return ch
}

// exchangeBothWays sends messages bigger than one ATT value each way: a
// challenge and the largest message the protocol allows.
func exchangeBothWays(t *testing.T, ctx context.Context, reader, key Link) (challenge, response []byte) {
	t.Helper()
	challenge = testMessage(0xA1, 196)
	if err := reader.Send(ctx, challenge); err != nil {
		t.Fatalf("reader Send: %v", err)
	}
	got, err := key.Recv(ctx)
	if err != nil || !bytes.Equal(got, challenge) {
		t.Fatalf("key got %d bytes, %v; want the %d-byte challenge", len(got), err, len(challenge))
	}
	response = testMessage(0xA2, protocol.MaxMessageSize)
	if err := key.Send(ctx, response); err != nil {
		t.Fatalf("key Send: %v", err)
	}
	got, err = reader.Recv(ctx)
	if err != nil || !bytes.Equal(got, response) {
		t.Fatalf("reader got %d bytes, %v; want the %d-byte response", len(got), err, len(response))
	}
	return challenge, response
}

func TestGATTPhoneConnectsToReader(t *testing.T) {
	ctx := guardCtx(t)
	readerDev := newFakeDevice()
	cands, _ := listenGATT(t, readerDev, GATTOptions{OfferInterval: 10 * time.Millisecond})

	// A backgrounded iPhone: it connects to the reader's service itself.
	phoneConn := newFakeClient(readerDev, "6b:00:00:00:00:07", protocol.DefaultMTU, -48)
	phone, err := setupClient(phoneConn, readerService, protocol.DefaultMTU)
	if err != nil {
		t.Fatalf("phone setup: %v", err)
	}
	defer phone.Close()

	// Offered again and again until taken, like adverts.
	c := recv(t, cands, "the inbound candidate")
	recv(t, cands, "the candidate offered again")
	if !c.Inbound || c.Addr != "6b:00:00:00:00:07" || c.RSSI != -48 {
		t.Fatalf("candidate %+v, want inbound from the phone at -48 dBm", c)
	}
	reader, err := c.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if _, err := c.Connect(ctx); !errors.Is(err, ErrTaken) {
		t.Fatalf("second Connect: got %v, want ErrTaken", err)
	}
	exchangeBothWays(t, ctx, reader, phone)

	// A garbled write is refused at the ATT level and breaks the link.
	rx := readerDev.characteristic(docUUID(docReaderRX))
	if err := phoneConn.WriteCharacteristic(rx, []byte{0x05, 'x'}, false); err == nil {
		t.Fatal("a continuation without a first fragment was accepted")
	}
	if _, err := reader.Recv(ctx); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("reader Recv after a bad fragment: got %v, want protocol.ErrMalformed", err)
	}
}

// A phone that connects again keeps its address, and the reader may not
// have seen its previous connection end yet (it learns of that from the
// controller, in its own time). The new connection gets a link of its
// own, which the end of the old one does not take down.
func TestGATTPhoneReconnectsBeforeTheOldConnectionEnds(t *testing.T) {
	ctx := guardCtx(t)
	readerDev := newFakeDevice()
	cands, _ := listenGATT(t, readerDev, GATTOptions{OfferInterval: 10 * time.Millisecond})
	const addr = "6b:00:00:00:00:09"
	// The two connections are told apart by the signal the reader reads
	// on each.
	candidateAt := func(rssi int) Candidate {
		t.Helper()
		for {
			if c := recv(t, cands, fmt.Sprintf("a candidate at %d dBm", rssi)); c.RSSI == rssi {
				return c
			}
		}
	}
	oldConn := newFakeClient(readerDev, addr, protocol.DefaultMTU, -50)
	if _, err := setupClient(oldConn, readerService, protocol.DefaultMTU); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	candidateAt(-50)
	newConn := newFakeClient(readerDev, addr, protocol.DefaultMTU, -49)
	phone, err := setupClient(newConn, readerService, protocol.DefaultMTU)
	if err != nil {
		t.Fatalf("second connection: %v", err)
	}
	defer phone.Close()
	c := candidateAt(-49)
	oldConn.conn.Close()

	reader, err := c.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect to the second connection: %v", err)
	}
	exchangeBothWays(t, ctx, reader, phone)
}

func TestGATTKeyConnectsToReader(t *testing.T) {
	ctx := guardCtx(t)
	readerDev, keyDev := newFakeDevice(), newFakeDevice()
	cands, _ := listenGATT(t, readerDev, GATTOptions{})
	conns := make(chan *fakeClient, 1)
	keyDev.dial = func(ctx context.Context, a goble.Addr) (goble.Client, error) {
		c := newFakeClient(readerDev, "6b:00:00:00:00:08", protocol.DefaultMTU, -55)
		conns <- c
		return c, nil
	}
	keyLink := presentAsync(ctx, NewGATTKey(keyDev, GATTOptions{}), DiscoverConnect)
	recv(t, keyDev.scanning, "the key to scan")
	keyDev.advert(fakeAdv{addr: "00:00:00:00:00:aa", rssi: -60, services: []goble.UUID{goble.BatteryUUID}, connectable: true})
	keyDev.advert(fakeAdv{addr: "00:00:00:00:00:ab", rssi: -60, services: []goble.UUID{docUUID(docKeyService)}, connectable: true})
	keyDev.advert(fakeAdv{addr: "00:00:00:00:00:01", rssi: -60, services: []goble.UUID{docUUID(docReaderService)}, connectable: true})
	p := recv(t, keyLink, "the key to connect")
	if p.err != nil {
		t.Fatalf("Present: %v", p.err)
	}
	defer p.l.Close()
	c := recv(t, cands, "the inbound candidate")
	reader, err := c.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	challenge, response := exchangeBothWays(t, ctx, reader, p.l)
	conn := recv(t, conns, "the key to dial")
	svcs, chars, sub := conn.discovery()
	if !areDoc(svcs, docReaderService) || !areDoc(chars, docReaderRX, docReaderTX) || !isDoc(sub, docReaderTX) {
		t.Fatalf("the key looked for %v %v and subscribed to %v, want the reader service, Reader RX and TX, and Reader TX", svcs, chars, sub)
	}
	writes, notified := conn.traffic()
	checkTraffic(t, "key writes", writes, docReaderRX, [][]byte{response}, protocol.DefaultMTU)
	checkTraffic(t, "reader notifications", notified, docReaderTX, [][]byte{challenge}, protocol.DefaultMTU)
}

func TestGATTKeyNotTakenUp(t *testing.T) {
	tests := []Discovery{DiscoverAdvertise, DiscoverConnect}
	for _, d := range tests {
		t.Run(string(d), func(t *testing.T) {
			dev := newFakeDevice()
			key := NewGATTKey(dev, GATTOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := key.Present(ctx, Presence{Discovery: d})
			if !errors.Is(err, ErrNotTakenUp) {
				t.Fatalf("got %v, want ErrNotTakenUp", err)
			}
			// The key can present again.
			ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel2()
			if _, err := key.Present(ctx2, Presence{Discovery: d}); !errors.Is(err, ErrNotTakenUp) {
				t.Fatalf("second Present: got %v, want ErrNotTakenUp", err)
			}
		})
	}
}

func TestHCIIndex(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "hci0", want: 0},
		{in: "hci12", want: 12},
		{in: "hci", wantErr: true},
		{in: "hci01", wantErr: true},
		{in: "sim:front", wantErr: true},
	}
	for _, tt := range tests {
		got, err := HCIIndex(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("HCIIndex(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestGATTReaderRefusesWriteBeforeSubscribe(t *testing.T) {
	readerDev := newFakeDevice()
	listenGATT(t, readerDev, GATTOptions{})
	phone := newFakeClient(readerDev, "6b:00:00:00:00:01", protocol.DefaultMTU, -50)
	rx := readerDev.characteristic(docUUID(docReaderRX))
	if err := phone.WriteCharacteristic(rx, protocol.Fragment([]byte("hi"), protocol.DefaultMTU)[0], false); !errors.Is(err, goble.ErrWriteNotPerm) {
		t.Fatalf("write before subscribing: got %v, want ErrWriteNotPerm", err)
	}
}

func TestGATTReaderDropsIdlePhone(t *testing.T) {
	readerDev := newFakeDevice()
	cands, _ := listenGATT(t, readerDev, GATTOptions{IdleTimeout: 50 * time.Millisecond})
	phoneConn := newFakeClient(readerDev, "6b:00:00:00:00:02", protocol.DefaultMTU, -90)
	if _, err := setupClient(phoneConn, readerService, protocol.DefaultMTU); err != nil {
		t.Fatal(err)
	}
	c := recv(t, cands, "the inbound candidate")
	// Nobody takes it up (too weak, say): the reader hangs up on it.
	recv(t, phoneConn.Disconnected(), "the idle phone to be disconnected")
	if _, err := c.Connect(guardCtx(t)); !errors.Is(err, ErrTaken) {
		t.Fatalf("Connect to a dropped phone: got %v, want ErrTaken", err)
	}
}
