package ble

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"postern/access"
)

// The doors are tested against periph.io's own fake pins (gpiotest) and a
// fake clock: every wait is for an event or a level, never for time.

// recPin is a gpiotest pin that also records every level written to it.
type recPin struct {
	*gpiotest.Pin
	outs chan gpio.Level
}

func (p *recPin) Out(l gpio.Level) error {
	p.outs <- l
	return p.Pin.Out(l)
}

func newPin(name string) *recPin {
	return &recPin{Pin: &gpiotest.Pin{N: name, EdgesChan: make(chan gpio.Level)}, outs: make(chan gpio.Level, 100)}
}

// fakeLines hands out the test's pins by name.
type fakeLines map[string]*recPin

func (f fakeLines) Line(name string) (gpio.PinIO, error) {
	if p, ok := f[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("no line %s", name)
}

// doorRig is Doors on fake pins and a fake clock, with its events.
type doorRig struct {
	t      *testing.T
	d      *Doors
	clock  *clockwork.FakeClock
	lines  fakeLines
	events chan *access.Event
	edges  chan struct{}
	checks chan struct{}
	output *recordingOutput
}

func newDoorRig(t *testing.T, pins ...string) *doorRig {
	r := &doorRig{t: t, clock: clockwork.NewFakeClockAt(time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)), lines: fakeLines{},
		events: make(chan *access.Event, 100), edges: make(chan struct{}), checks: make(chan struct{}), output: &recordingOutput{}}
	for _, p := range pins {
		r.lines[p] = newPin(p)
	}
	r.d = NewDoors(DoorsOptions{Output: r.output, Lines: r.lines, Clock: r.clock, Watchdog: 10 * time.Second,
		Events: func(ctx context.Context, e *access.Event) error { r.events <- e; return nil }})
	r.d.edgeSeen = func() { r.edges <- struct{}{} }
	r.d.settled = func() { r.checks <- struct{}{} }
	t.Cleanup(func() { r.d.Close() })
	return r
}

// wantOut waits for the next level written to pin.
func (r *doorRig) wantOut(pin string, want gpio.Level, why string) {
	r.t.Helper()
	select {
	case got := <-r.lines[pin].outs:
		if got != want {
			r.t.Fatalf("%s: %s got %v, want %v", why, pin, got, want)
		}
	case <-time.After(5 * time.Second):
		r.t.Fatalf("%s: %s was never set (want %v)", why, pin, want)
	}
}

// noOut checks nothing was written to pin so far.
func (r *doorRig) noOut(pin, why string) {
	r.t.Helper()
	select {
	case got := <-r.lines[pin].outs:
		r.t.Fatalf("%s: %s was set to %v", why, pin, got)
	default:
	}
}

// wantEvent waits for the next door event and checks its kind.
func (r *doorRig) wantEvent(kind, why string) *access.Event {
	r.t.Helper()
	select {
	case e := <-r.events:
		if e.Kind != kind {
			r.t.Fatalf("%s: got event %s (%s), want %s", why, e.Kind, e.Reason, kind)
		}
		return e
	case <-time.After(5 * time.Second):
		r.t.Fatalf("%s: no %s event", why, kind)
	}
	return nil
}

// edge moves an input line to l, as the hardware would, and returns once
// the watcher has taken it in.
func (r *doorRig) edge(pin string, l gpio.Level) {
	r.lines[pin].EdgesChan <- l
	<-r.edges
}

// recordingOutput is a shared --door output that records what it is told.
type recordingOutput struct {
	mu    sync.Mutex
	calls []string
}

func (o *recordingOutput) Pulse(ctx context.Context, ap DoorInfo, open time.Duration) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("pulse %s %v", ap.Name, open))
	return nil
}

func (o *recordingOutput) Hold(ctx context.Context, ap DoorInfo, open bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	what := "release "
	if open {
		what = "hold "
	}
	o.calls = append(o.calls, what+ap.Name)
	return nil
}

func (o *recordingOutput) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.calls
	o.calls = nil
	return c
}

var (
	locked   = access.DoorState{Mode: access.DoorNormal}
	byHand   = access.DoorState{Mode: access.DoorUnlockedByHand}
	lockdown = access.DoorState{Mode: access.DoorLockedDown, BySite: true}
)

func strike(id int64, name string) access.AccessPoint {
	return access.AccessPoint{ID: id, Name: name, UnlockDuration: 5 * time.Second, HeldOpenLimit: 30 * time.Second,
		IO: access.DoorIO{Relay: "relay", Debounce: 50 * time.Millisecond}}
}

// TestDoorRelayStateAtStart: a relay is set from the door's state as soon
// as the door is known, whatever level the line had, for every kind of
// lock and wiring.
func TestDoorRelayStateAtStart(t *testing.T) {
	tests := []struct {
		name      string
		failSafe  bool
		activeLow bool
		state     access.DoorState
		want      gpio.Level
	}{
		{"fail-secure strike, locked: de-energised", false, false, locked, gpio.Low},
		{"fail-secure strike, unlocked by hand: energised", false, false, byHand, gpio.High},
		{"fail-secure strike on an active-low board, locked", false, true, locked, gpio.High},
		{"fail-safe maglock, locked: energised", true, false, locked, gpio.High},
		{"fail-safe maglock, locked down: energised", true, false, lockdown, gpio.High},
		{"fail-safe maglock, held open: de-energised", true, false, access.DoorState{Mode: access.DoorHeldOpen}, gpio.Low},
		{"fail-safe maglock on an active-low board, evacuation", true, true, access.DoorState{Mode: access.DoorEvacuation}, gpio.High},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newDoorRig(t, "relay")
			r.lines["relay"].L = !tt.want // left the other way by whatever ran before
			ap := strike(1, "Front")
			ap.IO.FailSafe, ap.IO.RelayActiveLow = tt.failSafe, tt.activeLow
			r.d.Apply(t.Context(), []DoorPlan{{AP: ap, State: tt.state}})
			r.wantOut("relay", tt.want, "at start")
			if got := r.lines["relay"].Read(); got != tt.want {
				t.Errorf("the line reads %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDoorRelayPulse: a grant energises a fail-secure strike for exactly
// its unlock time on the fake clock, then lets it go.
func TestDoorRelayPulse(t *testing.T) {
	r := newDoorRig(t, "relay")
	ap := strike(1, "Front")
	r.d.Apply(t.Context(), []DoorPlan{{AP: ap, State: locked}})
	r.wantOut("relay", gpio.Low, "at start")
	if err := r.d.Pulse(t.Context(), DoorInfo{ID: 1, Name: "Front"}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	r.wantOut("relay", gpio.High, "the grant")
	r.clock.Advance(5*time.Second - time.Millisecond)
	r.noOut("relay", "a millisecond before the unlock time ends")
	r.clock.Advance(time.Millisecond)
	r.wantOut("relay", gpio.Low, "the unlock time is over")
	if got := r.output.take(); got != nil {
		t.Errorf("the shared output was used for a relay door: %v", got)
	}
}

// TestDoorRelayHoldAndRelease: unlock now holds the relay through a
// grant's pulse, and the end of the unlock releases it; both are events.
func TestDoorRelayHoldAndRelease(t *testing.T) {
	r := newDoorRig(t, "relay")
	ap := strike(1, "Front")
	ctx := t.Context()
	r.d.Apply(ctx, []DoorPlan{{AP: ap, State: locked}})
	r.wantOut("relay", gpio.Low, "at start")
	until := r.clock.Now().Add(time.Minute)
	r.d.Apply(ctx, []DoorPlan{{AP: ap, State: access.DoorState{Mode: access.DoorUnlockedByHand, Until: until}}})
	r.wantOut("relay", gpio.High, "unlock now")
	e := r.wantEvent("door.unlocked", "unlock now")
	if e.Reason != "unlocked by hand" || e.Detail == "" {
		t.Errorf("got %+v, want unlocked by hand until a time", e)
	}
	r.d.Apply(ctx, []DoorPlan{{AP: ap, State: access.DoorState{Mode: access.DoorUnlockedByHand, Until: until}}})
	r.d.Pulse(ctx, DoorInfo{ID: 1, Name: "Front"}, 5*time.Second)
	r.clock.Advance(5 * time.Second)
	r.noOut("relay", "a grant's pulse while held")
	r.d.Apply(ctx, []DoorPlan{{AP: ap, State: locked}})
	r.wantOut("relay", gpio.Low, "the unlock ends")
	if e := r.wantEvent("door.locked", "the unlock ends"); e.Reason != "locked" {
		t.Errorf("got reason %q", e.Reason)
	}
	// A site lockdown while nothing else changed is an event too.
	r.d.Apply(ctx, []DoorPlan{{AP: ap, State: lockdown}})
	r.noOut("relay", "lockdown of a locked door")
	if e := r.wantEvent("door.locked", "lockdown"); e.Reason != "locked down" || e.Detail != "the whole site" {
		t.Errorf("got %+v", e)
	}
}

// TestDoorWatchdog: when the loop that computes the door states stops (a
// hung command, a stuck database), every relay goes to its safe state: a
// fail-secure strike locks, a fail-safe maglock is let go. When the loop
// comes back, the relays follow the states again.
func TestDoorWatchdog(t *testing.T) {
	r := newDoorRig(t, "strike", "maglock")
	front := strike(1, "Front")
	front.IO.Relay = "strike"
	lobby := strike(2, "Lobby")
	lobby.IO.Relay, lobby.IO.FailSafe = "maglock", true
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	plans := []DoorPlan{{AP: front, State: byHand}, {AP: lobby, State: locked}}
	r.d.Apply(ctx, plans)
	r.wantOut("strike", gpio.High, "front unlocked by hand")
	r.wantOut("maglock", gpio.High, "lobby locked: maglock energised")
	r.wantEvent("door.unlocked", "front unlocked by hand")
	go r.d.Run(ctx)
	r.clock.BlockUntilContext(ctx, 1) // the watchdog's ticker
	for range 9 {
		r.clock.Advance(time.Second)
	}
	r.noOut("strike", "nine seconds without a refresh")
	r.clock.Advance(time.Second)
	r.wantOut("strike", gpio.Low, "the watchdog: the fail-secure strike locks")
	r.wantOut("maglock", gpio.Low, "the watchdog: the fail-safe maglock is let go")
	// A pulse while tripped does not move a relay the loop no longer
	// vouches for.
	r.d.Pulse(ctx, DoorInfo{ID: 1, Name: "Front"}, time.Second)
	r.noOut("strike", "a grant while the watchdog holds the relays safe")
	r.d.Apply(ctx, plans)
	r.wantOut("strike", gpio.High, "the loop is back")
	r.wantOut("maglock", gpio.High, "the loop is back")
}

// TestDoorCloseGoesSafe: a door Postern lets go of is in its safe state.
func TestDoorCloseGoesSafe(t *testing.T) {
	r := newDoorRig(t, "relay")
	r.d.Apply(t.Context(), []DoorPlan{{AP: strike(1, "Front"), State: byHand}})
	r.wantOut("relay", gpio.High, "unlocked")
	r.d.Close()
	r.wantOut("relay", gpio.Low, "closed")
}

// TestDoorContactAndExit: the contact and exit button on fake lines,
// debounced on the fake clock: forced open, opened after a grant, held
// open too long, closed, a request to exit that releases the lock, and a
// bounce that is not an event.
func TestDoorContactAndExit(t *testing.T) {
	r := newDoorRig(t, "relay", "contact", "exit")
	ap := strike(1, "Back door")
	// Switches to ground with pull-ups: the door open and the button
	// pressed read low.
	ap.IO.Contact, ap.IO.ContactOpenLow = "contact", true
	ap.IO.Exit, ap.IO.ExitPressedLow, ap.IO.ExitUnlocks = "exit", true, true
	ctx := t.Context()
	r.d.Apply(ctx, []DoorPlan{{AP: ap, State: locked}})
	r.wantOut("relay", gpio.Low, "at start")
	// settle lets the inputs keep still for the debounce time and waits
	// for the check.
	settle := func() {
		r.clock.Advance(ap.IO.Debounce)
		<-r.checks
	}

	// Opened with no grant: forced.
	r.edge("contact", gpio.Low)
	settle()
	if e := r.wantEvent("door.forced", "opened with no grant"); e.AccessPointID != 1 {
		t.Errorf("got %+v", e)
	}
	r.edge("contact", gpio.High)
	settle()
	r.wantEvent("door.closed", "closed")

	// A bounce shorter than the debounce is not an event: the next event
	// is the grant's opening.
	r.edge("contact", gpio.Low)
	r.edge("contact", gpio.High)
	settle()
	r.d.Pulse(ctx, DoorInfo{ID: 1, Name: "Back door"}, 5*time.Second)
	r.wantOut("relay", gpio.High, "the grant")
	r.edge("contact", gpio.Low)
	settle()
	r.wantEvent("door.opened", "opened after a grant")

	// Left open past its limit.
	r.clock.Advance(ap.HeldOpenLimit)
	r.wantEvent("door.held_open", "open past the limit")
	r.edge("contact", gpio.High)
	settle()
	r.wantEvent("door.closed", "closed at last")
	r.wantOut("relay", gpio.Low, "the grant's pulse ended")

	// The exit button releases the lock and lets the door open.
	r.edge("exit", gpio.Low)
	settle()
	r.wantEvent("door.exit", "the exit button")
	r.wantOut("relay", gpio.High, "the exit button releases the lock")
	r.edge("exit", gpio.High)
	settle()
	r.edge("contact", gpio.Low)
	settle()
	r.wantEvent("door.opened", "opened after the exit button")
}

// TestDoorSharedOutput: a door without a relay line is held and pulsed by
// the --door output, and the simulated inputs make the same events.
func TestDoorSharedOutput(t *testing.T) {
	r := newDoorRig(t)
	ctx := t.Context()
	gate := access.AccessPoint{ID: 2, Name: "Gate", UnlockDuration: 3 * time.Second, HeldOpenLimit: 10 * time.Second, IO: access.DoorIO{ExitUnlocks: true}}
	front := access.AccessPoint{ID: 1, Name: "Front", UnlockDuration: 3 * time.Second}
	steps := []struct {
		name  string
		plans []DoorPlan
		want  []string
		event string
	}{
		{"a held-open gate is held at start", []DoorPlan{{AP: front, State: locked}, {AP: gate, State: access.DoorState{Mode: access.DoorHeldOpen}}}, []string{"release Front", "hold Gate"}, "door.unlocked"},
		{"nothing changes, nothing is sent", []DoorPlan{{AP: front, State: locked}, {AP: gate, State: access.DoorState{Mode: access.DoorHeldOpen}}}, nil, ""},
		{"front unlocked by schedule", []DoorPlan{{AP: front, State: access.DoorState{Mode: access.DoorScheduled}}, {AP: gate, State: access.DoorState{Mode: access.DoorHeldOpen}}}, []string{"hold Front"}, "door.unlocked"},
		{"the gate back to normal", []DoorPlan{{AP: front, State: access.DoorState{Mode: access.DoorScheduled}}, {AP: gate, State: locked}}, []string{"release Gate"}, "door.locked"},
		{"a deleted access point is released", []DoorPlan{{AP: gate, State: locked}}, []string{"release Front"}, ""},
	}
	for _, st := range steps {
		r.d.Apply(ctx, st.plans)
		if got := r.output.take(); !slices.Equal(got, st.want) {
			t.Errorf("%s: got %v, want %v", st.name, got, st.want)
		}
		if st.event != "" {
			r.wantEvent(st.event, st.name)
		}
	}
	for _, in := range []struct {
		input DoorInput
		want  string
	}{
		{InputOpen, "door.forced"},
		{InputClose, "door.closed"},
		{InputExit, "door.exit"},
		{InputOpen, "door.opened"},
	} {
		if err := r.d.Input(ctx, gate.ID, in.input); err != nil {
			t.Fatal(err)
		}
		r.wantEvent(in.want, string(in.input))
	}
	deadline := time.Now().Add(5 * time.Second) // a guard, not a timing
	for got := r.output.take(); !slices.Equal(got, []string{"pulse Gate 3s"}); got = r.output.take() {
		if got != nil || time.Now().After(deadline) {
			t.Fatalf("the exit button: got %v, want a pulse of the gate", got)
		}
		time.Sleep(time.Millisecond) // the pulse is made beside the input, as a reader's is
	}
	r.clock.Advance(gate.HeldOpenLimit)
	r.wantEvent("door.held_open", "the gate left open")
	if err := r.d.Input(ctx, 99, InputOpen); err != ErrNoDoor {
		t.Errorf("an unknown door: got %v, want ErrNoDoor", err)
	}
	if err := r.d.Input(ctx, gate.ID, "kick"); err == nil {
		t.Error("an unknown input was accepted")
	}
}
