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

// MaxRSSIOffset bounds a reader's calibration offset, in dB either way:
// more than that is not a reader to correct but a key in the wrong place.
const MaxRSSIOffset = 40

// DefaultUnlockDuration is how long a door stays released after a grant.
const DefaultUnlockDuration = 5 * time.Second

// AccessPoint is a door, gate or barrier with a reader.
type AccessPoint struct {
	ID            int64
	Name          string
	Reader        string // binding: "sim:NAME" or "hciN"
	Mode          Mode
	RSSIThreshold int // dBm
	// RSSIOffset is the reader's calibration, in dB, added to every signal
	// it measures: it makes up for the adapter, its antenna and where it
	// is mounted, so the threshold means the same at every door.
	RSSIOffset     int
	RequireUnlock  bool
	UnlockDuration time.Duration
	State          State
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

var readerPattern = regexp.MustCompile(`^(sim:[a-z0-9][a-z0-9._-]{0,62}|hci[0-9]{1,2})$`)

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
	if a.State == "" {
		a.State = StateNormal
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
	if !readerPattern.MatchString(a.Reader) {
		errs.Add("reader", "must be sim:NAME (lower-case letters, digits, . _ -) or hciN")
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
	if !a.State.Valid() {
		errs.Add("state", "must be normal, lockdown or unlocked")
	}
	return errs.Err()
}
