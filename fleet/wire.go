package fleet

import (
	"time"

	"postern/access"
)

// eventWire is an event on its way from a reader to the hub.
type eventWire struct {
	UID           string `json:"uid"`
	At            int64  `json:"at"` // unix ms
	Kind          string `json:"kind"`
	Reason        string `json:"reason,omitempty"`
	Actor         string `json:"actor,omitempty"`
	UserID        int64  `json:"user,omitempty"`
	AccessPointID int64  `json:"ap,omitempty"`
	CredentialID  string `json:"cred,omitempty"`
	RSSI          int    `json:"rssi,omitempty"`
	LatencyUS     int64  `json:"lat,omitempty"`
	Detail        string `json:"detail,omitempty"`
	// Protocol is the version a presentation was made with ("v1", "v2",
	// "v2 expedited"), as the appliance's own decisions record it.
	Protocol string `json:"proto,omitempty"`
}

func toWire(e access.Event) eventWire {
	return eventWire{UID: e.UID, At: e.At.UnixMilli(), Kind: e.Kind, Reason: e.Reason, Actor: e.Actor, UserID: e.UserID,
		AccessPointID: e.AccessPointID, CredentialID: e.CredentialID, RSSI: e.RSSI, LatencyUS: e.Latency.Microseconds(), Detail: e.Detail, Protocol: e.Protocol}
}

func (w eventWire) event() access.Event {
	return access.Event{UID: w.UID, At: time.UnixMilli(w.At), Kind: w.Kind, Reason: w.Reason, Actor: w.Actor, UserID: w.UserID,
		AccessPointID: w.AccessPointID, CredentialID: w.CredentialID, RSSI: w.RSSI, Latency: time.Duration(w.LatencyUS) * time.Microsecond, Detail: w.Detail, Protocol: w.Protocol}
}

// statusWire is what a reader reports every few seconds.
type statusWire struct {
	PolicySeq     uint64 `json:"seq"`
	EventsWaiting int    `json:"waiting"`
	Version       string `json:"version,omitempty"`
}

// enrolRequest and enrolReply are the one exchange of enrolment.
type enrolRequest struct {
	Token string `json:"token"`
}

type enrolReply struct {
	ID     int64  `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
	Secret string `json:"secret,omitempty"`
	Error  string `json:"error,omitempty"`
}
