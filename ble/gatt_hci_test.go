//go:build linux

package ble

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access"
	"postern/ble/hcisim"
)

// The tests in this file run the go-ble adapter on go-ble's real Linux
// stack (HCI, L2CAP, ATT, GATT) over software controllers (package
// hcisim): only the radio is simulated. They do not prove timing, radio
// behaviour or a real controller's quirks beyond those hcisim.Faults
// model (docs/hardware.md).

// simAir is a software-controller air for tests.
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

// listenOn runs a GATTRadio on dev until the test ends, and waits until
// its controller advertises and scans.
func listenOn(t *testing.T, dev goble.Device, ctrl *hcisim.Controller, opts GATTOptions) <-chan Candidate {
	t.Helper()
	radio := NewGATTRadio(dev, opts)
	ch := make(chan Candidate, 1024)
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
	eventually(t, "the reader to advertise and scan", func() bool { return ctrl.Advertising() && ctrl.Scanning() })
	return ch
}

// candidateFrom waits for a candidate from addr.
func candidateFrom(t *testing.T, cands <-chan Candidate, addr hcisim.Address, inbound bool) Candidate {
	t.Helper()
	for {
		c := recv(t, cands, "a candidate from "+addr.String())
		if c.Addr == addr.String() && c.Inbound == inbound {
			return c
		}
	}
}

// runHCIReader runs a Reader on a GATTRadio over dev until the test ends.
func runHCIReader(t *testing.T, dev goble.Device, ctrl *hcisim.Controller, cfg ReaderConfig, ex Exchanger, rec *recorder) *Reader {
	t.Helper()
	r, err := NewReader(NewGATTRadio(dev, GATTOptions{}), cfg, ReaderOptions{Exchanger: ex, Hooks: rec.hooks()})
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
	eventually(t, "the reader to advertise and scan", func() bool { return ctrl.Advertising() && ctrl.Scanning() })
	return r
}

// presentHCIKey presents k on key with discovery d and runs the key's
// half of the exchange.
func presentHCIKey(ctx context.Context, key *GATTKey, d Discovery, k KeyCredential) (KeyOutcome, error) {
	l, err := key.Present(ctx, Presence{Discovery: d})
	if err != nil {
		return KeyOutcome{}, err
	}
	defer l.Close()
	return PresentKey(ctx, l, k, false)
}

// The whole path, as a door sees it: the site's reader loop and keys built
// on go-ble's peripheral, through go-ble's stack both ways round, several
// keys in turn and each twice, so each side advertises again after a
// disconnect.
func TestHCIReaderEndToEnd(t *testing.T) {
	for _, d := range []Discovery{DiscoverAdvertise, DiscoverConnect} {
		t.Run(string(d), func(t *testing.T) {
			f := newSiteFixture(t)
			ap := f.accessPoint("Front door", "hci0", nil)
			holders := f.crowd(3, ap)
			air := newSimAir(t)
			readerDev, readerCtrl := air.device(hcisim.Options{})
			rec := newRecorder()
			// A short debounce, so the same key is taken up again soon
			// after it left, but longer than a key's sightings are apart.
			const debounce = 300 * time.Millisecond
			runHCIReader(t, readerDev, readerCtrl, ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader, Debounce: debounce}, f.x, rec)
			keys := make([]*GATTKey, len(holders))
			ctrls := make([]*hcisim.Controller, len(holders))
			for i := range keys {
				dev, ctrl := air.device(hcisim.Options{})
				// A phone's connection attempt gets longer than the default
				// second: on a test machine busy with other packages the
				// software controller's goroutines can take that long, and
				// this test is about the exchange, not the dial's bound
				// (TestHCIDialGivesUp is).
				keys[i], ctrls[i] = NewGATTKey(dev, GATTOptions{DialTimeout: 5 * time.Second}), ctrl
			}
			ctx := guardCtx(t)
			for round := range 2 {
				time.Sleep(debounce) // the keys have been away long enough
				for i, h := range holders {
					out, err := presentHCIKey(ctx, keys[i], d, f.keyFor(h))
					if err != nil || !out.Result.Granted {
						t.Fatalf("round %d, key %d: %+v, %v; want granted", round, i, out.Result, err)
					}
					if o := recv(t, rec.finished, "the reader's exchange to end"); o.err != nil {
						t.Fatalf("round %d, key %d: the reader's exchange: %v", round, i, o.err)
					}
					eventually(t, "the key and the reader to disconnect", func() bool {
						return ctrls[i].Connections() == 0 && readerCtrl.Connections() == 0
					})
				}
			}
			evs, _, err := f.st.Events(f.ctx, access.EventFilter{Kind: "access.granted", AccessPointID: ap.ID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 2*len(holders) {
				t.Fatalf("%d access.granted events, want %d", len(evs), 2*len(holders))
			}
			for _, e := range evs {
				if e.RSSI != hcisim.DefaultRSSI {
					t.Errorf("event RSSI %d, want the %d dBm the air carried", e.RSSI, hcisim.DefaultRSSI)
				}
			}
		})
	}
}

// Messages longer than an ATT value cross both ways in both roles, at the
// smallest MTU and at a phone's, over small controller buffers (27 bytes,
// as a Bluetooth 4.0 controller has), so go-ble fragments, recombines and
// flow-controls them.
func TestHCILinkCarriesWholeMessages(t *testing.T) {
	for _, d := range []Discovery{DiscoverAdvertise, DiscoverConnect} {
		for _, mtu := range []int{23, 185} {
			t.Run(fmt.Sprintf("%s/mtu=%d", d, mtu), func(t *testing.T) {
				ctx := guardCtx(t)
				air := newSimAir(t)
				readerDev, readerCtrl := air.device(hcisim.Options{})
				keyDev, keyCtrl := air.device(hcisim.Options{})
				cands := listenOn(t, readerDev, readerCtrl, GATTOptions{MTU: mtu})
				p := presentAsync(ctx, NewGATTKey(keyDev, GATTOptions{MTU: mtu}), d)
				c := candidateFrom(t, cands, keyCtrl.Addr(), d == DiscoverConnect)
				reader, err := c.Connect(ctx)
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				key := recv(t, p, "the key to be taken up")
				if key.err != nil {
					t.Fatalf("Present: %v", key.err)
				}
				for range 3 {
					exchangeBothWays(t, ctx, reader, key.l)
				}
				reader.Close()
				if _, err := key.l.Recv(ctx); err == nil {
					t.Fatal("the key's Recv after the reader hung up returned a message")
				}
				key.l.Close()
				eventually(t, "both to disconnect", func() bool { return keyCtrl.Connections() == 0 && readerCtrl.Connections() == 0 })
			})
		}
	}
}

// When the reader advertises, each phone that connects is served while
// earlier ones are still connected: one phone not taken up (a touch
// reader not touched yet, a phone still too far) does not hide the reader
// from the next. (go-ble patch readvertise.)
func TestHCIReaderServesPhonesAtOnce(t *testing.T) {
	ctx := guardCtx(t)
	air := newSimAir(t)
	readerDev, readerCtrl := air.device(hcisim.Options{})
	cands := listenOn(t, readerDev, readerCtrl, GATTOptions{})
	const phones = 3
	links := make([]Link, phones)
	for i := range phones {
		dev, ctrl := air.device(hcisim.Options{})
		short, cancel := context.WithTimeout(ctx, 3*time.Second)
		p := recv(t, presentAsync(short, NewGATTKey(dev, GATTOptions{}), DiscoverConnect), "a phone to connect")
		cancel()
		if p.err != nil {
			t.Fatalf("phone %d of %d could not connect while the others stay connected: %v", i+1, phones, p.err)
		}
		links[i] = p.l
		candidateFrom(t, cands, ctrl.Addr(), true)
	}
	if n := readerCtrl.Connections(); n != phones {
		t.Fatalf("the reader has %d connections, want %d", n, phones)
	}
	for _, l := range links {
		l.Close()
	}
}

// Many controllers refuse to connect while they scan or advertise; the
// reader pauses both around a dial and resumes them after.
func TestHCIReaderPausesToConnect(t *testing.T) {
	ctx := guardCtx(t)
	air := newSimAir(t)
	readerDev, readerCtrl := air.device(hcisim.Options{Faults: hcisim.Faults{
		RefuseConnectWhileScanning:    true,
		RefuseConnectWhileAdvertising: true,
	}})
	cands := listenOn(t, readerDev, readerCtrl, GATTOptions{})
	for range 2 {
		keyDev, keyCtrl := air.device(hcisim.Options{})
		p := presentAsync(ctx, NewGATTKey(keyDev, GATTOptions{}), DiscoverAdvertise)
		reader, err := candidateFrom(t, cands, keyCtrl.Addr(), false).Connect(ctx)
		if err != nil {
			t.Fatalf("Connect on a controller that cannot connect while scanning or advertising: %v", err)
		}
		key := recv(t, p, "the key to be taken up")
		if key.err != nil {
			t.Fatal(key.err)
		}
		exchangeBothWays(t, ctx, reader, key.l)
		reader.Close()
		key.l.Close()
		eventually(t, "the reader to advertise and scan again", func() bool {
			return readerCtrl.Advertising() && readerCtrl.Scanning()
		})
	}
}

// A key that stops advertising between being heard and being dialled does
// not hold the reader's radio: the dial gives up within DialTimeout and
// the reader listens again.
func TestHCIDialGivesUp(t *testing.T) {
	ctx := guardCtx(t)
	air := newSimAir(t)
	readerDev, readerCtrl := air.device(hcisim.Options{})
	cands := listenOn(t, readerDev, readerCtrl, GATTOptions{DialTimeout: 200 * time.Millisecond})
	keyDev, keyCtrl := air.device(hcisim.Options{})
	kctx, leave := context.WithCancel(ctx)
	presentAsync(kctx, NewGATTKey(keyDev, GATTOptions{}), DiscoverAdvertise)
	c := candidateFrom(t, cands, keyCtrl.Addr(), false)
	leave()
	eventually(t, "the key to stop advertising", func() bool { return !keyCtrl.Advertising() })
	if _, err := c.Connect(ctx); err == nil {
		t.Fatal("connected to a key that stopped advertising")
	} else if ctx.Err() != nil {
		t.Fatalf("the dial outlived its own limit: %v", err)
	}
	eventually(t, "the reader to advertise and scan again", func() bool { return readerCtrl.Advertising() && readerCtrl.Scanning() })
}

// A central that connects to the reader and never subscribes (a scanner
// probing every device, a broken app) is hung up on, so it cannot keep one
// of the controller's few connection slots; a key that subscribes is not.
func TestHCIReaderHangsUpOnSilentCentrals(t *testing.T) {
	ctx := guardCtx(t)
	air := newSimAir(t)
	readerDev, readerCtrl := air.device(hcisim.Options{})
	cands := listenOn(t, readerDev, readerCtrl, GATTOptions{SubscribeTimeout: 200 * time.Millisecond})

	probeDev, probeCtrl := air.device(hcisim.Options{})
	probe, err := probeDev.Dial(ctx, readerAddr(readerCtrl))
	if err != nil {
		t.Fatal(err)
	}
	keyDev, keyCtrl := air.device(hcisim.Options{})
	p := presentAsync(ctx, NewGATTKey(keyDev, GATTOptions{}), DiscoverConnect)
	key := recv(t, p, "the key to connect")
	if key.err != nil {
		t.Fatal(key.err)
	}
	candidateFrom(t, cands, keyCtrl.Addr(), true)

	recv(t, probe.Disconnected(), "the silent central to be hung up on")
	if probeCtrl.Connections() != 0 {
		t.Fatal("the silent central is still connected")
	}
	time.Sleep(400 * time.Millisecond) // twice the timeout, for the key's sake
	if keyCtrl.Connections() != 1 {
		t.Fatal("the key, which subscribed, was hung up on")
	}
	key.l.Close()
}

// A phone writes its first message as soon as its subscription is
// answered, and go-ble starts the reader's notify handler on a goroutine
// of its own, which may not have run by then (under CPU load it had not,
// now and then). The reader takes the write from a subscribed phone all
// the same, and the link it is then offered carries it. The notify handler
// is held here until the write has been answered.
func TestHCIReaderTakesAWriteBeforeItsNotifyHandlerRuns(t *testing.T) {
	ctx := guardCtx(t)
	air := newSimAir(t)
	readerDev, readerCtrl := air.device(hcisim.Options{})
	offered := make(chan *serverLink, 64)
	srv := newGATTServer(readerService, GATTOptions{}.withDefaults(), func(l *serverLink) {
		select {
		case offered <- l:
		default:
		}
	})
	held := make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	srv.onSubscribe = func(string) { <-held }
	if err := readerDev.SetServices([]*goble.Service{srv.service()}); err != nil {
		t.Fatal(err)
	}
	actx, stop := context.WithCancel(ctx)
	advErr := make(chan error, 1)
	go func() { advErr <- readerDev.Advertise(actx, serviceAdvert{readerService.uuid}) }()
	t.Cleanup(func() { stop(); <-advErr })
	eventually(t, "the reader to advertise", readerCtrl.Advertising)

	phoneDev, _ := air.device(hcisim.Options{})
	p := recv(t, presentAsync(ctx, NewGATTKey(phoneDev, GATTOptions{}), DiscoverConnect), "the phone to connect and subscribe")
	if p.err != nil {
		t.Fatal(p.err)
	}
	defer p.l.Close()
	hello := testMessage(0xB1, 40)
	if err := p.l.Send(ctx, hello); err != nil {
		t.Fatalf("the phone's first write, before the reader's notify handler ran: %v", err)
	}
	release()
	l := recv(t, offered, "the reader to be offered the phone")
	if !l.take() {
		t.Fatal("the offered link was already taken or ended")
	}
	if got, err := l.Recv(ctx); err != nil || !bytes.Equal(got, hello) {
		t.Fatalf("reader got %x, %v; want the phone's first message %x", got, err, hello)
	}
}

// readerAddr is the address a reader's controller advertises with, as
// go-ble's Dial takes it.
func readerAddr(c *hcisim.Controller) goble.Addr { return goble.NewAddr(c.Addr().String()) }

// One gateway between two doors: two adapters, one reader each, each
// access point bound to its adapter. Each key is near one door and far
// from the other (below the direct mode's threshold there), and opens the
// door it stands at, logged at that access point.
func TestHCITwoAdaptersServeTwoDoors(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "hci0", nil)
	back := f.accessPoint("Back door", "hci1", nil)
	g := access.Group{Name: "Staff"}
	if err := f.st.CreateGroup(f.ctx, "test", &g); err != nil {
		t.Fatal(err)
	}
	f.permit(access.Permission{GroupID: g.ID, AccessPointID: front.ID})
	f.permit(access.Permission{GroupID: g.ID, AccessPointID: back.ID})
	u := f.user("Ada")
	if err := f.st.SetUserGroups(f.ctx, "test", u.ID, []int64{g.ID}); err != nil {
		t.Fatal(err)
	}
	h := f.register(u)

	air := newSimAir(t)
	dev0, ctrl0 := air.device(hcisim.Options{})
	dev1, ctrl1 := air.device(hcisim.Options{})
	rec := newRecorder()
	m := NewManager(ManagerOptions{
		Radios:    map[string]Radio{"hci0": NewGATTRadio(dev0, GATTOptions{}), "hci1": NewGATTRadio(dev1, GATTOptions{})},
		Exchanger: f.x,
		Hooks:     rec.hooks(),
	})
	t.Cleanup(func() { m.Close() })
	cfgs := []ReaderConfig{
		{ID: front.ID, Name: front.Name, Binding: front.Reader},
		{ID: back.ID, Name: back.Name, Binding: back.Reader},
	}
	if err := m.Sync(cfgs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*hcisim.Controller{ctrl0, ctrl1} {
		eventually(t, "both readers to listen", func() bool { return c.Advertising() && c.Scanning() })
	}

	ctx := guardCtx(t)
	tests := []struct {
		door      access.AccessPoint
		near, far *hcisim.Controller
		discovery Discovery
	}{
		{door: front, near: ctrl0, far: ctrl1, discovery: DiscoverAdvertise},
		{door: back, near: ctrl1, far: ctrl0, discovery: DiscoverAdvertise},
		{door: front, near: ctrl0, far: ctrl1, discovery: DiscoverConnect},
		{door: back, near: ctrl1, far: ctrl0, discovery: DiscoverConnect},
	}
	for i, tt := range tests {
		keyDev, keyCtrl := air.device(hcisim.Options{})
		air.air.SetRSSI(keyCtrl, tt.near, -50)
		air.air.SetRSSI(keyCtrl, tt.far, -90)
		if tt.discovery == DiscoverConnect {
			// A phone that connects goes to the reader it hears best.
			air.air.OutOfRange(keyCtrl, tt.far)
		}
		out, err := presentHCIKey(ctx, NewGATTKey(keyDev, GATTOptions{}), tt.discovery, f.keyFor(h))
		if err != nil || !out.Result.Granted {
			t.Fatalf("presentation %d at %s: %+v, %v; want granted", i, tt.door.Name, out.Result, err)
		}
		recv(t, rec.finished, "the exchange to end")
		evs, _, err := f.st.Events(f.ctx, access.EventFilter{Kind: "access.granted", Limit: 1})
		if err != nil || len(evs) != 1 {
			t.Fatalf("events: %v, %v", evs, err)
		}
		if evs[0].AccessPointID != tt.door.ID || evs[0].RSSI != -50 {
			t.Fatalf("presentation %d logged at access point %d at %d dBm, want %s (%d) at -50", i, evs[0].AccessPointID, evs[0].RSSI, tt.door.Name, tt.door.ID)
		}
	}
	for _, s := range drain(rec.skipped) {
		if s.why != SkipWeakSignal {
			t.Errorf("a key was skipped for %v; the only skips should be the far door's weak signal", s.why)
		}
	}
}

// drain returns what is queued on ch now.
func drain[T any](ch <-chan T) []T {
	var out []T
	for {
		select {
		case v := <-ch:
			out = append(out, v)
		default:
			return out
		}
	}
}

// Calibration as an installer does it: a phone at the door reads weaker
// than the threshold on this adapter, so it is refused; Calibrate measures
// it where it stands, and with the offset applied the same phone opens.
func TestHCICalibrateAtTheDoor(t *testing.T) {
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "hci0", nil) // direct: -60 dBm
	h := f.crowd(1, ap)[0]
	air := newSimAir(t)
	readerDev, readerCtrl := air.device(hcisim.Options{})
	rec := newRecorder()
	cfg := ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader}
	r := runHCIReader(t, readerDev, readerCtrl, cfg, f.x, rec)
	keyDev, keyCtrl := air.device(hcisim.Options{})
	air.air.SetRSSI(keyCtrl, readerCtrl, -70) // a weak adapter, or a metal door frame

	ctx := guardCtx(t)
	p := presentAsync(ctx, NewGATTKey(keyDev, GATTOptions{}), DiscoverAdvertise)
	if s := recv(t, rec.skipped, "the phone to be refused as weak"); s.why != SkipWeakSignal {
		t.Fatalf("skipped for %v, want weak signal", s.why)
	}
	cal, err := r.Calibrate()
	if err != nil {
		t.Fatal(err)
	}
	if cal.Key != keyCtrl.Addr().String() || cal.Median != -70 || cal.Offset != 10 {
		t.Fatalf("calibration %+v, want the phone's median -70 and an offset of 10 dB", cal)
	}
	cfg.RSSIOffset = cal.Offset
	if err := r.Update(cfg); err != nil {
		t.Fatal(err)
	}
	key := recv(t, p, "the phone to be taken up once calibrated")
	if key.err != nil {
		t.Fatal(key.err)
	}
	out, err := PresentKey(ctx, key.l, f.keyFor(h), false)
	key.l.Close()
	if err != nil || !out.Result.Granted {
		t.Fatalf("%+v, %v; want granted", out.Result, err)
	}
}
