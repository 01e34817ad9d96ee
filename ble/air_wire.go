package ble

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The simulated air's wire protocol, between a soft key and the air, over
// TCP. Every frame is
//
//	uint32 big-endian length of what follows (1 + len(payload))
//	byte   frame type
//	...    payload
//
// The key opens with a hello (JSON airHello). The air answers with either
// ready (JSON airReady: the reader exists and is hearing the key) or error
// (JSON airErr, then closes). When the reader takes the key up the air sends
// connected; from then on msg frames carry opaque protocol messages both
// ways. When the reader hangs up, the air sends hangup after the last
// message and closes; a connection that ends without a hangup was cut,
// which the key tells from a refusal.
const (
	frameHello     byte = 'H'
	frameReady     byte = 'R'
	frameError     byte = 'E'
	frameConnected byte = 'C'
	frameMsg       byte = 'M'
	frameHangup    byte = 'X'
)

// maxFrame bounds a frame so a broken or hostile peer cannot make either
// side allocate without limit; it leaves room for a MaxMessage message.
const maxFrame = MaxMessage + 1

type airHello struct {
	Reader    string    `json:"reader"`
	RSSI      int       `json:"rssi"`
	Touch     bool      `json:"touch,omitempty"`
	Discovery Discovery `json:"discovery,omitempty"`
}

type airReady struct {
	Addr string `json:"addr"`
}

// Error codes the air sends in an error frame.
const (
	airErrNoReader      = "no_reader"
	airErrBadHello      = "bad_hello"
	airErrReaderStopped = "reader_stopped"
	airErrClosing       = "air_closing"
	airErrBusy          = "air_busy"
	airErrIdle          = "not_taken_up"
)

type airErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeFrame(w io.Writer, typ byte, payload []byte) error {
	if len(payload)+1 > maxFrame {
		return fmt.Errorf("air: frame of %d bytes is too long", len(payload))
	}
	// One Write per frame, so concurrent writers guarded by a mutex never
	// interleave and a frame is never split across two syscalls needlessly.
	buf := make([]byte, 5+len(payload))
	binary.BigEndian.PutUint32(buf, uint32(1+len(payload)))
	buf[4] = typ
	copy(buf[5:], payload)
	_, err := w.Write(buf)
	return err
}

func writeJSONFrame(w io.Writer, typ byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFrame(w, typ, b)
}

var errFrameTooLong = errors.New("air: frame too long")

func readFrame(r io.Reader) (typ byte, payload []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return 0, nil, errors.New("air: empty frame")
	}
	if n > maxFrame {
		return 0, nil, errFrameTooLong
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return buf[0], buf[1:], nil
}
