package ble

import (
	"errors"
	"fmt"
)

// Message framing over a GATT characteristic.
//
// A protocol message is usually larger than one ATT payload (ATT_MTU - 3
// bytes: 182 at our default MTU of 185, 20 at BLE's minimum of 23), so it is
// sent as a run of ATT values: writes to the RX characteristic (GATT client
// to server) or notifications on TX (server to client), whichever side of
// the exchange the client is. Each value carries one fragment:
//
//	byte 0     header: bit 7 (0x80) set = more fragments follow;
//	           bits 0-6 = fragment sequence number within the message,
//	           starting at 0 and wrapping after 127
//	byte 1...  the next slice of the message (may be empty)
//
// A message ends with the first fragment whose bit 7 is clear; an empty
// message is the single byte 0x00. A receiver that sees an unexpected
// sequence number drops the partial message and reports an error, so a lost
// or reordered fragment never splices two messages together. Messages are
// at most MaxMessage bytes.

// MaxMessage is the largest message the fragment layer reassembles; a
// longer one is refused so a hostile peer cannot make us buffer without
// bound.
const MaxMessage = 64 << 10

const (
	fragMore    = 0x80
	fragSeqMask = 0x7f
)

// ErrMessageTooLong is returned by Send for a message over MaxMessage.
var ErrMessageTooLong = fmt.Errorf("ble: message longer than %d bytes", MaxMessage)

// ErrFragment is wrapped by every reassembly error.
var ErrFragment = errors.New("ble: bad fragment")

// Fragments splits msg into fragments of at most payload bytes each (the
// ATT value size: ATT_MTU - 3), header included.
func Fragments(msg []byte, payload int) [][]byte {
	if payload < 2 {
		payload = 2 // one header byte and one data byte at the very least
	}
	chunk := payload - 1
	n := (len(msg) + chunk - 1) / chunk
	if n == 0 {
		n = 1
	}
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		start := i * chunk
		end := min(start+chunk, len(msg))
		hdr := byte(i & fragSeqMask)
		if i < n-1 {
			hdr |= fragMore
		}
		f := make([]byte, 0, 1+end-start)
		f = append(f, hdr)
		f = append(f, msg[start:end]...)
		out = append(out, f)
	}
	return out
}

// Reassembler joins fragments back into messages. The zero value is ready;
// it is not safe for concurrent use.
type Reassembler struct {
	buf  []byte
	next byte
	busy bool
}

// Add takes one fragment and returns the whole message when f was its last.
func (r *Reassembler) Add(f []byte) (msg []byte, done bool, err error) {
	if len(f) == 0 {
		r.reset()
		return nil, false, fmt.Errorf("%w: empty fragment", ErrFragment)
	}
	seq := f[0] & fragSeqMask
	if seq != r.next {
		want := r.next
		r.reset()
		return nil, false, fmt.Errorf("%w: sequence %d, want %d", ErrFragment, seq, want)
	}
	if len(r.buf)+len(f)-1 > MaxMessage {
		r.reset()
		return nil, false, fmt.Errorf("%w: message longer than %d bytes", ErrFragment, MaxMessage)
	}
	r.buf = append(r.buf, f[1:]...)
	r.busy = true
	if f[0]&fragMore != 0 {
		r.next = (r.next + 1) & fragSeqMask
		return nil, false, nil
	}
	msg = r.buf
	r.buf = nil
	r.reset()
	if msg == nil {
		msg = []byte{}
	}
	return msg, true, nil
}

// Pending reports whether a message is partly received.
func (r *Reassembler) Pending() bool { return r.busy }

func (r *Reassembler) reset() {
	r.buf = nil
	r.next = 0
	r.busy = false
}
