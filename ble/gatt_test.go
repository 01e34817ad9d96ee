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
)

func TestFragmentsRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 19, 20, 21, 181, 182, 1000, 128 * 19, MaxMessage}
	payloads := []int{goble.DefaultMTU - 3, DefaultMTU - 3, goble.MaxMTU - 3}
	for _, payload := range payloads {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("%d bytes in %d-byte values", size, payload), func(t *testing.T) {
				msg := make([]byte, size)
				for i := range msg {
					msg[i] = byte(i * 7)
				}
				frags := Fragments(msg, payload)
				var r Reassembler
				for i, f := range frags {
					if len(f) > payload {
						t.Fatalf("fragment %d is %d bytes, over the %d-byte value", i, len(f), payload)
					}
					got, done, err := r.Add(f)
					if err != nil {
						t.Fatalf("fragment %d: %v", i, err)
					}
					if done != (i == len(frags)-1) {
						t.Fatalf("fragment %d of %d: done = %v", i, len(frags), done)
					}
					if done && !bytes.Equal(got, msg) {
						t.Fatalf("reassembled %d bytes, want the %d sent", len(got), len(msg))
					}
				}
			})
		}
	}
}

func TestReassemblerRefuses(t *testing.T) {
	long := Fragments(make([]byte, MaxMessage+1), goble.MaxMTU-3)
	tests := []struct {
		name  string
		frags [][]byte
	}{
		{name: "empty value", frags: [][]byte{{}}},
		{name: "starts mid-message", frags: [][]byte{{0x01, 'a'}}},
		{name: "lost fragment", frags: [][]byte{{0x80, 'a'}, {0x02, 'c'}}},
		{name: "repeated fragment", frags: [][]byte{{0x80, 'a'}, {0x80, 'a'}}},
		{name: "too long", frags: long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reassembler
			var err error
			for _, f := range tt.frags {
				if _, _, err = r.Add(f); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrFragment) {
				t.Fatalf("got %v, want ErrFragment", err)
			}
			// The next message starts clean.
			got, done, err := r.Add([]byte{0x00, 'o', 'k'})
			if err != nil || !done || string(got) != "ok" {
				t.Fatalf("after the error: got %q, %v, %v; want \"ok\"", got, done, err)
			}
		})
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
	cands, stop := listenGATT(t, dev, GATTOptions{LocalName: "Front door"})

	dev.mu.Lock()
	name, uuids := dev.advName, dev.advUUIDs
	dev.mu.Unlock()
	if name != "Front door" || len(uuids) != 1 || !uuids[0].Equal(ServiceUUID) {
		t.Fatalf("advertising %q %v, want \"Front door\" with our service only", name, uuids)
	}
	if dev.service() == nil {
		t.Fatal("the reader did not add its service")
	}

	tests := []struct {
		name string
		adv  fakeAdv
		want bool
	}{
		{name: "our service", adv: fakeAdv{addr: "aa:00:00:00:00:01", rssi: -52, services: []goble.UUID{ServiceUUID}, connectable: true}, want: true},
		{name: "among others", adv: fakeAdv{addr: "aa:00:00:00:00:02", rssi: -58, services: []goble.UUID{goble.BatteryUUID, ServiceUUID}, connectable: true}, want: true},
		{name: "another service", adv: fakeAdv{addr: "aa:00:00:00:00:03", rssi: -40, services: []goble.UUID{goble.BatteryUUID}, connectable: true}},
		{name: "no services", adv: fakeAdv{addr: "aa:00:00:00:00:04", rssi: -40, connectable: true}},
		{name: "not connectable", adv: fakeAdv{addr: "aa:00:00:00:00:05", rssi: -40, services: []goble.UUID{ServiceUUID}}},
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
					t.Fatal("advert for our service gave no candidate")
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
	if dev.service() != nil {
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
	late := newFakeClient(newFakeDevice(), "aa:00:00:00:00:01", DefaultMTU, -50)
	dev.dial = func(ctx context.Context, a goble.Addr) (goble.Client, error) {
		<-release // ignores ctx, as go-ble's Dial can
		return late, nil
	}
	cands, _ := listenGATT(t, dev, GATTOptions{})
	dev.advert(fakeAdv{addr: "aa:00:00:00:00:01", rssi: -50, services: []goble.UUID{ServiceUUID}, connectable: true})
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
	eventually(t, "the late connection to be cancelled", func() bool { return late.cancels.Load() > 0 })
}

func TestGATTReaderDialsAdvertisingKey(t *testing.T) {
	tests := []struct {
		name string
		mtu  int
	}{
		{name: "minimum MTU", mtu: goble.DefaultMTU},
		{name: "phone MTU", mtu: DefaultMTU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := guardCtx(t)
			readerDev, keyDev := newFakeDevice(), newFakeDevice()
			var phone *fakeClient
			readerDev.dial = func(ctx context.Context, a goble.Addr) (goble.Client, error) {
				phone = newFakeClient(keyDev, a.String(), tt.mtu, -50)
				return phone, nil
			}

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
			recv(t, keyDev.advertising, "the key to advertise")
			keyDev.mu.Lock()
			name, uuids := keyDev.advName, keyDev.advUUIDs
			keyDev.mu.Unlock()
			if name != "" || len(uuids) != 1 || !uuids[0].Equal(ServiceUUID) {
				t.Fatalf("key advertises %q %v, want the service UUID only", name, uuids)
			}

			cands, _ := listenGATT(t, readerDev, GATTOptions{})
			readerDev.advert(fakeAdv{addr: "5e:00:00:00:00:09", rssi: -50, services: []goble.UUID{ServiceUUID}, connectable: true})
			reader, err := recv(t, cands, "the candidate").Connect(ctx)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			p := recv(t, keyLink, "the key to be taken up")
			if p.err != nil {
				t.Fatalf("Present: %v", p.err)
			}
			exchangeBothWays(t, ctx, reader, p.l)
			for i, w := range phone.writes {
				if len(w) > tt.mtu-3 {
					t.Fatalf("write %d is %d bytes, over ATT_MTU-3", i, len(w))
				}
			}

			// The reader hangs up: the key sees the end, and stops serving.
			reader.Close()
			if _, err := p.l.Recv(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("key Recv after hang-up: got %v, want EOF", err)
			}
			p.l.Close()
			if keyDev.service() != nil {
				t.Fatal("the key left its service behind")
			}
		})
	}
}

// exchangeBothWays sends messages bigger than one ATT value each way.
func exchangeBothWays(t *testing.T, ctx context.Context, reader, key Link) {
	t.Helper()
	challenge := bytes.Repeat([]byte("challenge "), 100)
	if err := reader.Send(ctx, challenge); err != nil {
		t.Fatalf("reader Send: %v", err)
	}
	got, err := key.Recv(ctx)
	if err != nil || !bytes.Equal(got, challenge) {
		t.Fatalf("key got %d bytes, %v; want the %d-byte challenge", len(got), err, len(challenge))
	}
	response := bytes.Repeat([]byte("response "), 80)
	if err := key.Send(ctx, response); err != nil {
		t.Fatalf("key Send: %v", err)
	}
	got, err = reader.Recv(ctx)
	if err != nil || !bytes.Equal(got, response) {
		t.Fatalf("reader got %d bytes, %v; want the %d-byte response", len(got), err, len(response))
	}
}

func TestGATTPhoneConnectsToReader(t *testing.T) {
	ctx := guardCtx(t)
	readerDev := newFakeDevice()
	cands, _ := listenGATT(t, readerDev, GATTOptions{OfferInterval: 10 * time.Millisecond})

	// A backgrounded iPhone: it connects to the reader's service itself.
	phoneConn := newFakeClient(readerDev, "6b:00:00:00:00:07", DefaultMTU, -48)
	phone, err := setupClient(phoneConn, DefaultMTU)
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
	rx := readerDev.service().Characteristics[0]
	if err := phoneConn.WriteCharacteristic(rx, []byte{0x05, 'x'}, false); err == nil {
		t.Fatal("a fragment out of sequence was accepted")
	}
	if _, err := reader.Recv(ctx); !errors.Is(err, ErrFragment) {
		t.Fatalf("reader Recv after a bad fragment: got %v, want ErrFragment", err)
	}
}

func TestGATTKeyConnectsToReader(t *testing.T) {
	ctx := guardCtx(t)
	readerDev, keyDev := newFakeDevice(), newFakeDevice()
	cands, _ := listenGATT(t, readerDev, GATTOptions{})
	keyDev.dial = func(ctx context.Context, a goble.Addr) (goble.Client, error) {
		return newFakeClient(readerDev, "6b:00:00:00:00:08", DefaultMTU, -55), nil
	}
	key := NewGATTKey(keyDev, GATTOptions{})
	type presented struct {
		l   Link
		err error
	}
	keyLink := make(chan presented, 1)
	go func() {
		l, err := key.Present(ctx, Presence{Discovery: DiscoverConnect})
		keyLink <- presented{l, err}
	}()
	recv(t, keyDev.scanning, "the key to scan")
	keyDev.advert(fakeAdv{addr: "00:00:00:00:00:aa", rssi: -60, services: []goble.UUID{goble.BatteryUUID}, connectable: true})
	keyDev.advert(fakeAdv{addr: "00:00:00:00:00:01", rssi: -60, services: []goble.UUID{ServiceUUID}, connectable: true})
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
	exchangeBothWays(t, ctx, reader, p.l)
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
	phone := newFakeClient(readerDev, "6b:00:00:00:00:01", DefaultMTU, -50)
	rx := readerDev.service().Characteristics[0]
	if err := phone.WriteCharacteristic(rx, []byte{0x00, 'h', 'i'}, false); !errors.Is(err, goble.ErrWriteNotPerm) {
		t.Fatalf("write before subscribing: got %v, want ErrWriteNotPerm", err)
	}
}

func TestGATTReaderDropsIdlePhone(t *testing.T) {
	readerDev := newFakeDevice()
	cands, _ := listenGATT(t, readerDev, GATTOptions{IdleTimeout: 50 * time.Millisecond})
	phoneConn := newFakeClient(readerDev, "6b:00:00:00:00:02", DefaultMTU, -90)
	if _, err := setupClient(phoneConn, DefaultMTU); err != nil {
		t.Fatal(err)
	}
	c := recv(t, cands, "the inbound candidate")
	// Nobody takes it up (too weak, say): the reader hangs up on it.
	recv(t, phoneConn.Disconnected(), "the idle phone to be disconnected")
	if _, err := c.Connect(guardCtx(t)); !errors.Is(err, ErrTaken) {
		t.Fatalf("Connect to a dropped phone: got %v, want ErrTaken", err)
	}
}
