package ble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"postern/access"
)

// DoorPlan is one access point's door as it should be now: its settings
// and the state access.DoorStateOf computed for it.
type DoorPlan struct {
	AP    access.AccessPoint
	State access.DoorState
}

// DoorInput is what a door's inputs report: its contact opening or
// closing, or its exit button pressed.
type DoorInput string

// Door inputs, as the simulated air, the API and GPIO lines report them.
const (
	InputOpen  DoorInput = "open"
	InputClose DoorInput = "close"
	InputExit  DoorInput = "exit"
)

// Valid reports whether in is a known input.
func (in DoorInput) Valid() bool {
	return in == InputOpen || in == InputClose || in == InputExit
}

// ErrNoDoor is returned for an input at an access point the doors do not
// know (yet): one just created is known within a poll.
var ErrNoDoor = errors.New("ble: no such door")

// DefaultDoorWatchdog is how long the door states may go without being
// refreshed before every relay is put in its safe state.
const DefaultDoorWatchdog = 10 * time.Second

// DoorsOptions are what Doors drives and reports to.
type DoorsOptions struct {
	// Output drives the doors that have no relay line of their own: the
	// gateway's --door output (log or exec:). nil: LogDoor.
	Output Door
	// Lines opens GPIO lines; nil: this gateway has none, and doors with
	// lines set are driven by Output and report no inputs of their own.
	Lines Lines
	// Events receives every door event (opened, closed, forced, held
	// open, exit, unlocked, locked). It is called outside any lock.
	Events func(ctx context.Context, e *access.Event) error
	// Clock drives pulses, debounce, the held-open limit and the
	// watchdog; nil: the real clock.
	Clock clockwork.Clock
	// Watchdog: when Apply has not run for this long (the loop that
	// computes the states is stuck), every relay goes to its safe state.
	// Zero: DefaultDoorWatchdog.
	Watchdog time.Duration
	Logger   *slog.Logger
}

// Doors drives every door of the site: it holds the lock released while
// the door's state unlocks it, pulses it for a grant or an exit, watches
// the contact and exit inputs, and reports what the door does as events:
// opened, closed, forced open, held open too long, request to exit,
// unlocked and locked. It is the Door the readers pulse.
type Doors struct {
	opts  DoorsOptions
	clock clockwork.Clock
	log   *slog.Logger

	watchers sync.WaitGroup // input watchers' goroutines
	edgeSeen func()         // tests: called after each edge is taken in
	settled  func()         // tests: called after each debounce check

	mu        sync.Mutex
	doors     map[int64]*door
	lastApply time.Time
	tripped   bool // the watchdog has made the relays safe
	closed    bool
}

var _ Door = (*Doors)(nil)

// NewDoors returns the doors with none known yet: Apply brings them in.
func NewDoors(opts DoorsOptions) *Doors {
	if opts.Output == nil {
		opts.Output = LogDoor{Logger: opts.Logger}
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Watchdog <= 0 {
		opts.Watchdog = DefaultDoorWatchdog
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Doors{opts: opts, clock: opts.Clock, log: opts.Logger, doors: map[int64]*door{}, lastApply: opts.Clock.Now()}
}

// door is one access point's door.
type door struct {
	ap      access.AccessPoint
	state   access.DoorState
	applied bool // the state has been set once: later changes are events

	relay      *relay // nil: the shared output drives it
	holding    bool   // the shared output confirmed a hold
	pulseUntil time.Time
	pulseGen   uint64

	inputs       []*lineWatcher
	open         bool
	openGen      uint64 // tells the held-open timer of this opening from a stale one
	heldTimer    clockwork.Timer
	allowedUntil time.Time // an opening before this (a grant, an exit) is not forced
}

func (dr *door) info() DoorInfo { return DoorInfo{ID: dr.ap.ID, Name: dr.ap.Name} }

// Apply brings every door in line with plans: new doors are set up (their
// relay set from the state at once, never left as it was), changed states
// hold or release the lock, and doors no longer planned are released.
// Call it every poll: it also feeds the watchdog.
func (d *Doors) Apply(ctx context.Context, plans []DoorPlan) {
	var evs []*access.Event
	var holds []holdCall
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	now := d.clock.Now()
	d.lastApply = now
	if d.tripped {
		d.tripped = false
		d.log.Info("door states refreshed again: relays follow them")
		for _, dr := range d.doors {
			d.driveLocked(dr)
		}
	}
	want := map[int64]bool{}
	for _, p := range plans {
		want[p.AP.ID] = true
		dr := d.doors[p.AP.ID]
		isNew := dr == nil
		if isNew {
			// The state first, so a relay is set from it as it is wired.
			dr = &door{ap: p.AP, state: p.State}
			d.doors[p.AP.ID] = dr
			d.wireLocked(dr)
		} else if dr.ap.IO != p.AP.IO {
			d.unwireLocked(dr)
			dr.ap = p.AP
			d.wireLocked(dr)
		}
		dr.ap = p.AP
		if e := d.setStateLocked(dr, p.State, now); e != nil {
			evs = append(evs, e)
		}
		// A relay door's lock is its relay's: the shared output lets go.
		// A new door on the shared output is set from its state too,
		// never left as it was.
		if held := p.State.Unlocked() && dr.relay == nil; dr.holding != held || (isNew && dr.relay == nil) {
			holds = append(holds, holdCall{dr.info(), held})
		}
	}
	for id, dr := range d.doors {
		if want[id] {
			continue
		}
		d.unwireLocked(dr)
		delete(d.doors, id)
		if dr.relay == nil && dr.holding {
			holds = append(holds, holdCall{dr.info(), false})
		}
	}
	d.mu.Unlock()
	// The shared output may be a command: run it outside the lock, so a
	// slow script holds up no input and no pulse.
	for _, h := range holds {
		err := d.hold(ctx, h.info, h.open)
		d.mu.Lock()
		if dr := d.doors[h.info.ID]; dr != nil && err == nil {
			dr.holding = h.open
		}
		d.mu.Unlock()
	}
	d.emit(ctx, evs...)
}

type holdCall struct {
	info DoorInfo
	open bool
}

// hold tells the shared output to hold the door open or let it go.
func (d *Doors) hold(ctx context.Context, info DoorInfo, open bool) error {
	h, ok := d.opts.Output.(Holder)
	if !ok {
		d.log.Warn("this door output cannot hold a door open", "access_point", info.Name)
		return nil
	}
	if err := h.Hold(ctx, info, open); err != nil {
		d.log.Error("door output failed; trying again", "access_point", info.Name, "hold", open, "err", err)
		return err
	}
	return nil
}

// setStateLocked records a door's new state, drives its relay and returns
// the event of a change: unlocked (and why) or locked.
func (d *Doors) setStateLocked(dr *door, s access.DoorState, now time.Time) *access.Event {
	was, first := dr.state, !dr.applied
	dr.state, dr.applied = s, true
	d.driveLocked(dr)
	if !first && was.Mode == s.Mode && was.Until.Equal(s.Until) {
		return nil
	}
	if first && !s.Unlocked() && s.Mode != access.DoorLockedDown {
		return nil // a door found locked at start is no news
	}
	e := &access.Event{At: now, Kind: "door.locked", Reason: s.Mode.String(), Actor: "system", AccessPointID: dr.ap.ID}
	if s.Unlocked() {
		e.Kind = "door.unlocked"
		if !s.Until.IsZero() {
			e.Detail = "until " + s.Until.UTC().Format(time.RFC3339)
		}
	}
	if s.BySite {
		e.Detail = "the whole site"
	}
	return e
}

// driveLocked sets a relay door's lock from its state and any pulse in
// progress. Doors on the shared output are held in Apply.
func (d *Doors) driveLocked(dr *door) {
	if dr.relay == nil || d.tripped {
		return
	}
	unlocked := dr.state.Unlocked() || d.clock.Now().Before(dr.pulseUntil)
	if err := dr.relay.set(unlocked); err != nil {
		d.log.Error("door relay did not switch", "access_point", dr.ap.Name, "unlocked", unlocked, "err", err)
	}
}

// Pulse releases a door for open after a grant: the relay door's lock is
// held released until then (longer if its state unlocks it); a door on the
// shared output gets the output's pulse. Either way an opening within open
// is not forced.
func (d *Doors) Pulse(ctx context.Context, ap DoorInfo, open time.Duration) error {
	d.mu.Lock()
	dr := d.doors[ap.ID]
	if dr == nil || dr.relay == nil {
		if dr != nil {
			dr.allowedUntil = later(dr.allowedUntil, d.clock.Now().Add(open))
		}
		d.mu.Unlock()
		return d.opts.Output.Pulse(ctx, ap, open)
	}
	d.pulseLocked(dr, open)
	d.mu.Unlock()
	d.log.Info("door released", "access_point", ap.Name, "access_point_id", ap.ID, "seconds", open.Seconds())
	return nil
}

// pulseLocked releases a relay door's lock for open, then drives it back.
func (d *Doors) pulseLocked(dr *door, open time.Duration) {
	now := d.clock.Now()
	dr.pulseUntil = later(dr.pulseUntil, now.Add(open))
	dr.allowedUntil = later(dr.allowedUntil, dr.pulseUntil)
	dr.pulseGen++
	gen, id := dr.pulseGen, dr.ap.ID
	d.driveLocked(dr)
	d.clock.AfterFunc(dr.pulseUntil.Sub(now), func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if dr := d.doors[id]; dr != nil && dr.pulseGen == gen && !d.closed {
			d.driveLocked(dr)
		}
	})
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Input reports an input at an access point's door, as its contact or
// exit button would: from the simulated air, the API, or a GPIO line.
func (d *Doors) Input(ctx context.Context, accessPointID int64, in DoorInput) error {
	if !in.Valid() {
		return fmt.Errorf("ble: unknown door input %q (want open, close or exit)", in)
	}
	var evs []*access.Event
	var pulse *DoorInfo
	var open time.Duration
	d.mu.Lock()
	dr := d.doors[accessPointID]
	if dr == nil || d.closed {
		d.mu.Unlock()
		return ErrNoDoor
	}
	evs, pulse, open = d.inputLocked(dr, in)
	d.mu.Unlock()
	d.emit(ctx, evs...)
	if pulse != nil {
		// The output may hold the strike for the unlock time: the caller
		// (a request, the air) does not wait for it, as a reader does not.
		go func() {
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), open+DefaultDoorSlack)
			defer cancel()
			if err := d.opts.Output.Pulse(pctx, *pulse, open); err != nil {
				d.log.Error("door did not open for the exit request", "access_point", pulse.Name, "err", err)
			}
		}()
	}
	return nil
}

// inputLocked applies an input to a door and returns its events, and the
// door to pulse on the shared output when an exit unlocks it.
func (d *Doors) inputLocked(dr *door, in DoorInput) (evs []*access.Event, pulse *DoorInfo, open time.Duration) {
	now := d.clock.Now()
	ev := func(kind, detail string) *access.Event {
		return &access.Event{At: now, Kind: kind, Actor: "door", AccessPointID: dr.ap.ID, Detail: detail}
	}
	switch in {
	case InputOpen:
		if dr.open {
			return nil, nil, 0
		}
		dr.open = true
		dr.openGen++
		e := ev("door.opened", "")
		if !dr.state.Unlocked() && !now.Before(dr.allowedUntil) {
			e.Kind, e.Detail = "door.forced", "opened with no grant, unlock or exit"
		}
		evs = append(evs, e)
		gen, id, limit := dr.openGen, dr.ap.ID, dr.ap.HeldOpenLimit
		if limit <= 0 {
			limit = access.DefaultHeldOpenLimit
		}
		dr.heldTimer = d.clock.AfterFunc(limit, func() { d.heldTooLong(id, gen, limit) })
	case InputClose:
		if !dr.open {
			return nil, nil, 0
		}
		dr.open = false
		dr.openGen++
		if dr.heldTimer != nil {
			dr.heldTimer.Stop()
		}
		evs = append(evs, ev("door.closed", ""))
	case InputExit:
		evs = append(evs, ev("door.exit", "request to exit"))
		open = dr.ap.UnlockDuration
		if open <= 0 {
			open = access.DefaultUnlockDuration
		}
		dr.allowedUntil = later(dr.allowedUntil, now.Add(open))
		if dr.ap.IO.ExitUnlocks && !dr.state.Unlocked() && dr.state.Mode != access.DoorLockedDown {
			if dr.relay != nil {
				d.pulseLocked(dr, open)
			} else {
				info := dr.info()
				pulse = &info
			}
		}
	}
	return evs, pulse, open
}

// heldTooLong reports a door still open at its limit since the opening gen.
func (d *Doors) heldTooLong(id int64, gen uint64, limit time.Duration) {
	d.mu.Lock()
	dr := d.doors[id]
	if dr == nil || !dr.open || dr.openGen != gen || d.closed {
		d.mu.Unlock()
		return
	}
	e := &access.Event{At: d.clock.Now(), Kind: "door.held_open", Actor: "door", AccessPointID: id,
		Detail: fmt.Sprintf("open for more than %v", limit)}
	d.mu.Unlock()
	d.emit(context.Background(), e)
}

func (d *Doors) emit(ctx context.Context, evs ...*access.Event) {
	if d.opts.Events == nil {
		return
	}
	for _, e := range evs {
		if err := d.opts.Events(context.WithoutCancel(ctx), e); err != nil {
			d.log.Error("recording a door event", "kind", e.Kind, "err", err)
		}
	}
}

// Run is the watchdog: until ctx ends, it puts every relay in its safe
// state when Apply has not run for the watchdog's time, because the states
// it holds may be stale (a schedule ended, a lockdown began) and nothing is
// there to change them.
func (d *Doors) Run(ctx context.Context) {
	t := d.clock.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		d.mu.Lock()
		if !d.tripped && !d.closed && d.clock.Since(d.lastApply) >= d.opts.Watchdog {
			d.tripped = true
			d.log.Error("door states not refreshed: every relay set to its safe state", "for", d.clock.Since(d.lastApply))
			for _, dr := range d.doors {
				if dr.relay != nil {
					if err := dr.relay.safe(); err != nil {
						d.log.Error("door relay did not go safe", "access_point", dr.ap.Name, "err", err)
					}
				}
			}
		}
		d.mu.Unlock()
	}
}

// Close stops watching the inputs and puts every relay in its safe state:
// a door Postern no longer controls is in the state its lock chose.
func (d *Doors) Close() error {
	d.mu.Lock()
	d.closed = true
	var errs []error
	for id, dr := range d.doors {
		if dr.relay != nil {
			errs = append(errs, dr.relay.safe())
		}
		d.unwire(dr)
		delete(d.doors, id)
	}
	d.mu.Unlock()
	d.watchers.Wait()
	return errors.Join(errs...)
}
