package ble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// The simulated air's door inputs: a client opens with a door frame (JSON
// airDoor) naming a reader and an input; the air hands it to the door
// input handler and answers ready or error, then closes. So a site without
// a board can show a forced or held-open door end to end.
const frameDoor byte = 'D'

type airDoor struct {
	Reader string    `json:"reader"`
	Input  DoorInput `json:"input"`
}

// Error code of a door frame the site could not take.
const airErrDoor = "door"

// DoorInputFunc takes a simulated door input at the reader named reader
// (its name on the air, as in sim:NAME).
type DoorInputFunc func(ctx context.Context, reader string, in DoorInput) error

// SetDoorInputs sets what takes the simulated doors' inputs; nil refuses
// them.
func (a *Air) SetDoorInputs(f DoorInputFunc) {
	a.mu.Lock()
	a.doorInputs = f
	a.mu.Unlock()
}

// serveDoor answers one door frame.
func (a *Air) serveDoor(c net.Conn, payload []byte) {
	var d airDoor
	if err := json.Unmarshal(payload, &d); err != nil || d.Reader == "" || !d.Input.Valid() {
		writeAirErr(c, airErrBadHello, "a door frame names a reader and an input: open, close or exit")
		return
	}
	if len(d.Reader) > maxReaderName {
		writeAirErr(c, airErrBadHello, fmt.Sprintf("the reader's name is longer than %d bytes", maxReaderName))
		return
	}
	a.mu.Lock()
	f := a.doorInputs
	a.mu.Unlock()
	if f == nil {
		writeAirErr(c, airErrDoor, "this air has no doors")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f(ctx, d.Reader, d.Input); err != nil {
		code := airErrDoor
		if errors.Is(err, ErrNoReader) {
			code = airErrNoReader
		}
		writeAirErr(c, code, err.Error())
		return
	}
	writeJSONFrame(c, frameReady, airReady{})
}

// SendDoorInput reports a door input at reader on the simulated air at
// addr, as a door contact or exit button would.
func SendDoorInput(ctx context.Context, addr, reader string, in DoorInput) error {
	if !in.Valid() {
		return fmt.Errorf("unknown door input %q: want open, close or exit", in)
	}
	var dl net.Dialer
	c, err := dl.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot reach the simulated air at %s (is `postern serve --radio sim` running?): %w", addr, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if err := writeJSONFrame(c, frameDoor, airDoor{Reader: reader, Input: in}); err != nil {
		return fmt.Errorf("air: door: %w", err)
	}
	typ, payload, err := readFrame(c)
	if err != nil {
		return fmt.Errorf("air: no answer to the door input: %w", err)
	}
	switch typ {
	case frameReady:
		return nil
	case frameError:
		return decodeAirErr(payload)
	}
	return fmt.Errorf("air: unexpected frame %q", typ)
}
