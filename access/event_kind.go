package access

// EventKinds are the kinds of every event Postern logs. Pages show each in
// people's words, and a test checks that every kind in the code is here and
// that every kind here has its words, so a new kind cannot reach the
// dashboard raw.
var EventKinds = []string{
	// At the doors: decisions, refused keys, the doors' inputs and states.
	"access.granted", "access.denied", "access.rejected",
	"access.phone.granted", "access.phone.denied", "access.phone.rejected", // opened from the phone, over the network
	"door.opened", "door.closed", "door.exit", "door.forced", "door.held_open", "door.unlocked", "door.locked",
	"reader.silent", "credential.denied_repeatedly",
	"site.lockdown_started", "site.lockdown_ended", "site.evacuation_started", "site.evacuation_ended",

	// Admin changes.
	"user.created", "user.updated", "user.deleted", "user.groups_changed",
	"user.import_started", "user.imported",
	"group.created", "group.updated", "group.deleted",
	"access_point.created", "access_point.updated", "access_point.deleted",
	"access_point.calibrated", "access_point.unlocked", "access_point.relocked",
	"time_profile.created", "time_profile.updated", "time_profile.deleted",
	"permission.created", "permission.updated", "permission.deleted",
	"credential.assigned", "credential.registered", "credential.reissued", "credential.resent",
	"credential.revoked", "credential.imported", "credential.shared",
	"credential.share_withdrawn", "credential.share_imported", "credential.migrated",
	"admin.created", "admin.removed", "admin.login", "admin.password_changed", "admin.sessions_ended",
	"admin.role_changed", "admin.invited", "admin.password_reset", "visitor.registered",
	"admin.two_factor_enrolled", "admin.two_factor_disabled", "admin.recovery_code_used", "admin.recovery_codes_replaced",
	"api_token.created", "api_token.revoked",
	"site.renamed", "site.key_rolled", "setting.changed", "alarm_rules.changed", "webhook.created", "webhook.deleted",
	"reader.created", "reader.token", "reader.enrolled", "reader.deleted",
	"backup.created", "backup.failed", "backup.downloaded", "backup.scheduled",

	// Mail: each kind of email (invitation, share, test) queued, sent or failed.
	"invitation.queued", "invitation.sent", "invitation.failed",
	"share.queued", "share.sent", "share.failed",
	"test.queued", "test.sent", "test.failed",
	"admin_invite.queued", "admin_invite.sent", "admin_invite.failed",
	"admin_reset.queued", "admin_reset.sent", "admin_reset.failed",
	"admin_two_factor_off.queued", "admin_two_factor_off.sent", "admin_two_factor_off.failed",
	"mail.retried",

	// Refused outsiders, and the summary of those past a window's share.
	"admin.login_failed", "registration.failed", "credential.migration_failed", "refused.summary",
}
