package ble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access/protocol"
)

// central dials peripherals that advertise svc: a reader taking up an
// advertising key (keyService), or a key connecting to a reader
// (readerService).
type central struct {
	dev         goble.Device
	svc         gattService
	mtu         int
	dialTimeout time.Duration
	// pause, when set, stops the device's advertising and scanning for a
	// dial, as many controllers refuse to connect while doing either, and
	// returns what resumes them.
	pause func(ctx context.Context) (resume func(), err error)
	dial  chan struct{} // one connection attempt at a time, as the controller allows
}

func newCentral(dev goble.Device, svc gattService, opts GATTOptions) *central {
	return &central{dev: dev, svc: svc, mtu: opts.MTU, dialTimeout: opts.DialTimeout, dial: make(chan struct{}, 1)}
}

// connect dials addr and sets the link up, within ctx. go-ble's Dial can
// hang past its context (a peer that stops advertising mid-dial), so it runs
// in a goroutine we abandon at ctx's end; a connection that completes later
// is dropped.
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
		cln, err := c.dialPaused(ctx, addr)
		<-c.dial
		if err != nil {
			ch <- result{nil, err}
			return
		}
		// Each step of the set-up is an ATT request that go-ble lets wait
		// 30 s for a silent peer: at ctx's end the connection is dropped,
		// which ends the request.
		stop := context.AfterFunc(ctx, func() { cln.Conn().Close() })
		l, err := setupClient(cln, c.svc, c.mtu)
		stop()
		if err != nil {
			cln.Conn().Close()
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

// dialPaused dials addr within the dial timeout, with the device's
// advertising and scanning paused until Dial returns: the controller is
// initiating until then, even when ctx has ended.
func (c *central) dialPaused(ctx context.Context, addr goble.Addr) (goble.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, c.dialTimeout)
	defer cancel()
	if c.pause != nil {
		resume, err := c.pause(ctx)
		if err != nil {
			return nil, fmt.Errorf("pause advertising and scanning: %w", err)
		}
		defer resume()
	}
	return c.dev.Dial(ctx, addr)
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
		conn:    cln.Conn(),
		gone:    cln.Conn().Disconnected(),
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
// go-ble's Client holds one lock across each ATT request, which can wait
// 30 s on a silent peer, and takes it again in Disconnected and
// CancelConnection; so the link keeps the connection itself and its
// disconnection channel, which take no lock.
type clientLink struct {
	cln     goble.Client
	conn    goble.Conn
	gone    <-chan struct{}
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
	case <-l.gone:
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
	return recvLink(ctx, l.inbox, l.closed, l.broken, &l.brk, l.gone)
}

func (l *clientLink) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.conn.Close()
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
