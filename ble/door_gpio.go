package ble

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3/gpioioctl"

	"postern/access"
)

// Lines opens the GPIO lines access points name: CHIP:OFFSET
// ("gpiochip0:17") or the line's own name ("GPIO17").
type Lines interface {
	Line(name string) (gpio.PinIO, error)
}

// ChardevLines returns the gateway's GPIO lines on the Linux GPIO
// character device, through its v2 uAPI (periph.io's gpioioctl driver),
// never the deprecated sysfs interface. The chips are looked for on first
// use, so a gateway whose doors have no lines never opens one.
func ChardevLines() Lines { return &chardevLines{} }

type chardevLines struct {
	once sync.Once
	err  error
}

func (c *chardevLines) Line(name string) (gpio.PinIO, error) {
	c.once.Do(func() {
		if _, err := driverreg.Init(); err != nil {
			c.err = fmt.Errorf("gpio: %w", err)
			return
		}
		if len(gpioioctl.Chips) == 0 {
			c.err = errors.New("gpio: this gateway has no GPIO character device (/dev/gpiochip*)")
		}
	})
	if c.err != nil {
		return nil, c.err
	}
	if chip, offset, ok := strings.Cut(name, ":"); ok {
		n, err := strconv.Atoi(offset)
		if err != nil {
			return nil, fmt.Errorf("gpio: line %q: the offset is not a number", name)
		}
		for _, ch := range gpioioctl.Chips {
			if ch.Name() == chip && n >= 0 && n < ch.LineCount() {
				return ch.ByNumber(n), nil
			}
		}
		return nil, fmt.Errorf("gpio: no line %d on a chip named %s", n, chip)
	}
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("gpio: no line named %q", name)
}

// relay is a door's lock relay on a GPIO line. De-energised is the lock's
// own safe state: a fail-secure strike locks, a fail-safe maglock opens.
// So a fail-secure relay is energised to unlock and a fail-safe one to
// lock, and the relay rests de-energised whenever Postern is not in
// control.
type relay struct {
	pin gpio.PinOut
	io  access.DoorIO
	// energised is what was last written; nil before the first write,
	// which is always made: a line is never left as it was found.
	energised *bool
}

// set drives the relay to lock or unlock the door.
func (r *relay) set(unlocked bool) error { return r.energise(unlocked != r.io.FailSafe) }

// safe de-energises the relay.
func (r *relay) safe() error { return r.energise(false) }

func (r *relay) energise(on bool) error {
	if r.energised != nil && *r.energised == on {
		return nil
	}
	if err := r.pin.Out(gpio.Level(on != r.io.RelayActiveLow)); err != nil {
		r.energised = nil // unknown: write it again next time
		return err
	}
	r.energised = &on
	return nil
}

// edgePoll bounds how long an input's watcher waits for an edge before it
// looks whether it should stop.
const edgePoll = 200 * time.Millisecond

// lineWatcher turns a GPIO input's edges into debounced changes of level.
// Its settled level and debounce timer are guarded by Doors.mu.
type lineWatcher struct {
	pin       gpio.PinIO
	activeLow bool
	debounce  time.Duration
	onChange  func(active bool) DoorInput // "" when the change means nothing
	stop      chan struct{}

	active bool
	gen    uint64 // edges seen: a debounce check of an older one is stale
	timer  clockwork.Timer
}

func (w *lineWatcher) read() bool { return bool(w.pin.Read()) != w.activeLow }

// wireLocked opens a door's lines: the relay takes the lock over from the
// shared output at once, set from the door's state, and the inputs are
// watched. A line that does not open is logged and left out.
func (d *Doors) wireLocked(dr *door) {
	io := dr.ap.IO
	if d.opts.Lines == nil || !io.Wired() {
		return
	}
	if io.Relay != "" {
		pin, err := d.opts.Lines.Line(io.Relay)
		if err != nil {
			d.log.Error("door relay line: the door stays on the --door output", "access_point", dr.ap.Name, "line", io.Relay, "err", err)
		} else {
			dr.relay = &relay{pin: pin, io: io}
			d.driveLocked(dr)
		}
	}
	debounce := io.Debounce
	if debounce <= 0 {
		debounce = access.DefaultDebounce
	}
	if io.Contact != "" {
		d.watchLocked(dr, io.Contact, io.ContactOpenLow, debounce, func(open bool) DoorInput {
			if open {
				return InputOpen
			}
			return InputClose
		}, func(open bool) { dr.open = open })
	}
	if io.Exit != "" {
		d.watchLocked(dr, io.Exit, io.ExitPressedLow, debounce, func(pressed bool) DoorInput {
			if pressed {
				return InputExit
			}
			return ""
		}, nil)
	}
}

// watchLocked starts watching one input line of dr; initial learns the
// line's level at start without an event.
func (d *Doors) watchLocked(dr *door, name string, activeLow bool, debounce time.Duration, onChange func(bool) DoorInput, initial func(bool)) {
	pin, err := d.opts.Lines.Line(name)
	if err == nil {
		// Inputs are switches to ground: the pull-up gives an open
		// switch a level of its own.
		err = pin.In(gpio.PullUp, gpio.BothEdges)
	}
	if err != nil {
		d.log.Error("door input line left out", "access_point", dr.ap.Name, "line", name, "err", err)
		return
	}
	w := &lineWatcher{pin: pin, activeLow: activeLow, debounce: debounce, onChange: onChange, stop: make(chan struct{})}
	w.active = w.read()
	if initial != nil {
		initial(w.active)
	}
	dr.inputs = append(dr.inputs, w)
	id := dr.ap.ID
	d.watchers.Go(func() {
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			if w.pin.WaitForEdge(edgePoll) {
				d.edge(id, w)
			}
		}
	})
}

// edge notes an edge and arms the debounce check anew, so a bouncing
// contact is read once it has kept still for the debounce time.
func (d *Doors) edge(id int64, w *lineWatcher) {
	d.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.gen++
	gen := w.gen
	w.timer = d.clock.AfterFunc(w.debounce, func() { d.settle(id, w, gen) })
	d.mu.Unlock()
	if d.edgeSeen != nil {
		d.edgeSeen()
	}
}

// settle reads a line that has kept still since edge gen, and turns a
// change of level into the door's input.
func (d *Doors) settle(id int64, w *lineWatcher, gen uint64) {
	d.mu.Lock()
	dr := d.doors[id]
	if w.gen != gen || d.closed || dr == nil || !dr.watches(w) {
		d.mu.Unlock()
		return // a later edge, or the door is gone
	}
	w.timer = nil
	var evs []*access.Event
	var pulse *DoorInfo
	var open time.Duration
	if active := w.read(); active != w.active {
		w.active = active
		if in := w.onChange(active); in != "" {
			evs, pulse, open = d.inputLocked(dr, in)
		}
	}
	d.mu.Unlock()
	ctx := context.Background()
	d.emit(ctx, evs...)
	if pulse != nil {
		if err := d.opts.Output.Pulse(ctx, *pulse, open); err != nil {
			d.log.Error("door did not open for the exit button", "access_point", pulse.Name, "err", err)
		}
	}
	if d.settled != nil {
		d.settled()
	}
}

func (dr *door) watches(w *lineWatcher) bool {
	for _, have := range dr.inputs {
		if have == w {
			return true
		}
	}
	return false
}

// unwireLocked lets a door's lines go: its relay to the safe state (the
// shared output drives the door from now on), its watchers told to stop.
func (d *Doors) unwireLocked(dr *door) {
	if dr.relay != nil {
		if err := dr.relay.safe(); err != nil {
			d.log.Error("door relay did not go safe", "access_point", dr.ap.Name, "err", err)
		}
		dr.relay = nil
		dr.holding = false
	}
	d.unwire(dr)
}

// unwire tells a door's input watchers to stop; Close waits for them.
func (d *Doors) unwire(dr *door) {
	for _, w := range dr.inputs {
		close(w.stop)
		w.pin.Halt()
		if w.timer != nil {
			w.timer.Stop()
		}
	}
	dr.inputs = nil
}
