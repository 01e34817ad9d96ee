package web

import (
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

// pageView is what the layout needs on every page.
type pageView struct {
	Title    string
	Section  string // nav entry to mark current
	CSRF     string
	Admin    string
	Role     access.Role
	Flash    string
	FlashBad bool // the flash says something was refused
	// Emergency is the site's lockdown or evacuation, shown as a banner
	// on every admin page while it lasts.
	Emergency access.Emergency
}

// flashes are the only messages a redirect may ask a page to show, so a
// crafted link cannot put words on the page.
var flashes = map[string]string{
	"created":              "Saved.",
	"saved":                "Changes saved.",
	"deleted":              "Deleted.",
	"invited":              "Smart credential assigned; the invitation is in the outbox.",
	"resent":               "Invitation queued again.",
	"revoked":              "Credential revoked. It is refused at every reader from now on.",
	"reissued":             "A new registration code was issued; the old one no longer works.",
	"imported":             "Credential added.",
	"withdrawn":            "Share withdrawn. A site that checks with this one refuses its token from now on.",
	"rolled":               "The site key was rolled. Keys learn the new one at their next presentation during the overlap.",
	"test":                 "Test email queued.",
	"signedout":            "You are signed out.",
	"calibrated":           "Calibrated: where the phone stood now reads as the threshold.",
	"unlocked":             "Unlocked.",
	"locked":               "Locked again.",
	"lockdown":             "Lockdown started: every door refuses all but those allowed during lockdown.",
	"evacuate":             "Evacuation started: every exit door is unlocked.",
	"normal":               "Back to normal.",
	"password":             "Password changed. You are signed out everywhere else.",
	"sessions":             "You are signed out everywhere else.",
	"no-sessions":          "You were not signed in anywhere else.",
	"token-revoked":        "API token revoked. It no longer opens the API.",
	"admin-removed":        "Administrator removed.",
	"admin-two-factor-off": "Two-factor sign-in is off for that administrator, and they have been emailed.",
	"inuse":                "Not deleted: permissions below still use it. Remove them (or change them on their user's or group's page), then delete it.",
	"role":                 "Role changed.",
	"admin-invited":        "Invitation queued: the link is on its way by email.",
	"reset-sent":           "If that email is an administrator's, a link to choose a new password is on its way.",
	"visitor":              "Visitor registered; their key is in the outbox.",
	"two-factor-off":       "Two-factor sign-in is off: your password alone signs you in.",
	"code-expired":         "The sign-in took too long. Please sign in again.",
}

// badFlashes are the flashes that say something was refused.
var badFlashes = map[string]bool{"inuse": true}

func pageFor(c echo.Context, title string) pageView {
	p := pageView{Title: title, Section: section(c.Request().URL.Path), Flash: flashes[c.QueryParam("flash")], FlashBad: badFlashes[c.QueryParam("flash")]}
	if s, ok := c.Get(ctxSession).(store.Session); ok {
		p.CSRF, p.Admin, p.Role = s.CSRF, s.Email, s.Role
	}
	if e, ok := c.Get(ctxEmergency).(access.Emergency); ok {
		p.Emergency = e
	}
	return p
}

// Can reports whether the signed-in admin may use a route: a page shows
// only the links and buttons that would work.
func (p pageView) Can(method, path string) bool { return can(p.Role, method, path) }

func section(path string) string {
	if path == "/" {
		return "dashboard"
	}
	s, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return s
}

type navItem struct{ Section, Label, Href string }

// Nav is the sections the signed-in admin may open, in order; one who may
// not open Settings still reaches their own account there.
func (p pageView) Nav() []navItem {
	var out []navItem
	for _, n := range navItems {
		switch {
		case p.Can("GET", n.Href):
			out = append(out, n)
		case n.Section == "settings":
			out = append(out, navItem{"settings", "Your account", "/settings/admins"})
		}
	}
	return out
}

// navItems are the admin sections in the order the nav shows them.
var navItems = []navItem{
	{"dashboard", "Dashboard", "/"},
	{"users", "Users", "/users"},
	{"groups", "Groups", "/groups"},
	{"access-points", "Access points", "/access-points"},
	{"time-profiles", "Time profiles", "/time-profiles"},
	{"permissions", "Permissions", "/permissions"},
	{"visitors", "Visitors", "/visitors"},
	{"events", "Events", "/events"},
	{"roll-call", "Roll call", "/roll-call"},
	{"alarms", "Alarms", "/alarms"},
	{"readers", "Readers", "/readers"},
	{"outbox", "Outbox", "/outbox"},
	{"shares", "Shares", "/shares"},
	{"settings", "Settings", "/settings"},
}

// sectionLabel names the section shown, beside the phone's menu button.
func sectionLabel(section string) string {
	for _, n := range navItems {
		if n.Section == section {
			return n.Label
		}
	}
	return ""
}

// csrfHeaders is htmx's hx-headers value, so every htmx request carries the
// session's CSRF token.
func csrfHeaders(token string) string {
	return `{"X-CSRF-Token": "` + token + `"}`
}

// fieldErrors maps a form field to the message shown under it.
type fieldErrors map[string]string

func currentAttr(current bool) templ.Attributes {
	if current {
		return templ.Attributes{"aria-current": "page"}
	}
	return templ.Attributes{}
}
