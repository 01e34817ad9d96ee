package access

import (
	"regexp"
	"strings"
	"time"
)

// Mode is how a reader takes up a key.
type Mode string

// Reader modes, as the admin picks them per access point.
const (
	// ModeDirect: the holder presents the phone at the reader.
	ModeDirect Mode = "direct"
	// ModeTouch: a touch on the reader arms it for the nearest key.
	ModeTouch Mode = "touch"
	// ModeLongRange: car parks and barriers, found from a vehicle.
	ModeLongRange Mode = "long-range"
)

// Modes lists the reader modes in the order forms show them.
var Modes = []Mode{ModeDirect, ModeTouch, ModeLongRange}

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool {
	switch m {
	case ModeDirect, ModeTouch, ModeLongRange:
		return true
	}
	return false
}

// DefaultRSSI is the starting threshold for a mode. Indoor RSSI at one metre
// is about -65 dBm with a spread of ±6 dB, so sites calibrate from here.
func (m Mode) DefaultRSSI() int {
	switch m {
	case ModeLongRange:
		return -90
	case ModeTouch:
		return -75
	}
	return -60
}

// State is an access point's override of normal operation.
type State string

// Access point states.
const (
	// StateNormal: decisions follow the permissions.
	StateNormal State = "normal"
	// StateLockdown: nobody is let in.
	StateLockdown State = "lockdown"
	// StateUnlocked: the door is held open; presentations are still decided
	// and logged.
	StateUnlocked State = "unlocked"
)

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	switch s {
	case StateNormal, StateLockdown, StateUnlocked:
		return true
	}
	return false
}

// Direction is which way people pass an access point, for the roll call:
// a grant at an entry door puts them on site, one at an exit door takes
// them off it.
type Direction string

// Directions of an access point.
const (
	DirectionNeither Direction = "neither"
	DirectionEntry   Direction = "entry"
	DirectionExit    Direction = "exit"
)

// Directions lists the directions in the order forms show them.
var Directions = []Direction{DirectionNeither, DirectionEntry, DirectionExit}

// Valid reports whether d is a known direction.
func (d Direction) Valid() bool {
	switch d {
	case DirectionNeither, DirectionEntry, DirectionExit:
		return true
	}
	return false
}

// MaxRSSIOffset bounds a reader's calibration offset, in dB either way:
// more than that is not a reader to correct but a key in the wrong place.
const MaxRSSIOffset = 40

// DefaultUnlockDuration is how long a door stays released after a grant.
const DefaultUnlockDuration = 5 * time.Second

// DefaultUnlockWindow is how long a holder has to unlock the phone at an
// access point that requires it: a fingerprint takes a second, a passcode
// several.
const DefaultUnlockWindow = 10 * time.Second

// Bounds of the per access point timings. A challenge states the unlock
// window in whole seconds, at most 255.
const (
	MinUnlockWindow     = 2 * time.Second
	MaxUnlockWindow     = 60 * time.Second
	MinResponseDeadline = 100 * time.Millisecond
	MaxResponseDeadline = 10 * time.Second
)

// Deadline is how long the reader waits for an answer to its challenge
// here: the access point's own deadline or def, and at least the unlock
// window where the holder must unlock.
func (a AccessPoint) Deadline(def time.Duration) time.Duration {
	d := a.ResponseDeadline
	if d <= 0 {
		d = def
	}
	if w := a.Window(); a.RequireUnlock && w > d {
		d = w
	}
	return d
}

// Window is the unlock window, DefaultUnlockWindow when unset.
func (a AccessPoint) Window() time.Duration {
	if a.UnlockWindow == 0 {
		return DefaultUnlockWindow
	}
	return a.UnlockWindow
}

// AccessPoint is a door, gate or barrier with a reader.
type AccessPoint struct {
	ID            int64
	Name          string
	Reader        string // binding: "sim:NAME" or "hciN", after "READER/" on a remote reader
	Mode          Mode
	RSSIThreshold int // dBm
	// RSSIOffset is the reader's calibration, in dB, added to every signal
	// it measures: it makes up for the adapter, its antenna and where it
	// is mounted, so the threshold means the same at every door.
	RSSIOffset    int
	RequireUnlock bool
	// UnlockWindow is how long after its challenge a key may take to
	// answer with a user-verification signature where RequireUnlock is
	// set: the time the holder has to unlock the phone.
	UnlockWindow time.Duration
	// ResponseDeadline is how long after its challenge the reader accepts
	// an answer; zero means the appliance's default (--deadline).
	ResponseDeadline time.Duration
	UnlockDuration   time.Duration
	State            State
	CreatedAt        time.Time
	UpdatedAt        time.Time

	// Exit marks a door people leave by: an evacuation unlocks it.
	Exit bool
	// Direction says whether a grant here is someone arriving or leaving,
	// for the roll call.
	Direction Direction
	// UnlockProfileID is the unlock schedule: the door is unlocked while
	// this time profile is open. 0: no schedule.
	UnlockProfileID int64
	// FirstPersonIn holds the schedule back until a permitted person has
	// been let in that day.
	FirstPersonIn bool
	// UnlockedUntil is when an admin's "unlock now" ends.
	UnlockedUntil time.Time
	// HeldOpenLimit is how long the door may stand open before the held
	// open alarm; zero is DefaultHeldOpenLimit.
	HeldOpenLimit time.Duration
	// IO is the door's hardware on the gateway's GPIO lines.
	IO DoorIO
	// PhoneOpen lets registered web keys open this access point over the
	// network ("open from this phone"), without the reader's radio.
	PhoneOpen bool
	// PhoneNetworks, when not empty, are the only networks such an open
	// may come from (the site's Wi-Fi, its VPN): CIDR prefixes as
	// ParseNetworks reads them, kept as text so an AccessPoint stays a
	// comparable value.
	PhoneNetworks string
	// PhonePasskey asks for the holder's passkey at every open from the
	// phone, as RequireUnlock does at the reader.
	PhonePasskey bool
}

// DefaultHeldOpenLimit is how long a door may stand open before it is
// reported as held open.
const DefaultHeldOpenLimit = 30 * time.Second

// DefaultDebounce is how long a door input must keep a level to count:
// long enough for a contact's bounce, short against a person's press.
const DefaultDebounce = 50 * time.Millisecond

// DoorIO is a door's hardware on the gateway's GPIO lines. Lines are named
// CHIP:OFFSET ("gpiochip0:17") or by the name the kernel gives them
// ("GPIO17"). Empty lines are not wired.
type DoorIO struct {
	// Relay drives the lock. Without it the door output is the one set
	// for the whole gateway (--door: log or exec:).
	Relay string
	// RelayActiveLow: a low level energises the relay.
	RelayActiveLow bool
	// FailSafe: the lock is open without power (a maglock), so the relay
	// is energised to lock. Otherwise it is fail-secure (a strike that
	// stays locked without power) and energised to unlock. Either way the
	// relay rests de-energised whenever Postern is not in control, which
	// is the lock's own safe state.
	FailSafe bool
	// Contact is the door contact input.
	Contact string
	// ContactOpenLow: the contact reads low while the door is open.
	ContactOpenLow bool
	// Exit is the request-to-exit input.
	Exit string
	// ExitPressedLow: the exit button reads low while pressed.
	ExitPressedLow bool
	// ExitUnlocks: a request to exit releases the lock, as for a grant.
	ExitUnlocks bool
	// Debounce is how long an input must keep a level to count; zero is
	// DefaultDebounce.
	Debounce time.Duration
}

// Wired reports whether any GPIO line is set.
func (io DoorIO) Wired() bool { return io.Relay != "" || io.Contact != "" || io.Exit != "" }

var linePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,48}(:[0-9]{1,4})?$`)

var readerPattern = regexp.MustCompile(`^([a-z0-9][a-z0-9-]{0,30}/)?(sim:[a-z0-9][a-z0-9._-]{0,62}|hci[0-9]{1,2})$`)

// RemoteBinding splits a binding served by a remote reader,
// "back-door/hci0", into the reader's name and the binding on it. ok is
// false for a binding on this appliance's own radios.
func RemoteBinding(binding string) (reader, local string, ok bool) {
	return strings.Cut(binding, "/")
}

// Normalize trims fields and fills defaults a new access point gets.
func (a *AccessPoint) Normalize() {
	a.Name = strings.TrimSpace(a.Name)
	a.Reader = strings.ToLower(strings.TrimSpace(a.Reader))
	if a.Mode == "" {
		a.Mode = ModeDirect
	}
	if a.RSSIThreshold == 0 {
		a.RSSIThreshold = a.Mode.DefaultRSSI()
	}
	if a.UnlockDuration == 0 {
		a.UnlockDuration = DefaultUnlockDuration
	}
	if a.UnlockWindow == 0 {
		a.UnlockWindow = DefaultUnlockWindow
	}
	if a.State == "" {
		a.State = StateNormal
	}
	if a.Direction == "" {
		a.Direction = DirectionNeither
	}
	if a.HeldOpenLimit == 0 {
		a.HeldOpenLimit = DefaultHeldOpenLimit
	}
	a.IO.Relay = strings.TrimSpace(a.IO.Relay)
	a.IO.Contact = strings.TrimSpace(a.IO.Contact)
	a.IO.Exit = strings.TrimSpace(a.IO.Exit)
	if a.IO.Debounce == 0 {
		a.IO.Debounce = DefaultDebounce
	}
	if a.UnlockProfileID == 0 {
		a.FirstPersonIn = false
	}
	if ps, err := ParseNetworks(a.PhoneNetworks); err == nil {
		a.PhoneNetworks = NetworksText(ps)
	}
}

// Validate checks an access point before it is stored. It returns every
// field's error at once, as ValidationErrors.
func (a AccessPoint) Validate() error {
	var errs ValidationErrors
	if a.Name == "" {
		errs.Add("name", "is required")
	}
	if len(a.Name) > 100 {
		errs.Add("name", "must be at most 100 characters")
	}
	errs.addText("name", CheckLine(a.Name))
	if !readerPattern.MatchString(a.Reader) {
		errs.Add("reader", "must be sim:NAME (lower-case letters, digits, . _ -) or hciN, after READER/ for a remote reader")
	}
	if !a.Mode.Valid() {
		errs.Add("mode", "must be direct, touch or long-range")
	}
	if a.RSSIThreshold > -20 || a.RSSIThreshold < -120 {
		errs.Add("rssi_threshold", "must be between -120 and -20 dBm")
	}
	if a.RSSIOffset > MaxRSSIOffset || a.RSSIOffset < -MaxRSSIOffset {
		errs.Add("rssi_offset", "must be between -%d and %d dB", MaxRSSIOffset, MaxRSSIOffset)
	}
	if a.UnlockDuration < time.Second || a.UnlockDuration > time.Hour {
		errs.Add("unlock_seconds", "must be between 1 and 3600 seconds")
	}
	if a.UnlockWindow != 0 && (a.UnlockWindow < MinUnlockWindow || a.UnlockWindow > MaxUnlockWindow) {
		errs.Add("unlock_window_seconds", "must be between 2 and 60 seconds")
	}
	if a.ResponseDeadline != 0 && (a.ResponseDeadline < MinResponseDeadline || a.ResponseDeadline > MaxResponseDeadline) || a.ResponseDeadline < 0 {
		errs.Add("deadline_ms", "must be empty (the appliance's default) or between 100 and 10000 milliseconds")
	}
	if !a.State.Valid() {
		errs.Add("state", "must be normal, lockdown or unlocked")
	}
	if !a.Direction.Valid() {
		errs.Add("direction", "must be entry, exit or neither")
	}
	if a.HeldOpenLimit != 0 && a.HeldOpenLimit < time.Second || a.HeldOpenLimit > 24*time.Hour {
		errs.Add("held_open_seconds", "must be between 1 second and 24 hours")
	}
	lines := map[string]string{}
	for _, l := range []struct{ field, line string }{{"relay_line", a.IO.Relay}, {"contact_line", a.IO.Contact}, {"exit_line", a.IO.Exit}} {
		if l.line == "" {
			continue
		}
		if !linePattern.MatchString(l.line) {
			errs.Add(l.field, "must be CHIP:OFFSET (gpiochip0:17) or a line name (GPIO17)")
		} else if other, taken := lines[l.line]; taken {
			errs.Add(l.field, "is already the %s", strings.TrimSuffix(other, "_line"))
		}
		lines[l.line] = l.field
	}
	if a.IO.Debounce != 0 && a.IO.Debounce < time.Millisecond || a.IO.Debounce > time.Second {
		errs.Add("debounce_ms", "must be between 1 and 1000 milliseconds")
	}
	a.validatePhone(&errs)
	return errs.Err()
}
