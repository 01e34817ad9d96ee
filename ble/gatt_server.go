package ble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access/protocol"
)

// gattServer serves svc to centrals that connect to us: phones connecting
// to a reader (readerService), or a reader connecting to an advertising key
// (keyService). It follows go-ble's HandleWrite / HandleNotify pattern.
type gattServer struct {
	svc      gattService
	tx       *goble.Characteristic // set by service
	mtu      int
	interval time.Duration
	idle     time.Duration
	linger   time.Duration
	// offer is called, until the link is taken, once a central has
	// subscribed to TX (only then can we talk back). It must not block.
	offer func(l *serverLink)
	// onSubscribe, when set, hears of each subscription as it starts.
	onSubscribe func(addr string)

	// links holds the link of each connection: by connection, not by the
	// central's address, as a central that reconnects keeps its address
	// and its previous connection's link may not have ended yet.
	mu    sync.Mutex
	links map[goble.Conn]*serverLink
}

func newGATTServer(svc gattService, opts GATTOptions, offer func(*serverLink)) *gattServer {
	return &gattServer{svc: svc, mtu: opts.MTU, interval: opts.OfferInterval, idle: opts.IdleTimeout, linger: opts.Linger, offer: offer, links: make(map[goble.Conn]*serverLink)}
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
	s.tx = tx
	return svc
}

// subscribed reports whether the central of req has subscribed to TX. It
// asks the client configuration descriptor go-ble adds to TX (on the ATT
// loop that keeps its state, which req comes from); without one (fakes of
// go-ble) it reports false.
func (s *gattServer) subscribed(req goble.Request) bool {
	if s.tx == nil || s.tx.CCCD == nil || s.tx.CCCD.ReadHandler == nil {
		return false
	}
	// go-ble's ResponseWriter takes no more than the buffer's capacity (the
	// ATT server hands it one sized to the MTU): an empty bytes.Buffer
	// would take nothing, and every central would read as unsubscribed.
	buf := bytes.NewBuffer(make([]byte, 0, 2))
	s.tx.CCCD.ReadHandler.ServeRead(req, goble.NewResponseWriter(buf))
	return buf.Len() == 2 && binary.LittleEndian.Uint16(buf.Bytes())&cccNotify != 0
}

// cccNotify is the notification bit of a client configuration descriptor.
const cccNotify = 0x0001

func (s *gattServer) linkFor(conn goble.Conn) *serverLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.links[conn]
	if l == nil || l.ended() {
		l = &serverLink{
			conn:    conn,
			mtu:     s.mtu,
			linger:  s.linger,
			sendSem: make(chan struct{}, 1),
			inbox:   make(chan []byte, 16),
			broken:  make(chan struct{}),
			gone:    make(chan struct{}),
			closed:  make(chan struct{}),
		}
		s.links[conn] = l
	}
	return l
}

func (s *gattServer) forget(l *serverLink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.links[l.conn] == l {
		delete(s.links, l.conn)
	}
}

func (s *gattServer) lookup(conn goble.Conn) *serverLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.links[conn]
}

// serveWrite runs on go-ble's ATT loop for every write to RX: it must only
// reassemble and hand off. A central writes only in answer to what we sent
// on TX, so a write before it subscribed is refused, and no state is kept
// for a central that never subscribes. go-ble starts serveNotify on a
// goroutine of its own, so a central that subscribed and wrote at once
// (a reader sends its challenge, a phone its hello, as soon as it has
// subscribed) may find no link yet: it starts here then, if the central's
// client configuration says it subscribed, and serveNotify takes it on.
func (s *gattServer) serveWrite(req goble.Request, rsp goble.ResponseWriter) {
	l := s.lookup(req.Conn())
	if l == nil && s.subscribed(req) {
		l = s.linkFor(req.Conn())
	}
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
	if s.onSubscribe != nil {
		s.onSubscribe(req.Conn().RemoteAddr().String())
	}
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
	// linger is how long Close waits for the central to hang up when the
	// last message went out as notifications, which nothing acknowledges.
	linger   time.Duration
	sentLast atomic.Bool

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
		l.sentLast.Store(false)
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
	l.sentLast.Store(true)
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

// Close ends the link at once and disconnects the central. When our last
// message went out as notifications, which are not acknowledged and which
// a controller may drop when it disconnects, the disconnect waits (in the
// background, up to linger) for the central to hang up once it has read
// it, as a key does after the result.
func (l *serverLink) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.mu.Lock()
		n := l.n
		l.mu.Unlock()
		if n == nil || !l.sentLast.Load() {
			l.conn.Close()
			return
		}
		go func() {
			t := time.NewTimer(l.linger)
			defer t.Stop()
			select {
			case <-n.Context().Done():
			case <-l.conn.Disconnected():
			case <-t.C:
			}
			l.conn.Close()
		}()
	})
	return nil
}
