package access

import (
	"fmt"
	"time"
)

// SiteMode is the whole site's emergency state, started and ended by an
// admin with one confirmed click.
type SiteMode string

// Site modes.
const (
	// SiteNormal: each door follows its own state.
	SiteNormal SiteMode = "normal"
	// SiteLockdown: every door is locked and refuses every credential but
	// those of users allowed during lockdown.
	SiteLockdown SiteMode = "lockdown"
	// SiteEvacuation: every exit door is unlocked.
	SiteEvacuation SiteMode = "evacuation"
)

// Valid reports whether m is a known site mode.
func (m SiteMode) Valid() bool {
	switch m {
	case SiteNormal, SiteLockdown, SiteEvacuation:
		return true
	}
	return false
}

// Emergency is a lockdown or an evacuation: who started it and when, and,
// once it is over, who ended it.
type Emergency struct {
	ID        int64
	Mode      SiteMode
	StartedAt time.Time
	StartedBy string
	EndedAt   time.Time // zero while it lasts
	EndedBy   string
}

// DoorMode is what a door is doing and why. The modes are in order of
// precedence: when several apply, the highest wins.
type DoorMode uint8

// Door modes, lowest precedence first.
const (
	// DoorNormal: locked; a grant releases it for its unlock time.
	DoorNormal DoorMode = iota
	// DoorScheduled: unlocked by its unlock schedule.
	DoorScheduled
	// DoorUnlockedByHand: unlocked by an admin ("unlock now") until a time.
	DoorUnlockedByHand
	// DoorHeldOpen: the access point is set to held open until set back.
	DoorHeldOpen
	// DoorLockedDown: the access point or the whole site is locked down.
	DoorLockedDown
	// DoorEvacuation: the site is evacuating and this door is an exit.
	DoorEvacuation
)

var doorModeNames = [...]string{
	DoorNormal:         "locked",
	DoorScheduled:      "unlocked by schedule",
	DoorUnlockedByHand: "unlocked by hand",
	DoorHeldOpen:       "held open",
	DoorLockedDown:     "locked down",
	DoorEvacuation:     "evacuation",
}

func (m DoorMode) String() string {
	if int(m) < len(doorModeNames) {
		return doorModeNames[m]
	}
	return fmt.Sprintf("DoorMode(%d)", int(m))
}

// DoorInputs is everything a door's state is computed from.
type DoorInputs struct {
	// AccessPoint carries the door's own setting (normal, lockdown, held
	// open), whether it is an exit, its unlock schedule and first person
	// in, and how long an "unlock now" lasts.
	AccessPoint AccessPoint
	// Site is the site's emergency state.
	Site SiteMode
	// Schedule is the time profile of the access point's unlock schedule;
	// nil when it has none.
	Schedule *TimeProfile
	// LastGrant is the newest grant at this access point, which is what
	// first person in waits for.
	LastGrant time.Time
	Now       time.Time
	Location  *time.Location // the site's time zone
}

// DoorState is a door's state at one instant.
type DoorState struct {
	Mode DoorMode
	// Until is when an unlock by hand ends; zero otherwise.
	Until time.Time
	// BySite says a lockdown or evacuation is the whole site's, not only
	// this door's.
	BySite bool
	// WaitingFirstIn says the unlock schedule is open but stays locked
	// until a permitted person has been let in today.
	WaitingFirstIn bool
}

// Unlocked reports whether the lock is released for as long as the state
// lasts (not only for a grant's pulse).
func (s DoorState) Unlocked() bool {
	switch s.Mode {
	case DoorScheduled, DoorUnlockedByHand, DoorHeldOpen, DoorEvacuation:
		return true
	}
	return false
}

// LockedDown reports whether the access point refuses every credential but
// those of users allowed during lockdown: its own lockdown or the site's.
// Decide and DoorStateOf both ask it, so the two never disagree.
func LockedDown(ap AccessPoint, site SiteMode) bool {
	return site == SiteLockdown || ap.State == StateLockdown
}

// DoorStateOf computes a door's state. Precedence, highest first:
//
//  1. evacuation: the site evacuates and the door is an exit: unlocked;
//  2. locked down: the site or the door is locked down: locked, whatever
//     else would unlock it;
//  3. held open: the access point is set to held open: unlocked;
//  4. unlocked by hand: an admin's "unlock now" until its end: unlocked;
//  5. unlocked by schedule: within the unlock schedule (and, with first
//     person in, once a permitted person has been let in that day):
//     unlocked;
//  6. normal: locked; a grant releases it for the unlock time.
//
// Safety first: an evacuation must open exits even during a lockdown that
// was not ended, and a lockdown must close a door that anything short of
// an evacuation left open.
func DoorStateOf(in DoorInputs) DoorState {
	ap := in.AccessPoint
	if in.Site == SiteEvacuation && ap.Exit {
		return DoorState{Mode: DoorEvacuation, BySite: true}
	}
	if LockedDown(ap, in.Site) {
		return DoorState{Mode: DoorLockedDown, BySite: in.Site == SiteLockdown}
	}
	if ap.State == StateUnlocked {
		return DoorState{Mode: DoorHeldOpen}
	}
	if !ap.UnlockedUntil.IsZero() && in.Now.Before(ap.UnlockedUntil) {
		return DoorState{Mode: DoorUnlockedByHand, Until: ap.UnlockedUntil}
	}
	if in.Schedule != nil && in.Schedule.Allows(in.Now, in.Location) {
		if !ap.FirstPersonIn || firstInToday(in) {
			return DoorState{Mode: DoorScheduled}
		}
		return DoorState{Mode: DoorNormal, WaitingFirstIn: true}
	}
	return DoorState{Mode: DoorNormal}
}

// firstInToday reports whether someone was let in today since the
// schedule first opened: a grant before opening time (the cleaner at six)
// does not open the front door at eight, and one at nine keeps the
// afternoon's window open too. The newest grant is enough to tell: if any
// grant today came after the opening, the newest did.
func firstInToday(in DoorInputs) bool {
	if in.LastGrant.IsZero() || in.LastGrant.After(in.Now) {
		return false
	}
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	now := in.Now.In(loc)
	opened, ok := in.Schedule.OpensAt(DateOf(now), loc)
	return ok && !in.LastGrant.Before(opened)
}
