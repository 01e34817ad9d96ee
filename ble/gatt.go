package ble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access/protocol"
)

// gattService is one of the two services of docs/protocol.md ("GATT service
// and characteristics"). Whichever side hosts it is the GATT server and
// notifies on tx; the side that connected writes to rx (with response) and
// subscribes to tx. Each message is cut with protocol.Fragment.
type gattService struct {
	name         string // for errors
	uuid, rx, tx goble.UUID
}

// The key hosts and advertises keyService (the reader connects to it); the
// reader hosts and advertises readerService (for a phone that connects to
// the reader, such as a backgrounded iPhone). The UUIDs are the protocol
// package's, parsed here once.
var (
	keyService = gattService{
		name: "key",
		uuid: goble.MustParse(protocol.KeyServiceUUID),
		rx:   goble.MustParse(protocol.KeyRXUUID),
		tx:   goble.MustParse(protocol.KeyTXUUID),
	}
	readerService = gattService{
		name: "reader",
		uuid: goble.MustParse(protocol.ReaderServiceUUID),
		rx:   goble.MustParse(protocol.ReaderRXUUID),
		tx:   goble.MustParse(protocol.ReaderTXUUID),
	}
)

// MaxMessage bounds a message on any Link, so a hostile peer cannot make
// a transport buffer without bound. A GATT link carries less: the fragment
// format allows 1 to protocol.MaxMessageSize bytes.
const MaxMessage = 64 << 10

// ErrMessageTooLong is returned by Send for a message over MaxMessage.
var ErrMessageTooLong = fmt.Errorf("ble: message longer than %d bytes", MaxMessage)

// ErrNoHCI is returned by OpenHCI where this build has no HCI support.
var ErrNoHCI = errors.New("ble: this build has no HCI (Bluetooth adapter) support; use --radio sim")

// GATTOptions tune the go-ble adapter.
type GATTOptions struct {
	// MTU is the ATT_MTU to ask for; default protocol.DefaultMTU.
	MTU int
	// OfferInterval is how often a key connected to our service but not
	// yet taken up is offered to the reader again (a touch-mode reader only
	// takes keys heard while armed). Default 250ms.
	OfferInterval time.Duration
	// IdleTimeout disconnects a central that subscribed but was not taken
	// up in this time, so idle phones cannot hold the adapter's few
	// connection slots. Default 30s.
	IdleTimeout time.Duration
	Logger      *slog.Logger
}

func (o GATTOptions) withDefaults() GATTOptions {
	if o.MTU < protocol.MinMTU || o.MTU > goble.MaxMTU {
		o.MTU = protocol.DefaultMTU
	}
	if o.OfferInterval <= 0 {
		o.OfferInterval = 250 * time.Millisecond
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// fragments cuts msg for a link whose ATT_MTU is the smaller of what the
// peer granted and what we asked for. protocol.Fragment panics on what its
// format cannot carry, so that is refused here first.
func fragments(msg []byte, granted, asked int) ([][]byte, error) {
	switch {
	case len(msg) > MaxMessage:
		return nil, ErrMessageTooLong
	case len(msg) == 0 || len(msg) > protocol.MaxMessageSize:
		return nil, fmt.Errorf("ble: a %d-byte message cannot go over GATT, which carries 1 to %d bytes", len(msg), protocol.MaxMessageSize)
	}
	return protocol.Fragment(msg, min(granted, asked)), nil
}

// runCtx runs f in its own goroutine, one at a time per sem, and stops
// waiting when ctx ends: go-ble's calls take no context and can block as
// long as the connection lives. Closing the link ends an abandoned f.
func runCtx(ctx context.Context, sem chan struct{}, f func() error) error {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	errc := make(chan error, 1)
	go func() {
		defer func() { <-sem }()
		errc <- f()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// central dials peripherals that advertise svc: a reader taking up an
// advertising key (keyService), or a key connecting to a reader
// (readerService).
type central struct {
	dev  goble.Device
	svc  gattService
	mtu  int
	dial chan struct{} // one connection attempt at a time, as the controller allows
}

func newCentral(dev goble.Device, svc gattService, mtu int) *central {
	return &central{dev: dev, svc: svc, mtu: mtu, dial: make(chan struct{}, 1)}
}

// connect dials addr and sets the link up, within ctx. go-ble's Dial can
// hang past its context (a peer that stops advertising mid-dial), so it runs
// in a goroutine we abandon at ctx's end; a connection that completes later
// is cancelled.
func (c *central) connect(ctx context.Context, addr goble.Addr) (Link, error) {
	select {
	case c.dial <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("dial %s: another dial is still pending: %w", addr, ctx.Err())
	}
	type result struct {
		l   *clientLink
		err error
	}
	ch := make(chan result, 1)
	go func() {
		cln, err := c.dev.Dial(ctx, addr)
		<-c.dial
		if err != nil {
			ch <- result{nil, err}
			return
		}
		l, err := setupClient(cln, c.svc, c.mtu)
		if err != nil {
			cln.CancelConnection()
			ch <- result{nil, err}
			return
		}
		ch <- result{l, nil}
	}()
	select {
	case res := <-ch:
		if res.err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, res.err)
		}
		return res.l, nil
	case <-ctx.Done():
		go func() {
			if res := <-ch; res.l != nil {
				res.l.Close()
			}
		}()
		return nil, fmt.Errorf("dial %s: %w", addr, ctx.Err())
	}
}

// setupClient finds svc on a fresh connection and subscribes to its TX
// (go-ble writes 0x0001 to the CCCD).
func setupClient(cln goble.Client, svc gattService, mtu int) (*clientLink, error) {
	granted, err := cln.ExchangeMTU(mtu)
	if err != nil {
		granted = protocol.MinMTU // some stacks refuse the exchange; the minimum always works
	}
	svcs, err := cln.DiscoverServices([]goble.UUID{svc.uuid})
	if err != nil {
		return nil, fmt.Errorf("discover services: %w", err)
	}
	var found *goble.Service
	for _, s := range svcs {
		if s.UUID.Equal(svc.uuid) {
			found = s
		}
	}
	if found == nil {
		return nil, fmt.Errorf("peer has no Postern %s service", svc.name)
	}
	chars, err := cln.DiscoverCharacteristics([]goble.UUID{svc.rx, svc.tx}, found)
	if err != nil {
		return nil, fmt.Errorf("discover characteristics: %w", err)
	}
	var rx, tx *goble.Characteristic
	for _, ch := range chars {
		switch {
		case ch.UUID.Equal(svc.rx):
			rx = ch
		case ch.UUID.Equal(svc.tx):
			tx = ch
		}
	}
	if rx == nil || tx == nil {
		return nil, fmt.Errorf("peer's Postern %s service lacks RX or TX", svc.name)
	}
	// Subscribing needs TX's client configuration descriptor.
	if _, err := cln.DiscoverDescriptors(nil, tx); err != nil {
		return nil, fmt.Errorf("discover descriptors: %w", err)
	}
	l := &clientLink{
		cln:     cln,
		rx:      rx,
		mtu:     min(granted, mtu),
		sendSem: make(chan struct{}, 1),
		inbox:   make(chan []byte, 16),
		broken:  make(chan struct{}),
		closed:  make(chan struct{}),
	}
	if err := cln.Subscribe(tx, false, l.onNotify); err != nil {
		return nil, fmt.Errorf("subscribe to %s TX: %w", svc.name, err)
	}
	return l, nil
}

// clientLink is a Link over a connection we (the GATT client) opened.
type clientLink struct {
	cln     goble.Client
	rx      *goble.Characteristic
	mtu     int // the link's ATT_MTU
	sendSem chan struct{}
	inbox   chan []byte
	closed  chan struct{}
	once    sync.Once
	brk     linkBreak
	broken  chan struct{}

	mu    sync.Mutex
	reasm protocol.Reassembler
}

// onNotify is go-ble's notification handler: it runs on go-ble's goroutine,
// so it reassembles and hands off without ever blocking.
func (l *clientLink) onNotify(b []byte) {
	l.mu.Lock()
	msg, done, err := l.reasm.Add(b)
	l.mu.Unlock()
	if err != nil {
		l.brk.set(l.broken, err)
		return
	}
	if done {
		select {
		case l.inbox <- msg:
		default:
			l.brk.set(l.broken, errors.New("peer sent more messages than were read"))
		}
	}
}

func (l *clientLink) Send(ctx context.Context, msg []byte) error {
	frags, err := fragments(msg, l.mtu, l.mtu)
	if err != nil {
		return err
	}
	select {
	case <-l.closed:
		return ErrLinkClosed
	case <-l.cln.Disconnected():
		return io.ErrClosedPipe
	default:
	}
	return runCtx(ctx, l.sendSem, func() error {
		for _, f := range frags {
			// With response: the peer's acknowledgement is our flow control.
			if err := l.cln.WriteCharacteristic(l.rx, f, false); err != nil {
				return fmt.Errorf("write RX: %w", err)
			}
		}
		return nil
	})
}

func (l *clientLink) Recv(ctx context.Context) ([]byte, error) {
	return recvLink(ctx, l.inbox, l.closed, l.broken, &l.brk, l.cln.Disconnected())
}

func (l *clientLink) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.cln.CancelConnection()
	})
	return nil
}

// linkBreak records why a link broke (a bad fragment, an overflow) once.
type linkBreak struct {
	once sync.Once
	err  error
}

func (b *linkBreak) set(ch chan struct{}, err error) {
	b.once.Do(func() {
		b.err = err
		close(ch)
	})
}

// recvLink is Recv for both GATT links: messages first, then why it ended.
func recvLink(ctx context.Context, inbox chan []byte, closed, broken chan struct{}, brk *linkBreak, gone <-chan struct{}) ([]byte, error) {
	select {
	case m := <-inbox:
		return m, nil
	case <-closed:
		return nil, ErrLinkClosed
	case <-broken:
		return nil, brk.err
	case <-gone:
		select {
		case m := <-inbox:
			return m, nil
		default:
			return nil, io.EOF
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// gattServer serves svc to centrals that connect to us: phones connecting
// to a reader (readerService), or a reader connecting to an advertising key
// (keyService). It follows go-ble's HandleWrite / HandleNotify pattern.
type gattServer struct {
	svc      gattService
	mtu      int
	interval time.Duration
	idle     time.Duration
	// offer is called, until the link is taken, once a central has
	// subscribed to TX (only then can we talk back). It must not block.
	offer func(l *serverLink)

	mu    sync.Mutex
	links map[string]*serverLink // by the central's address
}

func newGATTServer(svc gattService, opts GATTOptions, offer func(*serverLink)) *gattServer {
	return &gattServer{svc: svc, mtu: opts.MTU, interval: opts.OfferInterval, idle: opts.IdleTimeout, offer: offer, links: make(map[string]*serverLink)}
}

func (s *gattServer) service() *goble.Service {
	svc := goble.NewService(s.svc.uuid)
	rx := svc.NewCharacteristic(s.svc.rx)
	rx.HandleWrite(goble.WriteHandlerFunc(s.serveWrite))
	// The protocol's RX is write with response only: the ATT response is
	// the flow control, and the only way to refuse a bad fragment.
	rx.Property &^= goble.CharWriteNR
	tx := svc.NewCharacteristic(s.svc.tx)
	tx.HandleNotify(goble.NotifyHandlerFunc(s.serveNotify))
	return svc
}

func (s *gattServer) linkFor(conn goble.Conn) *serverLink {
	key := conn.RemoteAddr().String()
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.links[key]
	if l == nil || l.ended() {
		l = &serverLink{
			conn:    conn,
			mtu:     s.mtu,
			sendSem: make(chan struct{}, 1),
			inbox:   make(chan []byte, 16),
			broken:  make(chan struct{}),
			gone:    make(chan struct{}),
			closed:  make(chan struct{}),
		}
		s.links[key] = l
	}
	return l
}

func (s *gattServer) forget(l *serverLink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := l.conn.RemoteAddr().String()
	if s.links[key] == l {
		delete(s.links, key)
	}
}

func (s *gattServer) lookup(conn goble.Conn) *serverLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.links[conn.RemoteAddr().String()]
}

// serveWrite runs on go-ble's ATT loop for every write to RX: it must only
// reassemble and hand off. A central writes only in answer to what we sent
// on TX, so a write before it subscribed is refused, and no state is kept
// for a central that never subscribes.
func (s *gattServer) serveWrite(req goble.Request, rsp goble.ResponseWriter) {
	l := s.lookup(req.Conn())
	if l == nil {
		rsp.SetStatus(goble.ErrWriteNotPerm)
		return
	}
	if err := l.put(req.Data()); err != nil {
		rsp.SetStatus(goble.ErrUnlikely)
	}
}

// serveNotify runs in its own goroutine (go-ble starts one per
// subscription) for as long as the central stays subscribed.
func (s *gattServer) serveNotify(req goble.Request, n goble.Notifier) {
	l := s.linkFor(req.Conn())
	l.setNotifier(n)
	defer s.forget(l)
	defer l.end()
	t := time.NewTicker(s.interval)
	defer t.Stop()
	idle := time.NewTimer(s.idle)
	defer idle.Stop()
	for {
		if !l.isTaken() {
			s.offer(l)
		}
		select {
		case <-n.Context().Done():
			return
		case <-req.Conn().Disconnected():
			return
		case <-l.closed:
			return
		case <-idle.C:
			if l.take() {
				l.Close() // nobody took it up: free the slot
				return
			}
		case <-t.C:
		}
	}
}

// serverLink is a Link over a connection a central opened to our service.
type serverLink struct {
	conn    goble.Conn
	mtu     int
	sendSem chan struct{}
	inbox   chan []byte
	broken  chan struct{}
	brk     linkBreak
	gone    chan struct{} // the central unsubscribed or disconnected
	goneOne sync.Once
	closed  chan struct{}
	once    sync.Once

	mu    sync.Mutex
	n     goble.Notifier
	reasm protocol.Reassembler
	taken bool
}

func (l *serverLink) setNotifier(n goble.Notifier) {
	l.mu.Lock()
	l.n = n
	l.mu.Unlock()
}

func (l *serverLink) take() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.taken || l.ended() {
		return false
	}
	l.taken = true
	return true
}

func (l *serverLink) isTaken() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.taken
}

func (l *serverLink) ended() bool {
	select {
	case <-l.gone:
		return true
	case <-l.closed:
		return true
	default:
		return false
	}
}

func (l *serverLink) end() { l.goneOne.Do(func() { close(l.gone) }) }

func (l *serverLink) put(frag []byte) error {
	l.mu.Lock()
	msg, done, err := l.reasm.Add(frag)
	l.mu.Unlock()
	if err != nil {
		l.brk.set(l.broken, err)
		return err
	}
	if done {
		select {
		case l.inbox <- msg:
		default:
			err := errors.New("peer sent more messages than were read")
			l.brk.set(l.broken, err)
			return err
		}
	}
	return nil
}

func (l *serverLink) Send(ctx context.Context, msg []byte) error {
	frags, err := fragments(msg, l.conn.TxMTU(), l.mtu)
	if err != nil {
		return err
	}
	l.mu.Lock()
	n := l.n
	l.mu.Unlock()
	switch {
	case l.ended():
		return ErrLinkClosed
	case n == nil:
		return errors.New("peer has not subscribed to TX")
	}
	return runCtx(ctx, l.sendSem, func() error {
		for _, f := range frags {
			if _, err := n.Write(f); err != nil {
				return fmt.Errorf("notify TX: %w", err)
			}
		}
		return nil
	})
}

func (l *serverLink) Recv(ctx context.Context) ([]byte, error) {
	return recvLink(ctx, l.inbox, l.closed, l.broken, &l.brk, l.gone)
}

// Close disconnects the central.
func (l *serverLink) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.conn.Close()
	})
	return nil
}

// foundGuard keeps a radio from calling found after Listen returned, even
// when go-ble delivers a late advert or subscription.
type foundGuard struct {
	mu      sync.RWMutex
	f       func(Candidate)
	stopped bool
}

func (g *foundGuard) found(c Candidate) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if !g.stopped {
		g.f(c)
	}
}

func (g *foundGuard) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
}

// HCIIndex returns N for an adapter binding "hciN".
func HCIIndex(radio string) (int, error) {
	var n int
	if _, err := fmt.Sscanf(radio, "hci%d", &n); err != nil || fmt.Sprintf("hci%d", n) != radio {
		return 0, fmt.Errorf("ble: %q is not an adapter name like hci0", radio)
	}
	return n, nil
}
