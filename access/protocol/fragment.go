package protocol

import (
	"encoding/binary"
	"fmt"
)

// BLE sizes. A message travels as fragments, each one ATT write (reader to
// key) or notification (key to reader) whose value is at most ATT_MTU - 3
// bytes.
const (
	// DefaultMTU is the ATT MTU Postern asks for; iOS and most Android
	// stacks grant 185.
	DefaultMTU = 185
	// MinMTU is the ATT MTU every BLE link supports without negotiation.
	MinMTU = 23
	// attOverhead is the ATT opcode and handle in a write or notification.
	attOverhead = 3
	// MaxMessageSize bounds a reassembled message; every version 1 message
	// is well under it, and the bound stops a peer from making the other
	// side buffer without limit.
	MaxMessageSize = 512
)

// Fragment header bits. Bits 0-5 count fragments modulo 64.
const (
	fragFirst   = 0x80
	fragLast    = 0x40
	fragSeqMask = 0x3F
)

// Fragment splits a message into ATT values for a link with the given ATT
// MTU (the negotiated value, for example DefaultMTU; anything below MinMTU
// counts as MinMTU). The first fragment carries a one-byte header and the
// message's two-byte length, the others only the header. It panics on an
// empty message or one over 65535 bytes, which this package never makes.
func Fragment(msg []byte, mtu int) [][]byte {
	if len(msg) == 0 || len(msg) > 0xFFFF {
		panic(fmt.Sprintf("protocol: Fragment: message of %d bytes", len(msg)))
	}
	if mtu < MinMTU {
		mtu = MinMTU
	}
	room := mtu - attOverhead
	var frags [][]byte
	seq := byte(0)
	for off := 0; off < len(msg); seq = (seq + 1) & fragSeqMask {
		var f []byte
		if off == 0 {
			f = make([]byte, 3, room)
			f[0] = fragFirst
			binary.BigEndian.PutUint16(f[1:], uint16(len(msg)))
		} else {
			f = make([]byte, 1, room)
			f[0] = seq
		}
		n := min(room-len(f), len(msg)-off)
		f = append(f, msg[off:off+n]...)
		off += n
		if off == len(msg) {
			f[0] |= fragLast
		}
		frags = append(frags, f)
	}
	return frags
}

// Reassembler rebuilds one message at a time from fragments in order. It
// refuses, with ErrMalformed, a fragment out of sequence, a continuation
// without a start, a message over its size bound, an empty fragment, and a
// last fragment that does not end the message exactly. After any error it
// starts over, expecting a first fragment. The zero value is ready to use.
type Reassembler struct {
	// MaxSize bounds a message; 0 means MaxMessageSize.
	MaxSize int

	buf    []byte
	want   int
	seq    byte
	active bool
}

// Reset drops any partial message.
func (r *Reassembler) Reset() {
	r.buf, r.want, r.seq, r.active = nil, 0, 0, false
}

// Add takes the next fragment. It returns the message and done=true when the
// fragment completes one, and done=false while more are needed.
func (r *Reassembler) Add(frag []byte) (msg []byte, done bool, err error) {
	fail := func(format string, args ...any) ([]byte, bool, error) {
		r.Reset()
		return nil, false, refuse(ErrMalformed, "fragment: "+format, args...)
	}
	if len(frag) < 2 {
		return fail("%d bytes, too short to carry data", len(frag))
	}
	h := frag[0]
	seq := h & fragSeqMask
	var data []byte
	if h&fragFirst != 0 {
		if r.active {
			return fail("a new message started before fragment %d of the previous one", r.seq)
		}
		if seq != 0 {
			return fail("first fragment numbered %d, want 0", seq)
		}
		if len(frag) < 4 {
			return fail("first fragment of %d bytes, too short to carry data", len(frag))
		}
		limit := r.MaxSize
		if limit <= 0 {
			limit = MaxMessageSize
		}
		want := int(binary.BigEndian.Uint16(frag[1:3]))
		if want == 0 || want > limit {
			return fail("message length %d, want 1 to %d", want, limit)
		}
		r.active, r.want, r.buf = true, want, make([]byte, 0, want)
		data = frag[3:]
	} else {
		if !r.active {
			return fail("continuation fragment %d without a first fragment", seq)
		}
		if seq != r.seq {
			return fail("fragment %d out of order, want %d", seq, r.seq)
		}
		data = frag[1:]
	}
	if len(r.buf)+len(data) > r.want {
		return fail("message overruns its length %d", r.want)
	}
	r.buf = append(r.buf, data...)
	r.seq = (seq + 1) & fragSeqMask
	last := h&fragLast != 0
	switch {
	case len(r.buf) == r.want && !last:
		return fail("message of %d bytes is complete but the fragment is not marked last", r.want)
	case len(r.buf) < r.want && last:
		return fail("last fragment after %d of %d bytes", len(r.buf), r.want)
	case last:
		msg = r.buf
		r.Reset()
		return msg, true, nil
	}
	return nil, false, nil
}
