package web

import (
	"time"

	"postern/access"
)

// userState is a user's standing as the pages say it wherever "enabled"
// would show: "enabled", "disabled", "expired: valid until 2026-03-31",
// "starts on 2026-04-01".
func userState(u access.User, now time.Time, loc *time.Location) string {
	switch u.Standing(now) {
	case access.ReasonUserDisabled:
		return "disabled"
	case access.ReasonNotYetValid:
		return "starts on " + formatDay(u.ValidFrom, loc)
	case access.ReasonExpired:
		return "expired: valid until " + lastDay(u, loc)
	}
	return "enabled"
}

// lastDay is the last day a user is valid, as typed: the stored end is the
// start of the day after.
func lastDay(u access.User, loc *time.Location) string {
	if u.ValidUntil.IsZero() {
		return ""
	}
	return formatDay(u.ValidUntil.Add(-time.Nanosecond), loc)
}

// issueWarning is what an admin is told before issuing a credential to a
// user whom no door would let in now; "" when the user may go in.
func issueWarning(u access.User, now time.Time, loc *time.Location) string {
	switch u.Standing(now) {
	case access.ReasonUserDisabled:
		return u.Name() + " is disabled: a credential issued now opens no door until they are enabled again."
	case access.ReasonNotYetValid:
		return u.Name() + "'s access starts on " + formatDay(u.ValidFrom, loc) + ": a credential issued now opens no door before then."
	case access.ReasonExpired:
		return u.Name() + "'s access expired (valid until " + lastDay(u, loc) + "): a credential issued now opens no door unless Valid until is changed."
	}
	return ""
}
