package access

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Alarm kinds: what an admin can be told by email. Each stands for the
// event kinds it covers.
const (
	AlarmForced    = "door.forced"
	AlarmHeldOpen  = "door.held_open"
	AlarmEmergency = "site.emergency" // a lockdown or evacuation started or ended
	AlarmSilent    = "reader.silent"
	AlarmDenials   = "credential.denied_repeatedly"
)

// AlarmKinds are the alarms in the order pages show them, with their
// names in people's words.
var AlarmKinds = []struct{ Kind, Label string }{
	{AlarmForced, "A door forced open"},
	{AlarmHeldOpen, "A door held open too long"},
	{AlarmEmergency, "A lockdown or evacuation started or ended"},
	{AlarmSilent, "A reader going silent"},
	{AlarmDenials, "Repeated denials of one credential"},
}

// AlarmOf returns the alarm an event kind raises, or "" when it raises
// none.
func AlarmOf(eventKind string) string {
	switch eventKind {
	case AlarmForced, AlarmHeldOpen, AlarmSilent, AlarmDenials:
		return eventKind
	case "site.lockdown_started", "site.lockdown_ended", "site.evacuation_started", "site.evacuation_ended":
		return AlarmEmergency
	}
	return ""
}

// AlarmRule says who is told, by email, of one alarm.
type AlarmRule struct {
	Kind       string
	Recipients []string
}

// Validate checks a rule's kind and addresses.
func (r AlarmRule) Validate() error {
	var errs ValidationErrors
	if !slices.ContainsFunc(AlarmKinds, func(k struct{ Kind, Label string }) bool { return k.Kind == r.Kind }) {
		errs.Add("kind", "is not an alarm")
	}
	if len(r.Recipients) > 20 {
		errs.Add(r.Kind, "at most 20 addresses")
	}
	for _, a := range r.Recipients {
		if err := ValidateEmail(a); err != nil {
			errs.Add(r.Kind, "%q is not a valid email address", a)
		}
	}
	return errs.Err()
}

// ParseRecipients reads addresses separated by commas, spaces or lines.
func ParseRecipients(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// WebhookKinds are the event kinds a webhook can be sent, in the order
// pages show them.
var WebhookKinds = []struct{ Kind, Label string }{
	{"door.forced", "Door forced open"},
	{"door.held_open", "Door held open too long"},
	{"door.opened", "Door opened"},
	{"door.closed", "Door closed"},
	{"door.exit", "Request to exit"},
	{"door.unlocked", "Door unlocked (schedule, by hand, held open, evacuation)"},
	{"door.locked", "Door locked again"},
	{"access.granted", "Access granted"},
	{"access.denied", "Access denied"},
	{"site.lockdown_started", "Lockdown started"},
	{"site.lockdown_ended", "Lockdown ended"},
	{"site.evacuation_started", "Evacuation started"},
	{"site.evacuation_ended", "Evacuation ended"},
	{"reader.silent", "Reader gone silent"},
	{"credential.denied_repeatedly", "Repeated denials of one credential"},
}

// Webhook is a URL that is sent, as a signed JSON POST, every event of the
// kinds chosen.
type Webhook struct {
	ID     int64
	URL    string
	Secret string // the HMAC-SHA256 key the receiver checks signatures with
	Kinds  []string
	// The newest delivery's outcome, for the admin.
	LastError     string
	LastAttemptAt time.Time
	LastSuccessAt time.Time
}

// Wants reports whether the webhook is sent events of kind.
func (w Webhook) Wants(kind string) bool { return slices.Contains(w.Kinds, kind) }

// Validate checks a webhook before it is stored.
func (w Webhook) Validate() error {
	var errs ValidationErrors
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(w.URL) > 500 {
		errs.Add("url", "must be an http or https URL")
	}
	if len(w.Kinds) == 0 {
		errs.Add("kinds", "choose at least one kind of event")
	}
	for _, k := range w.Kinds {
		if !slices.ContainsFunc(WebhookKinds, func(x struct{ Kind, Label string }) bool { return x.Kind == k }) {
			errs.Add("kinds", "%q is not an event kind webhooks are sent", k)
		}
	}
	return errs.Err()
}

// KindLabel says an event kind in people's words, as alarms and webhook
// forms name it; a kind without one is returned as it is.
func KindLabel(kind string) string {
	for _, k := range WebhookKinds {
		if k.Kind == kind {
			return k.Label
		}
	}
	return kind
}
