package access

import "time"

// Event is one line of the site's append-only log: a decision at a door, a
// registration, an email, or an admin's change.
type Event struct {
	ID            int64
	At            time.Time
	Kind          string // e.g. "access.granted", "user.created"
	Reason        string // for decisions and failures
	Actor         string // who made an admin change: "admin:ann@example.com", "key", "system"
	UserID        int64
	AccessPointID int64
	CredentialID  string
	RSSI          int
	Latency       time.Duration // decision latency, for access events
	Detail        string        // short human text
	// UID is set on events made at a remote reader: unique across the
	// site, so the hub stores each once however often it arrives.
	UID string
	// Protocol is how a presentation was made: "v1", "v2" (full) or "v2
	// expedited"; empty for every other event.
	Protocol string

	// Names filled by list queries for display; empty once deleted.
	UserName        string
	AccessPointName string
}

// Sizes an event's text fields are cut to (Clip) when it is stored: an
// event may quote what an unauthenticated caller sent, and the log must
// not grow by more than this whatever they send.
const (
	MaxEventKind   = 64
	MaxEventReason = 200
	MaxEventActor  = 300
	MaxEventDetail = 1000
	// MaxEventProtocol bounds Protocol, which a remote reader sends.
	MaxEventProtocol = 32
)

// Clip bounds the event's text fields to the sizes above.
func (e *Event) Clip() {
	e.Kind = Clip(e.Kind, MaxEventKind)
	e.Reason = Clip(e.Reason, MaxEventReason)
	e.Actor = Clip(e.Actor, MaxEventActor)
	e.Detail = Clip(e.Detail, MaxEventDetail)
	e.Protocol = Clip(e.Protocol, MaxEventProtocol)
}

// EventFilter narrows an event listing.
type EventFilter struct {
	UserID        int64
	AccessPointID int64
	Kind          string // exact kind, or a prefix ending in "." such as "access."
	Before        int64  // keyset cursor: events with smaller ids
	Limit         int
	// Kinds, when set, is any one of several kinds or prefixes, each read
	// as Kind is; Kind is then ignored.
	Kinds []string
	// From and To bound when the events happened: From inclusive, To
	// exclusive. Zero: unbounded.
	From, To time.Time
	// Who matches the person by name or email words (as the users list
	// searches), for the events page's free-text filter.
	Who string
}
