package ble

import (
	"context"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	goble "github.com/go-ble/ble"
)

// Fakes of go-ble's own interfaces. They behave as go-ble's Linux stack
// does where the adapter depends on it: Advertise and Scan block until
// their context ends, discovery filters on the UUIDs asked for, a
// subscription starts the NotifyHandler in its own goroutine, notifications
// are cut to ATT_MTU - 3, writes call the WriteHandler synchronously. They
// record what the adapter advertised, looked for, wrote and was notified,
// so tests can hold it to docs/protocol.md.

var (
	_ goble.Device         = (*fakeDevice)(nil)
	_ goble.Client         = (*fakeClient)(nil)
	_ goble.Conn           = (*fakeConn)(nil)
	_ goble.Advertisement  = fakeAdv{}
	_ goble.Request        = goble.NewRequest(nil, nil, 0)
	_ goble.ResponseWriter = goble.NewResponseWriter(nil)
	_ goble.Notifier       = goble.NewNotifier(nil)
)

type fakeDevice struct {
	mu       sync.Mutex
	services []*goble.Service
	adv      goble.Advertisement // the last advert started
	scan     goble.AdvHandler
	// dial, when set, is the device's Dial.
	dial  func(ctx context.Context, a goble.Addr) (goble.Client, error)
	dials atomic.Int32

	advertising chan struct{} // a value per Advertise start
	scanning    chan struct{} // a value per Scan start
}

func newFakeDevice() *fakeDevice {
	return &fakeDevice{advertising: make(chan struct{}, 16), scanning: make(chan struct{}, 16)}
}

func (d *fakeDevice) AddService(svc *goble.Service) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.services = append(d.services, svc)
	return nil
}

func (d *fakeDevice) RemoveAllServices() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.services = nil
	return nil
}

func (d *fakeDevice) SetServices(svcs []*goble.Service) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.services = svcs
	return nil
}

func (d *fakeDevice) Stop() error { return nil }

func (d *fakeDevice) Advertise(ctx context.Context, adv goble.Advertisement) error {
	d.mu.Lock()
	d.adv = adv
	d.mu.Unlock()
	select {
	case d.advertising <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// AdvertiseNameAndServices is refused: go-ble's always adds a local name
// field, even an empty one, and the protocol's adverts carry none.
func (d *fakeDevice) AdvertiseNameAndServices(ctx context.Context, name string, uuids ...goble.UUID) error {
	return goble.ErrNotImplemented
}

func (d *fakeDevice) AdvertiseMfgData(ctx context.Context, id uint16, b []byte) error {
	return goble.ErrNotImplemented
}

func (d *fakeDevice) AdvertiseServiceData16(ctx context.Context, id uint16, b []byte) error {
	return goble.ErrNotImplemented
}

func (d *fakeDevice) AdvertiseIBeaconData(ctx context.Context, b []byte) error {
	return goble.ErrNotImplemented
}

func (d *fakeDevice) AdvertiseIBeacon(ctx context.Context, u goble.UUID, major, minor uint16, pwr int8) error {
	return goble.ErrNotImplemented
}

func (d *fakeDevice) Scan(ctx context.Context, allowDup bool, h goble.AdvHandler) error {
	d.mu.Lock()
	d.scan = h
	d.mu.Unlock()
	select {
	case d.scanning <- struct{}{}:
	default:
	}
	<-ctx.Done()
	d.mu.Lock()
	d.scan = nil
	d.mu.Unlock()
	return ctx.Err()
}

func (d *fakeDevice) Dial(ctx context.Context, a goble.Addr) (goble.Client, error) {
	d.dials.Add(1)
	if d.dial == nil {
		return nil, goble.ErrNotImplemented
	}
	return d.dial(ctx, a)
}

// advert delivers an advert to the running scan, as the HCI event loop does.
func (d *fakeDevice) advert(a goble.Advertisement) {
	d.mu.Lock()
	h := d.scan
	d.mu.Unlock()
	if h != nil {
		h(a)
	}
}

// advertised returns the advert the device last started.
func (d *fakeDevice) advertised() goble.Advertisement {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.adv
}

// hosted returns the services the device serves.
func (d *fakeDevice) hosted() []*goble.Service {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.services)
}

// characteristic returns the hosted characteristic u, or nil.
func (d *fakeDevice) characteristic(u goble.UUID) *goble.Characteristic {
	for _, s := range d.hosted() {
		for _, c := range s.Characteristics {
			if c.UUID.Equal(u) {
				return c
			}
		}
	}
	return nil
}

type fakeAdv struct {
	addr        string
	rssi        int
	services    []goble.UUID
	connectable bool
}

func (a fakeAdv) LocalName() string                { return "" }
func (a fakeAdv) ManufacturerData() []byte         { return nil }
func (a fakeAdv) ServiceData() []goble.ServiceData { return nil }
func (a fakeAdv) Services() []goble.UUID           { return a.services }
func (a fakeAdv) OverflowService() []goble.UUID    { return nil }
func (a fakeAdv) TxPowerLevel() int                { return 0 }
func (a fakeAdv) Connectable() bool                { return a.connectable }
func (a fakeAdv) SolicitedService() []goble.UUID   { return nil }
func (a fakeAdv) RSSI() int                        { return a.rssi }
func (a fakeAdv) Addr() goble.Addr                 { return goble.NewAddr(a.addr) }

// fakeConn is one connection, as the GATT server sees the central.
type fakeConn struct {
	remote       string
	mtu          int
	rssi         int
	ctx          context.Context
	disconnected chan struct{}
	once         sync.Once
}

func newFakeConn(remote string, mtu, rssi int) *fakeConn {
	return &fakeConn{remote: remote, mtu: mtu, rssi: rssi, ctx: context.Background(), disconnected: make(chan struct{})}
}

func (c *fakeConn) Read(p []byte) (int, error)     { return 0, io.EOF }
func (c *fakeConn) Write(p []byte) (int, error)    { return len(p), nil }
func (c *fakeConn) Close() error                   { c.once.Do(func() { close(c.disconnected) }); return nil }
func (c *fakeConn) Context() context.Context       { return c.ctx }
func (c *fakeConn) SetContext(ctx context.Context) { c.ctx = ctx }
func (c *fakeConn) LocalAddr() goble.Addr          { return goble.NewAddr("00:00:00:00:00:01") }
func (c *fakeConn) RemoteAddr() goble.Addr         { return goble.NewAddr(c.remote) }
func (c *fakeConn) RxMTU() int                     { return c.mtu }
func (c *fakeConn) SetRxMTU(mtu int)               {}
func (c *fakeConn) TxMTU() int                     { return c.mtu }
func (c *fakeConn) SetTxMTU(mtu int)               {}
func (c *fakeConn) ReadRSSI() int                  { return c.rssi }
func (c *fakeConn) Disconnected() <-chan struct{}  { return c.disconnected }
func (c *fakeConn) isDisconnected() bool {
	select {
	case <-c.disconnected:
		return true
	default:
		return false
	}
}

// fakeClient is a GATT client connected to a fakeDevice's services: a
// central talking to a peripheral with no radio between.
type fakeClient struct {
	server *fakeDevice
	conn   *fakeConn
	mtu    int

	mu         sync.Mutex
	notifier   goble.Notifier
	svcFilter  []goble.UUID // what DiscoverServices was asked for
	charFilter []goble.UUID // what DiscoverCharacteristics was asked for
	subscribed goble.UUID   // the characteristic subscribed to
	writes     []attValue   // every value written, as sent
	notified   []attValue   // every value notified, as received
}

// attValue is one ATT write or notification.
type attValue struct {
	char  goble.UUID
	value []byte
	noRsp bool
}

// traffic returns what was written and notified so far.
func (c *fakeClient) traffic() (writes, notified []attValue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.writes), slices.Clone(c.notified)
}

// discovery returns the filters discovery was asked for and what was
// subscribed to.
func (c *fakeClient) discovery() (svcs, chars []goble.UUID, subscribed goble.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.svcFilter, c.charFilter, c.subscribed
}

func newFakeClient(server *fakeDevice, addr string, mtu, rssi int) *fakeClient {
	return &fakeClient{server: server, conn: newFakeConn(addr, mtu, rssi), mtu: mtu}
}

func (c *fakeClient) Addr() goble.Addr              { return c.conn.RemoteAddr() }
func (c *fakeClient) Name() string                  { return "" }
func (c *fakeClient) Profile() *goble.Profile       { return nil }
func (c *fakeClient) ReadRSSI() int                 { return c.conn.rssi }
func (c *fakeClient) Conn() goble.Conn              { return c.conn }
func (c *fakeClient) Disconnected() <-chan struct{} { return c.conn.disconnected }

func (c *fakeClient) DiscoverProfile(force bool) (*goble.Profile, error) {
	return nil, goble.ErrNotImplemented
}

func (c *fakeClient) DiscoverServices(filter []goble.UUID) ([]*goble.Service, error) {
	c.mu.Lock()
	c.svcFilter = slices.Clone(filter)
	c.mu.Unlock()
	var out []*goble.Service
	for _, s := range c.server.hosted() {
		if goble.Contains(filter, s.UUID) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (c *fakeClient) DiscoverIncludedServices(filter []goble.UUID, s *goble.Service) ([]*goble.Service, error) {
	return nil, nil
}

func (c *fakeClient) DiscoverCharacteristics(filter []goble.UUID, s *goble.Service) ([]*goble.Characteristic, error) {
	c.mu.Lock()
	c.charFilter = slices.Clone(filter)
	c.mu.Unlock()
	var out []*goble.Characteristic
	for _, ch := range s.Characteristics {
		if goble.Contains(filter, ch.UUID) {
			out = append(out, ch)
		}
	}
	return out, nil
}

func (c *fakeClient) DiscoverDescriptors(filter []goble.UUID, ch *goble.Characteristic) ([]*goble.Descriptor, error) {
	if ch.NotifyHandler == nil {
		return nil, nil
	}
	ch.CCCD = &goble.Descriptor{UUID: goble.ClientCharacteristicConfigUUID}
	return []*goble.Descriptor{ch.CCCD}, nil
}

func (c *fakeClient) ReadCharacteristic(ch *goble.Characteristic) ([]byte, error) {
	return nil, goble.ErrNotImplemented
}

func (c *fakeClient) ReadLongCharacteristic(ch *goble.Characteristic) ([]byte, error) {
	return nil, goble.ErrNotImplemented
}

func (c *fakeClient) WriteCharacteristic(ch *goble.Characteristic, value []byte, noRsp bool) error {
	if c.conn.isDisconnected() {
		return io.ErrClosedPipe
	}
	if len(value) > c.mtu-3 {
		return goble.ErrInvalAttrValueLen // go-ble would not even send it
	}
	c.mu.Lock()
	c.writes = append(c.writes, attValue{char: ch.UUID, value: append([]byte(nil), value...), noRsp: noRsp})
	c.mu.Unlock()
	if ch.WriteHandler == nil {
		return goble.ErrWriteNotPerm
	}
	rsp := goble.NewResponseWriter(nil)
	ch.WriteHandler.ServeWrite(goble.NewRequest(c.conn, append([]byte(nil), value...), 0), rsp)
	if st := rsp.Status(); st != goble.ErrSuccess {
		return st
	}
	return nil
}

func (c *fakeClient) ReadDescriptor(d *goble.Descriptor) ([]byte, error) {
	return nil, goble.ErrNotImplemented
}

func (c *fakeClient) WriteDescriptor(d *goble.Descriptor, v []byte) error {
	return goble.ErrNotImplemented
}

func (c *fakeClient) ExchangeMTU(rxMTU int) (int, error) { return min(rxMTU, c.mtu), nil }

func (c *fakeClient) Subscribe(ch *goble.Characteristic, ind bool, h goble.NotificationHandler) error {
	if ch.CCCD == nil {
		return io.ErrUnexpectedEOF // as go-ble: "CCCD not found"
	}
	if ch.NotifyHandler == nil || ind {
		return goble.ErrReqNotSupp
	}
	n := goble.NewNotifier(func(b []byte) (int, error) {
		if c.conn.isDisconnected() {
			return 0, io.ErrClosedPipe
		}
		if len(b) > c.mtu-3 {
			b = b[:c.mtu-3] // the ATT server truncates silently
		}
		c.mu.Lock()
		c.notified = append(c.notified, attValue{char: ch.UUID, value: append([]byte(nil), b...)})
		c.mu.Unlock()
		h(append([]byte(nil), b...))
		return len(b), nil
	})
	c.mu.Lock()
	c.notifier = n
	c.subscribed = ch.UUID
	c.mu.Unlock()
	go ch.NotifyHandler.ServeNotify(goble.NewRequest(c.conn, nil, 0), n)
	return nil
}

func (c *fakeClient) Unsubscribe(ch *goble.Characteristic, ind bool) error {
	c.mu.Lock()
	n := c.notifier
	c.mu.Unlock()
	if n != nil {
		n.Close()
	}
	return nil
}

func (c *fakeClient) ClearSubscriptions() error { return nil }

func (c *fakeClient) CancelConnection() error {
	c.Unsubscribe(nil, false)
	return c.conn.Close()
}
