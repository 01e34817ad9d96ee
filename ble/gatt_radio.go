package ble

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	goble "github.com/go-ble/ble"
)

// GATTRadio is a Radio over a go-ble Device: the reader both scans for keys
// advertising the key service and advertises the reader service, so a phone
// that cannot be found by scanning (a backgrounded iPhone) can connect
// (docs/protocol.md, "Discovery"). The Device is injected, never go-ble's
// global default.
type GATTRadio struct {
	dev       goble.Device
	opts      GATTOptions
	central   *central
	listening atomic.Bool
	// pauses carries a dial's request to Listen to stop advertising and
	// scanning until the dial is over.
	pauses chan pauseRequest
}

// pauseRequest asks Listen to pause: Listen closes paused once the device
// neither advertises nor scans, and resumes when resume is closed.
type pauseRequest struct {
	paused, resume chan struct{}
}

// NewGATTRadio wraps dev (see OpenHCI) as a reader's radio.
func NewGATTRadio(dev goble.Device, opts GATTOptions) *GATTRadio {
	opts = opts.withDefaults()
	g := &GATTRadio{dev: dev, opts: opts, central: newCentral(dev, keyService, opts), pauses: make(chan pauseRequest)}
	g.central.pause = g.pause
	return g
}

// Listen scans and advertises until ctx ends, pausing both while the
// reader dials a key. One adapter is one reader, so the reader name only
// labels errors.
func (g *GATTRadio) Listen(ctx context.Context, reader string, found func(Candidate)) error {
	if !g.listening.CompareAndSwap(false, true) {
		return fmt.Errorf("ble: adapter for reader %q is already listening", reader)
	}
	defer g.listening.Store(false)
	guard := &foundGuard{f: found}
	defer guard.stop()

	srv := newGATTServer(readerService, g.opts, func(l *serverLink) { guard.found(inboundCandidate(l)) })
	if d, ok := g.dev.(inboundWatcher); ok {
		w := newInboundWatch(g.opts.SubscribeTimeout)
		srv.onSubscribe = w.subscribed
		d.watchInbound(w)
		defer w.stop()
		defer d.watchInbound(nil)
	}
	if err := g.dev.SetServices([]*goble.Service{srv.service()}); err != nil {
		return fmt.Errorf("ble: reader %q: set services: %w", reader, err)
	}
	defer g.dev.RemoveAllServices()
	for {
		req, err := g.listen(ctx, guard)
		if err != nil {
			return fmt.Errorf("ble: reader %q: %w", reader, err)
		}
		if req.paused == nil {
			return ctx.Err()
		}
		close(req.paused)
		select {
		case <-req.resume:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// listen advertises and scans until ctx ends (it returns no request) or a
// dial asks for a pause (it returns the request once both have stopped).
// If either stops on its own, both stop and that is the error.
func (g *GATTRadio) listen(ctx context.Context, guard *foundGuard) (pauseRequest, error) {
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 2)
	go func() { errc <- g.dev.Advertise(lctx, serviceAdvert{readerService.uuid}) }()
	go func() { errc <- g.dev.Scan(lctx, true, g.advHandler(guard.found)) }()
	var (
		req     pauseRequest
		err     error
		pending = 2
	)
	select {
	case req = <-g.pauses:
	case err = <-errc:
		pending--
		switch {
		case ctx.Err() != nil:
			err = nil // ctx ended as it failed
		case err == nil:
			err = errors.New("advertising or scanning stopped")
		}
	case <-ctx.Done():
	}
	stop()
	for ; pending > 0; pending-- {
		<-errc
	}
	return req, err
}

// pause stops Listen's advertising and scanning for a dial. When Listen is
// not running there is nothing to pause.
func (g *GATTRadio) pause(ctx context.Context) (resume func(), err error) {
	if !g.listening.Load() {
		return func() {}, nil
	}
	req := pauseRequest{paused: make(chan struct{}), resume: make(chan struct{})}
	select {
	case g.pauses <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	resume = sync.OnceFunc(func() { close(req.resume) })
	select {
	case <-req.paused:
		return resume, nil
	case <-ctx.Done():
		resume()
		return nil, ctx.Err()
	}
}

// advHandler filters adverts on the key service UUID and offers the key. It
// runs on go-ble's event loop, so it does nothing that can block: the dial
// happens later, in Candidate.Connect, on the reader's goroutine.
func (g *GATTRadio) advHandler(found func(Candidate)) goble.AdvHandler {
	return func(a goble.Advertisement) {
		if !a.Connectable() || !advertises(a, keyService.uuid) {
			return
		}
		addr := a.Addr()
		found(Candidate{
			Addr: addr.String(),
			RSSI: a.RSSI(),
			Connect: func(ctx context.Context) (Link, error) {
				return g.central.connect(ctx, addr)
			},
		})
	}
}

// advertises reports whether an advert lists the service u. (go-ble's
// Contains treats an empty list as a match: it is a filter helper.)
func advertises(a goble.Advertisement, u goble.UUID) bool {
	return slices.ContainsFunc(a.Services(), u.Equal)
}

// serviceAdvert is an advert that carries one service UUID and nothing
// else, as the protocol requires of readers and keys alike. (go-ble's
// AdvertiseNameAndServices always adds a local name field, even an empty
// one; its Advertise leaves out every field that is empty here.)
type serviceAdvert struct{ uuid goble.UUID }

func (a serviceAdvert) LocalName() string                { return "" }
func (a serviceAdvert) ManufacturerData() []byte         { return nil }
func (a serviceAdvert) ServiceData() []goble.ServiceData { return nil }
func (a serviceAdvert) Services() []goble.UUID           { return []goble.UUID{a.uuid} }
func (a serviceAdvert) OverflowService() []goble.UUID    { return nil }
func (a serviceAdvert) TxPowerLevel() int                { return 0 }
func (a serviceAdvert) Connectable() bool                { return true }
func (a serviceAdvert) SolicitedService() []goble.UUID   { return nil }
func (a serviceAdvert) RSSI() int                        { return 0 }
func (a serviceAdvert) Addr() goble.Addr                 { return nil }

// inboundCandidate offers a key that connected to the reader's service.
func inboundCandidate(l *serverLink) Candidate {
	return Candidate{
		Addr:    l.conn.RemoteAddr().String(),
		RSSI:    l.conn.ReadRSSI(),
		Inbound: true,
		Connect: func(ctx context.Context) (Link, error) {
			if !l.take() {
				return nil, ErrTaken
			}
			return l, nil
		},
	}
}

// GATTKey is a KeyRadio over a go-ble Device: the soft key on a real
// adapter.
type GATTKey struct {
	dev     goble.Device
	opts    GATTOptions
	central *central
	busy    atomic.Bool
}

// NewGATTKey wraps dev as a key's radio.
func NewGATTKey(dev goble.Device, opts GATTOptions) *GATTKey {
	opts = opts.withDefaults()
	return &GATTKey{dev: dev, opts: opts, central: newCentral(dev, readerService, opts)}
}

// Present makes the key known to whichever reader is in range: by hosting
// and advertising the key service until a reader connects and subscribes,
// or by connecting to the first reader heard advertising the reader
// service. p.Reader, p.RSSI and p.Touch are physics here and are ignored.
func (k *GATTKey) Present(ctx context.Context, p Presence) (Link, error) {
	if !k.busy.CompareAndSwap(false, true) {
		return nil, errors.New("ble: key is already present")
	}
	var (
		l   Link
		err error
	)
	switch p.Discovery {
	case "", DiscoverAdvertise:
		l, err = k.advertise(ctx)
	case DiscoverConnect:
		l, err = k.connect(ctx)
	default:
		err = fmt.Errorf("ble: unknown discovery %q", p.Discovery)
	}
	if err != nil {
		k.busy.Store(false)
		return nil, err
	}
	return &releasingLink{Link: l, release: func() { k.busy.Store(false) }}, nil
}

func (k *GATTKey) advertise(ctx context.Context) (Link, error) {
	offered := make(chan *serverLink, 1)
	srv := newGATTServer(keyService, k.opts, func(l *serverLink) {
		select {
		case offered <- l:
		default:
		}
	})
	if err := k.dev.SetServices([]*goble.Service{srv.service()}); err != nil {
		return nil, fmt.Errorf("ble: set services: %w", err)
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	advErr := make(chan error, 1)
	go func() { advErr <- k.dev.Advertise(actx, serviceAdvert{keyService.uuid}) }()
	for {
		select {
		case l := <-offered:
			if !l.take() {
				continue
			}
			stop()
			<-advErr
			return &releasingLink{Link: l, release: func() { k.dev.RemoveAllServices() }}, nil
		case err := <-advErr:
			k.dev.RemoveAllServices()
			if ctx.Err() != nil {
				return nil, notTakenUp(ctx)
			}
			return nil, fmt.Errorf("ble: advertise: %w", err)
		case <-ctx.Done():
			stop()
			<-advErr
			k.dev.RemoveAllServices()
			return nil, notTakenUp(ctx)
		}
	}
}

func (k *GATTKey) connect(ctx context.Context) (Link, error) {
	heard := make(chan goble.Addr, 1)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	scanErr := make(chan error, 1)
	go func() {
		scanErr <- k.dev.Scan(sctx, false, func(a goble.Advertisement) {
			if a.Connectable() && advertises(a, readerService.uuid) {
				select {
				case heard <- a.Addr():
				default:
				}
			}
		})
	}()
	select {
	case addr := <-heard:
		stop()
		<-scanErr
		return k.central.connect(ctx, addr)
	case err := <-scanErr:
		if ctx.Err() != nil {
			return nil, notTakenUp(ctx)
		}
		return nil, fmt.Errorf("ble: scan: %w", err)
	case <-ctx.Done():
		stop()
		<-scanErr
		return nil, notTakenUp(ctx)
	}
}

func notTakenUp(ctx context.Context) error {
	return fmt.Errorf("no reader took the key up before the timeout (out of range?): %w: %w", ErrNotTakenUp, ctx.Err())
}

// releasingLink runs release once when the link is closed.
type releasingLink struct {
	Link
	release func()
	done    atomic.Bool
}

func (l *releasingLink) Close() error {
	err := l.Link.Close()
	if l.done.CompareAndSwap(false, true) {
		l.release()
	}
	return err
}
