package ble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// ErrNoReader matches (errors.Is) the air's refusal of a presence at a
// reader that does not exist.
var ErrNoReader = errors.New("no such reader")

// ErrNotTakenUp matches (errors.Is) a key giving up because no reader took
// it up before its deadline: out of range, too weak, or not armed.
var ErrNotTakenUp = errors.New("not taken up by the reader")

// AirError is a refusal from the simulated air. Its message is written for
// the person at the key (`no reader named "x"`).
type AirError struct {
	Code    string
	Message string
}

// Error returns the air's message, as the key should show it.
func (e *AirError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrNoReader) hold for the air's no_reader code,
// and errors.Is(err, ErrNotTakenUp) for the air hanging up on a key no
// reader took up.
func (e *AirError) Is(target error) bool {
	return target == ErrNoReader && e.Code == airErrNoReader || target == ErrNotTakenUp && e.Code == airErrIdle
}

// AirPresence is a soft key present at a reader on the simulated air. It
// yields a Link once the reader takes the key up.
type AirPresence struct {
	conn      net.Conn
	addr      string
	reader    string
	connected chan struct{}
	inbox     chan []byte
	done      chan struct{} // closed when the connection to the air ended
	endErr    error         // why; set before done is closed
	closed    chan struct{}
	closeOnce sync.Once
	wmu       sync.Mutex
}

// DialAir joins the simulated air at addr as a key present at p.Reader. It
// returns once the air has accepted the presence; an unknown reader is an
// error matching ErrNoReader.
func DialAir(ctx context.Context, addr string, p Presence) (*AirPresence, error) {
	if p.Reader == "" {
		return nil, errors.New("air: the presence names no reader")
	}
	if p.Discovery == "" {
		p.Discovery = DiscoverAdvertise
	}
	if !p.Discovery.Valid() {
		return nil, fmt.Errorf("air: unknown discovery %q (want advertise or connect)", p.Discovery)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the simulated air at %s (is `postern serve --radio sim` running?): %w", addr, err)
	}
	// The hello exchange honours ctx: its end breaks the blocking I/O.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	ready, err := airHandshake(c, p)
	if !stop() {
		err = ctx.Err()
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	ap := &AirPresence{
		conn:      c,
		addr:      ready.Addr,
		reader:    p.Reader,
		connected: make(chan struct{}),
		inbox:     make(chan []byte, 64),
		done:      make(chan struct{}),
		closed:    make(chan struct{}),
	}
	go ap.readLoop()
	return ap, nil
}

func airHandshake(c net.Conn, p Presence) (airReady, error) {
	var ready airReady
	h := airHello(p)
	if err := writeJSONFrame(c, frameHello, h); err != nil {
		return ready, fmt.Errorf("air: hello: %w", err)
	}
	typ, payload, err := readFrame(c)
	if err != nil {
		return ready, fmt.Errorf("air: no answer to hello: %w", err)
	}
	switch typ {
	case frameReady:
		if err := json.Unmarshal(payload, &ready); err != nil {
			return ready, fmt.Errorf("air: bad ready frame: %w", err)
		}
		return ready, nil
	case frameError:
		return ready, decodeAirErr(payload)
	default:
		return ready, fmt.Errorf("air: unexpected frame %q", typ)
	}
}

func decodeAirErr(payload []byte) error {
	var e airErr
	if err := json.Unmarshal(payload, &e); err != nil || e.Message == "" {
		return &AirError{Code: "unknown", Message: "the simulated air refused the key"}
	}
	return &AirError{Code: e.Code, Message: e.Message}
}

// Addr is the radio address the air gave this presence.
func (p *AirPresence) Addr() string { return p.addr }

// Link waits until the reader takes the key up. When ctx ends first the
// error matches ErrNotTakenUp and says which reader did not answer.
func (p *AirPresence) Link(ctx context.Context) (Link, error) {
	select {
	case <-p.connected:
		return airKeyLink{p}, nil
	case <-p.done:
		select {
		case <-p.connected:
			return airKeyLink{p}, nil
		default:
		}
		if p.endErr == io.EOF {
			return nil, errors.New("the simulated air closed the connection")
		}
		return nil, p.endErr
	case <-p.closed:
		return nil, ErrLinkClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("reader %q did not take the key up before the timeout (out of range, too weak a signal, or not armed): %w: %w",
			p.reader, ErrNotTakenUp, ctx.Err())
	}
}

// Close leaves the air; the reader sees the link end.
func (p *AirPresence) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return p.conn.Close()
}

func (p *AirPresence) readLoop() {
	var connectedOnce sync.Once
	var err error
	for err == nil {
		typ, payload, rerr := readFrame(p.conn)
		if rerr != nil {
			err = p.cut(rerr)
			break
		}
		switch typ {
		case frameConnected:
			connectedOnce.Do(func() { close(p.connected) })
		case frameMsg:
			select {
			case p.inbox <- payload:
			case <-p.closed:
				err = ErrLinkClosed
			}
		case frameError:
			err = decodeAirErr(payload)
		case frameHangup:
			err = io.EOF // the reader hung up: the link's orderly end
		}
	}
	p.endErr = err
	close(p.done)
}

// cut is why the connection ended without a word from the air: this key
// closed it; or, once a reader had taken the key up, the link was lost
// (ErrLinkLost: the reader decided nothing it could say); or, before, the
// air went away.
func (p *AirPresence) cut(err error) error {
	select {
	case <-p.closed:
		return ErrLinkClosed
	default:
	}
	select {
	case <-p.connected:
		return fmt.Errorf("%w: %v", ErrLinkLost, err)
	default:
		return err
	}
}

// airKeyLink is the key's side of a link over the air.
type airKeyLink struct{ p *AirPresence }

func (l airKeyLink) Send(ctx context.Context, msg []byte) error {
	p := l.p
	if len(msg) > MaxMessage {
		return ErrMessageTooLong
	}
	select {
	case <-p.closed:
		return ErrLinkClosed
	case <-p.done:
		if errors.Is(p.endErr, ErrLinkLost) {
			return p.endErr
		}
		return io.ErrClosedPipe // the reader hung up, or the air refused
	default:
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(writeTimeout)
	}
	p.conn.SetWriteDeadline(deadline)
	return writeFrame(p.conn, frameMsg, msg)
}

func (l airKeyLink) Recv(ctx context.Context) ([]byte, error) {
	p := l.p
	select {
	case m := <-p.inbox:
		return m, nil
	case <-p.done:
		select {
		case m := <-p.inbox:
			return m, nil
		default:
		}
		if p.endErr == io.EOF {
			return nil, io.EOF
		}
		return nil, p.endErr
	case <-p.closed:
		return nil, ErrLinkClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l airKeyLink) Close() error { return l.p.Close() }

// AirKeyRadio is a KeyRadio on the simulated air at Addr: what
// `postern key present` uses.
type AirKeyRadio struct {
	Addr string
}

// Present joins the air at the reader and waits, until ctx ends, for the
// reader to take the key up.
func (r AirKeyRadio) Present(ctx context.Context, p Presence) (Link, error) {
	addr := r.Addr
	if addr == "" {
		addr = DefaultAirAddr
	}
	ap, err := DialAir(ctx, addr, p)
	if err != nil {
		return nil, err
	}
	l, err := ap.Link(ctx)
	if err != nil {
		ap.Close()
		return nil, err
	}
	return l, nil
}
