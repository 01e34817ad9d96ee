package web

import (
	"context"
	"time"

	"postern/access"
)

// doorView is one door as the dashboard and the API show it: its state
// now, and what its contact last said.
type doorView struct {
	AP      access.AccessPoint
	State   access.DoorState
	Contact string // "", "opened", "closed", "forced", "held_open"
	Since   time.Time
}

// doorViews computes every door's state now, with its contact.
func (h *handler) doorViews(ctx context.Context) ([]doorView, error) {
	aps, err := h.store.AllAccessPoints(ctx)
	if err != nil {
		return nil, err
	}
	return h.doorViewsOf(ctx, aps)
}

// doorViewsOf is doorViews for the access points aps only.
func (h *handler) doorViewsOf(ctx context.Context, aps []access.AccessPoint) ([]doorView, error) {
	ins, err := h.store.DoorInputsOf(ctx, aps)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(aps))
	for i, ap := range aps {
		ids[i] = ap.ID
	}
	contacts, err := h.store.DoorContacts(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := h.now()
	out := make([]doorView, len(ins))
	for i, in := range ins {
		in.Now = now
		v := doorView{AP: in.AccessPoint, State: access.DoorStateOf(in)}
		if e, ok := contacts[in.AccessPoint.ID]; ok {
			v.Contact, v.Since = e.Kind[len("door."):], e.At
		}
		out[i] = v
	}
	return out, nil
}

// stateWords says a door's state in people's words.
func stateWords(s access.DoorState, loc *time.Location) string {
	switch s.Mode {
	case access.DoorScheduled:
		return "Unlocked by schedule"
	case access.DoorUnlockedByHand:
		return "Unlocked until " + formatTime(s.Until, loc)
	case access.DoorHeldOpen:
		return "Held open"
	case access.DoorLockedDown:
		if s.BySite {
			return "Locked down (site lockdown)"
		}
		return "Locked down"
	case access.DoorEvacuation:
		return "Unlocked for evacuation"
	}
	if s.WaitingFirstIn {
		return "Locked until the first person is in"
	}
	return "Locked"
}

// contactWords says what a door's contact last reported.
func contactWords(contact string) string {
	switch contact {
	case "opened":
		return "Open"
	case "closed":
		return "Closed"
	case "forced":
		return "Forced open"
	case "held_open":
		return "Held open too long"
	}
	return ""
}
