package ble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"
)

// DefaultAirAddr is where `postern serve --radio sim` runs the simulated air.
const DefaultAirAddr = "127.0.0.1:7390"

// ErrAirClosed is returned by Serve and Listen once the air is closed.
var ErrAirClosed = errors.New("ble: simulated air closed")

// Faults are what the simulated air does to protocol messages, for fault
// tests. They apply to messages on a connected link, in both directions.
type Faults struct {
	// Latency is added to every message.
	Latency time.Duration
	// Drop is the probability, from 0 to 1, that a message is silently
	// lost, as a BLE packet lost past its retries would be.
	Drop float64
	// RelayDelay is the extra one-way delay a link-layer relay adds
	// (NCC Group, 2022): the key answers correctly, only late.
	RelayDelay time.Duration
}

// AirOptions configure an Air.
type AirOptions struct {
	Faults Faults
	// AdvertInterval is how often a key waiting at a reader is offered
	// again, as a real key's adverts repeat. Default 100ms.
	AdvertInterval time.Duration
	// Seed makes drops and addresses reproducible; zero picks one at random.
	Seed   uint64
	Logger *slog.Logger
}

// Air is the simulated air: a loopback TCP service that soft keys join as
// peripherals and in-process readers listen on, so the reader loop runs the
// same code over it as over a real radio.
type Air struct {
	interval time.Duration
	log      *slog.Logger
	done     chan struct{}
	wg       sync.WaitGroup

	mu        sync.Mutex
	faults    Faults
	rng       *rand.Rand
	readers   map[string]*airReader
	changed   chan struct{} // closed and replaced whenever readers changes
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
}

// NewAir returns an air with no readers; attach readers with Radio and serve
// keys with Serve.
func NewAir(opts AirOptions) *Air {
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	interval := opts.AdvertInterval
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Air{
		interval:  interval,
		log:       log,
		done:      make(chan struct{}),
		faults:    opts.Faults,
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		readers:   make(map[string]*airReader),
		changed:   make(chan struct{}),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[net.Conn]struct{}),
	}
}

// SetFaults changes the injected faults; messages already in flight keep
// the delay they were sent with.
func (a *Air) SetFaults(f Faults) {
	a.mu.Lock()
	a.faults = f
	a.mu.Unlock()
}

// Radio returns the air as a Radio for in-process readers; the reader name
// is the part after "sim:" in an access point's binding.
func (a *Air) Radio() Radio { return airRadio{a} }

// Readers lists the readers listening on the air, sorted.
func (a *Air) Readers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, 0, len(a.readers))
	for n := range a.readers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// WaitReader waits until a reader with the given name listens on the air, so
// a caller can present a key without racing the reader's start.
func (a *Air) WaitReader(ctx context.Context, name string) error {
	for {
		a.mu.Lock()
		_, ok := a.readers[name]
		changed := a.changed
		a.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-a.done:
			return ErrAirClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Serve accepts soft keys on l until the air is closed (then it returns
// ErrAirClosed) or l fails.
func (a *Air) Serve(l net.Listener) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		l.Close()
		return ErrAirClosed
	}
	a.listeners[l] = struct{}{}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.listeners, l)
		a.mu.Unlock()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			select {
			case <-a.done:
				return ErrAirClosed
			default:
			}
			return fmt.Errorf("air: accept: %w", err)
		}
		a.mu.Lock()
		if a.closed {
			a.mu.Unlock()
			c.Close()
			return ErrAirClosed
		}
		a.conns[c] = struct{}{}
		a.wg.Add(1)
		a.mu.Unlock()
		go func() {
			defer a.wg.Done()
			a.serveKey(c)
			a.mu.Lock()
			delete(a.conns, c)
			a.mu.Unlock()
		}()
	}
}

// Close stops serving: listeners close, waiting keys are told the air is
// closing, links end, readers' Listen return. It waits for all of it.
func (a *Air) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		a.wg.Wait()
		return nil
	}
	a.closed = true
	close(a.done)
	for l := range a.listeners {
		l.Close()
	}
	for c := range a.conns {
		// Break reads still waiting for a hello; the key goroutines see
		// done and close their connections themselves.
		c.SetReadDeadline(time.Now())
	}
	a.mu.Unlock()
	a.wg.Wait()
	return nil
}

// delay is how long a message sent now takes across the air, or false when
// the air loses it.
func (a *Air) delay() (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.faults
	if f.Drop > 0 && (f.Drop >= 1 || a.rng.Float64() < f.Drop) {
		return 0, false
	}
	return f.Latency + f.RelayDelay, true
}

// newAddr draws a random resolvable private address, like a phone's: it
// names a key while it is in range and nothing more.
func (a *Air) newAddr() string {
	a.mu.Lock()
	v := a.rng.Uint64()
	a.mu.Unlock()
	b := [6]byte{byte(v>>40)&0x3f | 0x40, byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	return net.HardwareAddr(b[:]).String()
}

// sleep waits d, or less when the air closes; it reports whether to go on.
func (a *Air) sleep(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-a.done:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.done:
		return false
	}
}

type airRadio struct{ a *Air }

// Listen attaches a reader to the air under name until ctx ends.
func (r airRadio) Listen(ctx context.Context, name string, found func(Candidate)) error {
	a := r.a
	if name == "" {
		return errors.New("air: reader name is empty")
	}
	ar := &airReader{name: name, found: found, gone: make(chan struct{})}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return ErrAirClosed
	}
	if _, dup := a.readers[name]; dup {
		a.mu.Unlock()
		return fmt.Errorf("air: a reader named %q is already listening", name)
	}
	a.readers[name] = ar
	a.notifyChangedLocked()
	a.mu.Unlock()
	a.log.Info("air: reader listening", "reader", name)

	var err error
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case <-a.done:
		err = ErrAirClosed
	}
	a.mu.Lock()
	delete(a.readers, name)
	a.notifyChangedLocked()
	a.mu.Unlock()
	ar.stop()
	a.log.Info("air: reader stopped", "reader", name)
	return err
}

func (a *Air) notifyChangedLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// airReader is one reader attached to the air. Its lock makes stop wait for
// offers in progress, so found is never called after Listen returns.
type airReader struct {
	name  string
	found func(Candidate)
	gone  chan struct{}

	mu      sync.RWMutex
	stopped bool
}

func (ar *airReader) offer(c Candidate) bool {
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	if ar.stopped {
		return false
	}
	ar.found(c)
	return true
}

func (ar *airReader) stop() {
	ar.mu.Lock()
	ar.stopped = true
	close(ar.gone)
	ar.mu.Unlock()
}

// helloTimeout bounds how long a connection may sit without saying hello.
const helloTimeout = 5 * time.Second

// writeTimeout bounds one frame write, so a key that stops reading cannot
// hold a link goroutine forever.
const writeTimeout = 5 * time.Second

// airKey is one soft key's presence at a reader: one TCP connection, offered
// to the reader until it is taken up once.
type airKey struct {
	a     *Air
	conn  net.Conn
	hello airHello
	addr  string
	taken chan struct{} // closed when a reader connected
	gone  chan struct{} // closed when the key's connection ended

	wmu sync.Mutex

	mu      sync.Mutex
	link    *airLink
	isGone  bool
	isTaken bool
}

func (a *Air) serveKey(c net.Conn) {
	defer c.Close()
	log := a.log.With("remote", c.RemoteAddr().String())
	c.SetReadDeadline(time.Now().Add(helloTimeout))
	typ, payload, err := readFrame(c)
	if err != nil {
		log.Debug("air: no hello", "err", err)
		return
	}
	var h airHello
	if typ != frameHello || json.Unmarshal(payload, &h) != nil {
		writeAirErr(c, airErrBadHello, "the first frame must be a hello")
		return
	}
	if h.Discovery == "" {
		h.Discovery = DiscoverAdvertise
	}
	switch {
	case h.Reader == "":
		writeAirErr(c, airErrBadHello, "hello names no reader")
		return
	case !h.Discovery.Valid():
		writeAirErr(c, airErrBadHello, fmt.Sprintf("unknown discovery %q (want advertise or connect)", h.Discovery))
		return
	case h.RSSI < -127 || h.RSSI > 20:
		writeAirErr(c, airErrBadHello, fmt.Sprintf("RSSI %d dBm is out of range (-127 to 20)", h.RSSI))
		return
	}
	c.SetReadDeadline(time.Time{})

	a.mu.Lock()
	ar := a.readers[h.Reader]
	a.mu.Unlock()
	if ar == nil {
		writeAirErr(c, airErrNoReader, fmt.Sprintf("no reader named %q", h.Reader))
		return
	}
	k := &airKey{a: a, conn: c, hello: h, addr: a.newAddr(), taken: make(chan struct{}), gone: make(chan struct{})}
	log = log.With("reader", h.Reader, "key", k.addr, "rssi", h.RSSI)
	if err := k.writeJSON(frameReady, airReady{Addr: k.addr}); err != nil {
		return
	}
	log.Debug("air: key present")
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		k.readLoop()
	}()

	cand := Candidate{
		Addr:    k.addr,
		RSSI:    h.RSSI,
		Touch:   h.Touch,
		Inbound: h.Discovery == DiscoverConnect,
		Connect: k.connect,
	}
	tick := time.NewTicker(a.interval)
	defer tick.Stop()
	for taken := false; !taken; {
		if !ar.offer(cand) {
			k.writeErr(airErrReaderStopped, fmt.Sprintf("reader %q stopped", h.Reader))
			return
		}
		select {
		case <-k.taken:
			taken = true
		case <-tick.C:
		case <-k.gone:
			log.Debug("air: key left before it was taken up")
			return
		case <-ar.gone:
			// The reader may have taken the key up just before it stopped.
			select {
			case <-k.taken:
				taken = true
			default:
				k.writeErr(airErrReaderStopped, fmt.Sprintf("reader %q stopped", h.Reader))
				return
			}
		case <-a.done:
			k.writeErr(airErrClosing, "the simulated air is closing")
			return
		}
	}
	log.Debug("air: key taken up")
	select {
	case <-k.gone:
	case <-k.link.flushed:
	case <-a.done:
	}
}

func writeAirErr(c net.Conn, code, msg string) {
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	writeJSONFrame(c, frameError, airErr{Code: code, Message: msg})
}

func (k *airKey) write(typ byte, payload []byte) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	k.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	return writeFrame(k.conn, typ, payload)
}

func (k *airKey) writeJSON(typ byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return k.write(typ, b)
}

func (k *airKey) writeErr(code, msg string) {
	k.writeJSON(frameError, airErr{Code: code, Message: msg})
}

// connect is the Candidate's Connect: the reader takes the key up.
func (k *airKey) connect(ctx context.Context) (Link, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.isTaken || k.isGone {
		k.mu.Unlock()
		return nil, ErrTaken
	}
	l, err := newAirLink(k)
	if err != nil {
		k.mu.Unlock()
		return nil, err
	}
	k.isTaken = true
	k.link = l
	k.mu.Unlock()
	if err := k.write(frameConnected, nil); err != nil {
		l.Close()
		return nil, fmt.Errorf("air: key %s: %w", k.addr, err)
	}
	close(k.taken)
	return l, nil
}

// readLoop carries the key's frames onto its link until the key hangs up.
func (k *airKey) readLoop() {
	for {
		typ, p, err := readFrame(k.conn)
		if err != nil {
			break
		}
		if typ != frameMsg {
			continue // nothing else is meaningful from a key after hello
		}
		k.mu.Lock()
		l := k.link
		k.mu.Unlock()
		if l == nil {
			continue // spoken before any reader connected: nobody hears it
		}
		l.fromKeyPush(p)
	}
	k.mu.Lock()
	k.isGone = true
	l := k.link
	k.mu.Unlock()
	if l != nil {
		l.fromKeyEOF()
	}
	close(k.gone)
}

// inflight is a message crossing the air, due at its delivery time.
type inflight struct {
	msg []byte
	at  time.Time
	eof bool
}

// airLink is the reader's side of a link over the air. Each direction is a
// FIFO pumped by its own goroutine, so delays keep messages in order.
type airLink struct {
	k       *airKey
	a       *Air
	toKey   chan inflight
	fromKey chan inflight
	inbox   chan []byte
	eof     chan struct{} // closed once every message from the key is in inbox
	flushed chan struct{} // closed once messages to the key are written after Close
	closed  chan struct{}
	once    sync.Once
}

func newAirLink(k *airKey) (*airLink, error) {
	l := &airLink{
		k:       k,
		a:       k.a,
		toKey:   make(chan inflight, 256),
		fromKey: make(chan inflight, 256),
		inbox:   make(chan []byte, 64),
		eof:     make(chan struct{}),
		flushed: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	// Add under the lock Close takes, so no pump starts once Close waits.
	l.a.mu.Lock()
	if l.a.closed {
		l.a.mu.Unlock()
		return nil, ErrAirClosed
	}
	l.a.wg.Add(2)
	l.a.mu.Unlock()
	go func() {
		defer l.a.wg.Done()
		l.pumpToKey()
	}()
	go func() {
		defer l.a.wg.Done()
		l.pumpFromKey()
	}()
	return l, nil
}

func (l *airLink) Send(ctx context.Context, msg []byte) error {
	if len(msg) > MaxMessage {
		return ErrMessageTooLong
	}
	select {
	case <-l.closed:
		return ErrLinkClosed
	case <-l.k.gone:
		return io.ErrClosedPipe
	default:
	}
	d, ok := l.a.delay()
	if !ok {
		return nil
	}
	it := inflight{msg: append([]byte(nil), msg...), at: time.Now().Add(d)}
	select {
	case l.toKey <- it:
		return nil
	case <-l.closed:
		return ErrLinkClosed
	case <-l.a.done:
		return ErrAirClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *airLink) Recv(ctx context.Context) ([]byte, error) {
	select {
	case m := <-l.inbox:
		return m, nil
	case <-l.eof:
		select {
		case m := <-l.inbox:
			return m, nil
		default:
			return nil, io.EOF
		}
	case <-l.closed:
		return nil, ErrLinkClosed
	case <-l.a.done:
		return nil, ErrAirClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close ends the link after the messages already sent reach the key.
func (l *airLink) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *airLink) pumpToKey() {
	deliver := func(it inflight) bool {
		if !l.a.sleep(time.Until(it.at)) {
			return false
		}
		l.k.write(frameMsg, it.msg) // an error means the key is gone; readLoop notices
		return true
	}
	defer close(l.flushed)
	for {
		select {
		case it := <-l.toKey:
			if !deliver(it) {
				return
			}
		case <-l.closed:
			for {
				select {
				case it := <-l.toKey:
					if !deliver(it) {
						return
					}
				default:
					l.k.conn.Close() // the key sees the reader hang up
					return
				}
			}
		case <-l.a.done:
			return
		}
	}
}

func (l *airLink) pumpFromKey() {
	for {
		select {
		case it := <-l.fromKey:
			if !l.a.sleep(time.Until(it.at)) {
				return
			}
			if it.eof {
				close(l.eof)
				return
			}
			select {
			case l.inbox <- it.msg:
			case <-l.closed:
				return
			case <-l.a.done:
				return
			}
		case <-l.closed:
			return
		case <-l.a.done:
			return
		}
	}
}

func (l *airLink) fromKeyPush(msg []byte) {
	d, ok := l.a.delay()
	if !ok {
		return
	}
	l.fromKeyEnqueue(inflight{msg: msg, at: time.Now().Add(d)})
}

func (l *airLink) fromKeyEOF() {
	l.fromKeyEnqueue(inflight{eof: true, at: time.Now()})
}

func (l *airLink) fromKeyEnqueue(it inflight) {
	select {
	case l.fromKey <- it:
	case <-l.closed:
	case <-l.a.done:
	}
}
