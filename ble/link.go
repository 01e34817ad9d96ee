// Package ble is Postern's radio side: the reader loop that takes keys up at
// an access point, the key's half of being present at a reader, the simulated
// air that stands in for a BLE radio, and the thin adapter over go-ble.
//
// Everything above the transport works on whole protocol messages carried by
// a Link; the exchange itself (challenge, response, decision, result) is
// injected as an Exchanger so this package never looks inside a message.
package ble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Link is one connected key<->reader pipe carrying whole protocol messages
// of at most MaxMessage bytes. The transport fragments below it (BLE: see
// Fragments), so a Send is received by exactly one Recv on the other side,
// whole, or not at all.
type Link interface {
	// Send queues one message for the peer. It may return before the peer
	// has it; a lost link shows up as an error on a later Send or Recv.
	Send(ctx context.Context, msg []byte) error
	// Recv waits for the next whole message. It returns io.EOF once the peer
	// has closed and every message it sent before has been received.
	Recv(ctx context.Context) ([]byte, error)
	// Close ends the link; messages already sent are still delivered.
	Close() error
}

// Candidate is a key heard by a reader. Either the phone advertises and the
// reader connects to it, or the phone connected to the reader's own
// advertised service (a backgrounded iPhone cannot be found by scanning);
// the exchange afterwards is the same.
type Candidate struct {
	// Addr identifies the key on the radio for as long as it stays in range.
	// Phones rotate random addresses, so it is not an identity.
	Addr string
	// RSSI is the received signal strength in dBm.
	RSSI int
	// Touch is set when the holder touched the reader (the sim's --touch).
	Touch bool
	// Inbound is set when the key connected to the reader's service, so
	// Connect hands over a link that is already open.
	Inbound bool
	// Phone is set when a web key opens over the network ("open from this
	// phone"): no radio, so no signal and no proximity. Addr is then the
	// request's address, and the access point is met as ForPhone has it.
	Phone bool
	// Connect opens (or takes over) the link to the key. A radio offers the
	// same key repeatedly while it is in range; only one Connect succeeds.
	Connect func(ctx context.Context) (Link, error)
}

// Radio is what a reader loop needs from the air, real or simulated.
type Radio interface {
	// Listen hears keys at the named reader until ctx ends or the radio
	// fails, calling found for every sighting (a key in range is offered
	// again and again, as its adverts repeat). found must not block, and is
	// never called after Listen returns.
	Listen(ctx context.Context, reader string, found func(Candidate)) error
}

// Discovery is how a key makes itself known to a reader.
type Discovery string

// Discovery styles.
const (
	// DiscoverAdvertise: the key advertises our service and the reader
	// connects (Android, foreground iOS).
	DiscoverAdvertise Discovery = "advertise"
	// DiscoverConnect: the key connects to the reader's advertised service
	// (a backgrounded iPhone, which scanners cannot find).
	DiscoverConnect Discovery = "connect"
)

// Valid reports whether d is a known discovery style.
func (d Discovery) Valid() bool {
	return d == DiscoverAdvertise || d == DiscoverConnect
}

// Presence is a key being at a reader. Reader, RSSI and Touch only matter on
// the simulated air: on a real radio they are physics.
type Presence struct {
	Reader    string
	RSSI      int
	Touch     bool
	Discovery Discovery
}

// KeyRadio is what a key needs: be present at a reader (advertise, or
// connect to the reader's service) until the reader takes it up, then serve
// its half of the exchange on the returned Link and Close it.
type KeyRadio interface {
	Present(ctx context.Context, p Presence) (Link, error)
}

// ErrLinkClosed is returned by Send and Recv on a link closed on this side.
var ErrLinkClosed = fmt.Errorf("ble: link closed: %w", net.ErrClosed)

// ErrLinkLost is returned by a key's Recv when the link ended without the
// reader hanging up: the connection was cut (the reader's host stopped or
// the radio dropped it), so the reader decided nothing it could say.
var ErrLinkLost = errors.New("ble: the link to the reader was lost")

// ErrTaken is returned by Candidate.Connect when another Connect already
// took the key up, or the key has gone.
var ErrTaken = errors.New("ble: key already taken up or gone")

// Pipe returns two connected in-memory Links: what one sends, the other
// receives. It lets an exchange be run and tested without any radio.
func Pipe() (Link, Link) {
	a := &pipeEnd{in: make(chan []byte, 64), closed: make(chan struct{})}
	b := &pipeEnd{in: make(chan []byte, 64), closed: make(chan struct{})}
	a.peer, b.peer = b, a
	return a, b
}

type pipeEnd struct {
	in     chan []byte
	closed chan struct{}
	once   sync.Once
	peer   *pipeEnd
}

func (p *pipeEnd) Send(ctx context.Context, msg []byte) error {
	if len(msg) > MaxMessage {
		return ErrMessageTooLong
	}
	select {
	case <-p.closed:
		return ErrLinkClosed
	case <-p.peer.closed:
		return io.ErrClosedPipe
	default:
	}
	select {
	case p.peer.in <- append([]byte(nil), msg...):
		return nil
	case <-p.closed:
		return ErrLinkClosed
	case <-p.peer.closed:
		return io.ErrClosedPipe
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pipeEnd) Recv(ctx context.Context) ([]byte, error) {
	select {
	case m := <-p.in:
		return m, nil
	case <-p.closed:
		return nil, ErrLinkClosed
	case <-p.peer.closed:
		// Deliver what the peer sent before it closed.
		select {
		case m := <-p.in:
			return m, nil
		default:
			return nil, io.EOF
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pipeEnd) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}
