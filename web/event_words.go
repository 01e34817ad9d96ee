package web

import (
	"strings"

	"postern/access"
)

// The event log stores stable kinds ("access.granted", "user.created") for
// the API and for filters; pages show them in people's words.

// eventWords are the words for every kind in access.EventKinds (a test
// keeps them complete); kinds only old logs hold fall back to
// "<subject> <verb>" below.
var eventWords = map[string]string{
	"access.granted":               "Access granted",
	"access.denied":                "Access denied",
	"access.rejected":              "Key refused",
	"access.phone.granted":         "Access granted from the phone",
	"access.phone.denied":          "Access denied from the phone",
	"access.phone.rejected":        "Phone's key refused",
	"door.opened":                  "Door opened",
	"door.closed":                  "Door closed",
	"door.exit":                    "Request to exit",
	"door.forced":                  "Door forced open",
	"door.held_open":               "Door held open too long",
	"door.unlocked":                "Door unlocked",
	"door.locked":                  "Door locked",
	"reader.silent":                "Reader gone silent",
	"credential.denied_repeatedly": "Repeated denials of one credential",
	"site.lockdown_started":        "Lockdown started",
	"site.lockdown_ended":          "Lockdown ended",
	"site.evacuation_started":      "Evacuation started",
	"site.evacuation_ended":        "Evacuation ended",

	"user.created":                  "User added",
	"user.updated":                  "User changed",
	"user.deleted":                  "User deleted",
	"user.groups_changed":           "User's groups changed",
	"user.import_started":           "User import started",
	"user.imported":                 "Users imported",
	"group.created":                 "Group added",
	"group.updated":                 "Group changed",
	"group.deleted":                 "Group deleted",
	"access_point.created":          "Access point added",
	"access_point.updated":          "Access point changed",
	"access_point.deleted":          "Access point deleted",
	"access_point.calibrated":       "Reader calibrated",
	"access_point.unlocked":         "Unlocked by an administrator",
	"access_point.relocked":         "Locked again by an administrator",
	"time_profile.created":          "Time profile added",
	"time_profile.updated":          "Time profile changed",
	"time_profile.deleted":          "Time profile deleted",
	"permission.created":            "Permission added",
	"permission.updated":            "Permission changed",
	"permission.deleted":            "Permission deleted",
	"credential.assigned":           "Smart credential assigned",
	"credential.registered":         "Phone registered",
	"credential.reissued":           "New code for a new phone",
	"credential.resent":             "Invitation sent again",
	"credential.revoked":            "Credential revoked",
	"credential.imported":           "Credential added from another site",
	"credential.shared":             "Credential shared with another site",
	"credential.share_withdrawn":    "Credential sharing withdrawn",
	"credential.share_imported":     "Shared credential added at the other site",
	"credential.migrated":           "Key updated to the new version",
	"reader.created":                "Remote reader added",
	"reader.token":                  "New enrolment token for a remote reader",
	"reader.enrolled":               "Remote reader enrolled",
	"reader.deleted":                "Remote reader removed",
	"admin.created":                 "Administrator added",
	"admin.removed":                 "Administrator removed",
	"admin.login":                   "Administrator signed in",
	"admin.password_changed":        "Administrator's password changed",
	"admin.sessions_ended":          "Administrator's other sessions signed out",
	"admin.role_changed":            "Administrator role changed",
	"admin.invited":                 "Administrator invited",
	"admin.password_reset":          "Administrator password reset",
	"admin.two_factor_enrolled":     "Two-factor sign-in turned on",
	"admin.two_factor_disabled":     "Two-factor sign-in turned off",
	"admin.recovery_code_used":      "Recovery code used to sign in",
	"admin.recovery_codes_replaced": "New recovery codes made",
	"visitor.registered":            "Visitor registered",
	"api_token.created":             "API token created",
	"api_token.revoked":             "API token revoked",
	"site.renamed":                  "Site renamed",
	"site.key_rolled":               "Site key replaced",
	"setting.changed":               "Setting changed",
	"alarm_rules.changed":           "Alarm emails changed",
	"webhook.created":               "Webhook added",
	"webhook.deleted":               "Webhook deleted",
	"backup.created":                "Scheduled backup written",
	"backup.failed":                 "Scheduled backup failed",
	"backup.downloaded":             "Backup downloaded",
	"backup.scheduled":              "Backup schedule changed",

	"invitation.queued": "Invitation email queued",
	"invitation.sent":   "Invitation email sent",
	"invitation.failed": "Invitation email failed",
	// share.failed is both a share request refused and its email failing.
	"share.queued":                "Sharing email queued",
	"share.sent":                  "Sharing email sent",
	"share.failed":                "Credential sharing failed",
	"test.queued":                 "Test email queued",
	"test.sent":                   "Test email sent",
	"test.failed":                 "Test email failed",
	"admin_invite.queued":         "Administrator invitation queued",
	"admin_invite.sent":           "Administrator invitation sent",
	"admin_invite.failed":         "Administrator invitation failed",
	"admin_reset.queued":          "Password reset email queued",
	"admin_reset.sent":            "Password reset email sent",
	"admin_reset.failed":          "Password reset email failed",
	"admin_two_factor_off.queued": "Two-factor off email queued",
	"admin_two_factor_off.sent":   "Two-factor off email sent",
	"admin_two_factor_off.failed": "Two-factor off email failed",
	"mail.retried":                "Email sent again",
	"admin.login_failed":          "Sign-in failed",
	"admin.login_limited":         "Sign-ins slowed down",
	"registration.failed":         "Registration refused",
	"credential.migration_failed": "Key update refused",
	kindRefusals:                  "Refused attempts counted",
}

// eventSubjects and eventVerbs name the two halves of any other kind, so a
// kind added later still reads as words.
var (
	eventSubjects = map[string]string{
		"user": "User", "group": "Group", "access_point": "Access point", "time_profile": "Time profile",
		"permission": "Permission", "credential": "Credential", "admin": "Administrator", "api_token": "API token",
		"invitation": "Invitation email", "share": "Credential sharing", "test": "Test email", "mail": "Email",
	}
	eventVerbs = map[string]string{"created": "added", "updated": "changed"}
)

// eventLabel is an event's kind in people's words.
func eventLabel(kind string) string {
	if w, ok := eventWords[kind]; ok {
		return w
	}
	for _, k := range access.WebhookKinds {
		if k.Kind == kind {
			return k.Label
		}
	}
	subject, verb, _ := strings.Cut(kind, ".")
	s, ok := eventSubjects[subject]
	if !ok {
		s = strings.ReplaceAll(subject, "_", " ")
		if s != "" {
			s = strings.ToUpper(s[:1]) + s[1:]
		}
	}
	v, ok := eventVerbs[verb]
	if !ok {
		v = strings.ReplaceAll(verb, "_", " ")
	}
	return strings.TrimSpace(s + " " + v)
}

// rejectionWords are the protocol's refusal codes (an "access.rejected"
// event's reason) as an admin would say them.
var rejectionWords = map[string]string{
	"malformed":           "garbled answer",
	"unknown_version":     "unknown protocol version",
	"downgrade":           "protocol downgrade attempt",
	"bad_signature":       "not signed by the credential's phone",
	"decrypt":             "answer could not be read",
	"late":                "answered too late",
	"replayed":            "replayed answer",
	"unsupported_version": "the key app needs updating",
	"unknown_site":        "key does not know this site",
	"busy":                "reader busy",
}

// decisionKind is a decision's kind wherever the key was: an open from
// the phone ("access.phone.granted") reads as the reader's decision does.
func decisionKind(kind string) string {
	if rest, ok := strings.CutPrefix(kind, "access.phone."); ok {
		return "access." + rest
	}
	return kind
}

// eventReason is an event's reason in people's words.
func eventReason(e access.Event) string {
	kind := decisionKind(e.Kind)
	if kind == "access.granted" {
		return ""
	}
	if w, ok := rejectionWords[e.Reason]; ok && kind == "access.rejected" {
		return w
	}
	return strings.ReplaceAll(e.Reason, "_", " ")
}

// doorFamilies are the families of the events that happen at the doors:
// decisions and refused keys, the doors' own (contact, exit, alarms), the
// readers', and the site's lockdowns and evacuations.
var doorFamilies = []string{"access.", "door.", "reader.", "site."}

// isDoorEvent reports whether e happened at a door rather than in the
// admin pages, the mail queue or the key API.
func isDoorEvent(e access.Event) bool {
	for _, f := range doorFamilies {
		if strings.HasPrefix(e.Kind, f) {
			return true
		}
	}
	return false
}

// isDecision reports whether e is a decision at a reader, or a key it
// refused: what an access point's tile shows last.
func isDecision(e access.Event) bool {
	return strings.HasPrefix(e.Kind, "access.")
}

// resultWords is a door event as a tile shows it: "Granted",
// "Denied: outside schedule", "Refused: answered too late".
func resultWords(e access.Event) string {
	var w string
	switch decisionKind(e.Kind) {
	case "access.granted":
		return "Granted"
	case "access.denied":
		w = "Denied"
	case "access.rejected":
		w = "Refused"
	default:
		return eventLabel(e.Kind)
	}
	if why := eventReason(e); why != "" {
		w += ": " + why
	}
	return w
}

// stateLabel is an access point's state in the words the access point's
// form uses, so the same state reads the same everywhere.
func stateLabel(s access.State) string {
	switch s {
	case access.StateNormal:
		return "normal"
	case access.StateLockdown:
		return "locked down"
	case access.StateUnlocked:
		return "held open"
	}
	return string(s)
}
