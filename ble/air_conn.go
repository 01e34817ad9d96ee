package ble

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"
)

// helloTimeout bounds how long a connection may sit without saying hello.
const helloTimeout = 5 * time.Second

// maxReaderName bounds the reader a hello names (sim:NAME allows 63
// characters): the name is logged and quoted back, so a stranger's hello
// has a size first.
const maxReaderName = 64

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
	if typ == frameDoor {
		a.serveDoor(c, payload)
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
	case len(h.Reader) > maxReaderName:
		writeAirErr(c, airErrBadHello, fmt.Sprintf("the reader's name is longer than %d bytes", maxReaderName))
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
	idle := time.NewTimer(a.idle)
	defer idle.Stop()
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
		case <-idle.C:
			log.Debug("air: key not taken up: hanging up", "after", a.idle)
			k.writeErr(airErrIdle, fmt.Sprintf("reader %q did not take the key up within %v", h.Reader, a.idle))
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
