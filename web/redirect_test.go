package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Every form post that changes something answers with a redirect (post,
// redirect, get), so reloading the page it leads to never posts again. The
// table must name every POST route of the admin pages: a new route fails
// here until someone says how it answers.
func TestEveryChangeAnswersWithARedirect(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, withSmartURL)
	annID := env.smartUser(t, "Ann", "ann.lee@example.com")
	ann := itoa(annID)
	bob := itoa(env.smartUser(t, "Bob", ""))
	staff := itoa(env.create(t, "groups", `{"name":"Staff"}`))
	temps := itoa(env.create(t, "groups", `{"name":"Temps"}`))
	front := itoa(env.create(t, "access-points", `{"name":"Front","reader":"sim:front"}`))
	back := itoa(env.create(t, "access-points", `{"name":"Back","reader":"sim:back"}`))
	night := itoa(env.create(t, "time-profiles", `{"name":"Night","windows":[{"days":["mon"],"start":"22:00","end":"06:00"}]}`))
	late := itoa(env.create(t, "time-profiles", `{"name":"Late","windows":[{"days":["tue"],"start":"20:00","end":"23:00"}]}`))
	perm := itoa(env.create(t, "permissions", `{"group_id":`+staff+`,"access_point_id":`+front+`}`))
	cred, _ := env.smartAssign(t, annID)
	other, _ := env.smartAssign(t, annID)

	// Each POST, in an order where each still has something to act on.
	tests := []struct {
		route string // the route as echo lists it
		url   string
		form  url.Values
		want  string // the redirect's target, a regular expression
	}{
		{"/users", "/users", url.Values{"first_name": {"Cat"}}, `^/users/\d+\?flash=created$`},
		{"/users/:id", "/users/" + ann, url.Values{"first_name": {"Ann"}, "email": {"ann.lee@example.com"}, "enabled": {"on"}}, `^/users/` + ann + `\?flash=saved$`},
		{"/users/:id/groups", "/users/" + ann + "/groups", url.Values{"group": {staff}}, `^/users/` + ann + `\?flash=saved$`},
		{"/users/:id/credentials", "/users/" + ann + "/credentials", nil, `^/users/` + ann + `\?flash=invited$`},
		{"/credentials/:cid/resend", "/credentials/" + cred + "/resend", url.Values{"delivery": {"print"}}, `^/users/` + ann + `/codes/\w+$`},
		{"/credentials/:cid/reissue", "/credentials/" + cred + "/reissue", nil, `^/users/` + ann + `\?flash=reissued$`},
		{"/credentials/:cid/revoke", "/credentials/" + other + "/revoke", nil, `^/users/` + ann + `\?flash=revoked$`},
		{"/groups", "/groups", url.Values{"name": {"Cleaners"}}, `^/groups/\d+\?flash=created$`},
		{"/groups/:id", "/groups/" + staff, url.Values{"name": {"Staff"}}, `^/groups/` + staff + `\?flash=saved$`},
		{"/access-points", "/access-points", url.Values{"name": {"Yard"}, "reader": {"sim:yard"}, "mode": {"direct"}}, `^/access-points/\d+\?flash=created$`},
		{"/access-points/:id", "/access-points/" + front, url.Values{"name": {"Front"}, "reader": {"sim:front"}, "mode": {"direct"}}, `^/access-points/` + front + `\?flash=saved$`},
		{"/time-profiles", "/time-profiles", url.Values{"name": {"Day"}, "windows": {"Mon 08:00-18:00"}}, `^/time-profiles/\d+\?flash=created$`},
		{"/time-profiles/:id", "/time-profiles/" + night, url.Values{"name": {"Night"}, "windows": {"Mon 22:00-06:00"}}, `^/time-profiles/` + night + `\?flash=saved$`},
		{"/permissions", "/permissions", url.Values{"user_id": {bob}, "access_point_id": {back}, "return_to": {"/permissions"}}, `^/permissions\?flash=created$`},
		{"/permissions/:id/delete", "/permissions/" + perm + "/delete", url.Values{"return_to": {"/groups/" + staff}}, `^/groups/` + staff + `\?flash=deleted$`},
		{"/settings", "/settings", url.Values{"site_name": {"Main office"}, "time_zone": {"UTC"}, "code_days": {"7"}}, `^/settings\?flash=saved$`},
		{"/settings/protocol", "/settings/protocol", url.Values{"accept_v1": {"on"}}, `^/settings\?flash=saved$`},
		{"/settings/site-key/roll", "/settings/site-key/roll", url.Values{"overlap_days": {"30"}, "confirm": {"roll"}}, `^/settings\?flash=rolled$`},
		{"/settings/test-email", "/settings/test-email", url.Values{"to": {"ann@example.com"}}, `^/outbox\?flash=test$`},
		{"/access-points/:id/unlock", "/access-points/" + front + "/unlock", url.Values{"back": {"dashboard"}}, `^/\?flash=unlocked$`},
		{"/access-points/:id/lock", "/access-points/" + front + "/lock", nil, `^/access-points/` + front + `\?flash=locked$`},
		{"/site/lockdown", "/site/lockdown", nil, `^/\?flash=lockdown$`},
		{"/site/evacuation", "/site/evacuation", nil, `^/\?flash=evacuate$`},
		{"/site/normal", "/site/normal", nil, `^/\?flash=normal$`},
		{"/alarms/rules", "/alarms/rules", url.Values{"door.forced": {"ops@example.com"}, "digest_seconds": {"120"}}, `^/alarms\?flash=saved$`},
		{"/webhooks", "/webhooks", url.Values{"url": {"https://hooks.example.com/postern"}, "kinds": {"door.forced"}}, `^/alarms\?flash=created$`},
		{"/webhooks/:id/delete", "/webhooks/1/delete", nil, `^/alarms\?flash=deleted$`},
		{"/groups/:id/members", "/groups/" + staff + "/members", url.Values{"user": {bob}}, `^/groups/` + staff + `\?flash=saved$`},
		{"/groups/:id/members/remove", "/groups/" + staff + "/members/remove", url.Values{"user": {bob}}, `^/groups/` + staff + `\?flash=saved$`},
		// Unconfirmed, a bulk action answers with the page that asks.
		{"/users/bulk", "/users/bulk", url.Values{"action": {"disable"}, "user": {bob}, "confirm": {"yes"}}, `^/users\?done=disable&n=1$`},
		// An import is a file upload, then a run of what it stored:
		// TestUserImport (each redirects to the import's page).
		{"/users/import", "", nil, ""},
		{"/users/import/:job/run", "", nil, ""},
		{"/outbox/:id/retry", "", nil, ""}, // a failed email only: TestInvitationRefusedForGood
		{"/settings/backup/schedule", "/settings/backup/schedule", url.Values{"backup_dir": {""}}, `^/settings/backup\?flash=saved$`},
		// A download changes nothing: it answers with the file
		// (TestBackupDownload).
		{"/settings/backup/download", "", nil, ""},
		{"/time-profiles/:id/delete", "/time-profiles/" + late + "/delete", nil, `^/time-profiles\?flash=deleted$`},
		{"/access-points/:id/delete", "/access-points/" + back + "/delete", nil, `^/access-points\?flash=deleted$`},
		{"/groups/:id/delete", "/groups/" + temps + "/delete", nil, `^/groups\?flash=deleted$`},
		{"/users/:id/delete", "/users/" + bob + "/delete", nil, `^/users\?flash=deleted$`},
		// Adding a credential from another site needs a second site:
		// TestShareImportPages. Checking its token changes nothing, so it
		// answers with the page that shows what the token holds.
		{"/users/:id/credentials/import", "", nil, ""},
		{"/users/:id/credentials/import/preview", "", nil, ""},
		// Withdrawing a share needs one a version 2 key sent:
		// TestSharesPage (it redirects to the shares page).
		{"/shares/:token/withdraw", "", nil, ""},
		// Calibrating needs a running reader: TestAccessPointCalibratePage
		// (measured, it redirects; no phone heard shows the page and
		// changes nothing).
		{"/access-points/:id/calibrate", "", nil, ""},
		// Administrators and their tokens, password and sessions end what
		// this test signs in with: TestAdminsAndTokensPage,
		// TestChangePassword, TestSignOutOtherSessions (each redirects).
		{"/settings/admins/:id/delete", "", nil, ""},
		{"/settings/tokens/:id/revoke", "", nil, ""},
		{"/settings/password", "", nil, ""},
		{"/settings/sessions/end", "", nil, ""},
		// Role, token, invitation and visitor forms: their own tests
		// (roles_test.go, admin_link_test.go, visitor_test.go).
		{"/settings/tokens", "", nil, ""},
		{"/settings/admins/:id/role", "", nil, ""},
		{"/settings/admins/invite", "", nil, ""},
		{"/settings/admins/:id/two-factor-off", "", nil, ""}, // admin_two_factor_off_test.go
		{"/admin-link/:token", "", nil, ""},
		{"/login/forgot", "", nil, ""},
		{"/visitors", "", nil, ""},
		// Two-factor: two_factor_test.go. Turning it on and new recovery
		// codes answer with the codes, shown that once and never behind
		// a redirect; the rest redirect.
		{"/settings/two-factor/start", "", nil, ""},
		{"/settings/two-factor", "", nil, ""},
		{"/settings/two-factor/disable", "", nil, ""},
		{"/settings/two-factor/recovery-codes", "", nil, ""},
		{"/settings/two-factor/roles", "/settings/two-factor/roles", url.Values{"require": {"owner"}}, `^/settings/admins\?flash=saved#two-factor$`},
		{"/login/code", "", nil, ""},
		{"/login/enrol", "", nil, ""},
		// Remote readers need the fleet configured: TestReadersPage. Adding
		// one or a new token answers with the page, since the one-time token
		// is shown on it and never put in a URL; the lease redirects.
		{"/readers", "", nil, ""},
		{"/readers/:id/token", "", nil, ""},
		{"/readers/:id/delete", "", nil, ""},
		{"/readers/lease", "", nil, ""},
		// Signing in, out and setting up: TestLogin, TestLogout, TestSetup.
		{"/login", "", nil, ""},
		{"/logout", "", nil, ""},
		{"/setup", "", nil, ""},
	}
	listed := map[string]bool{}
	for _, tt := range tests {
		listed[tt.route] = true
		if tt.url == "" {
			continue
		}
		t.Run(tt.route, func(t *testing.T) {
			w := env.post(tt.url, tt.form)
			loc := w.Header().Get("Location")
			if w.Code != http.StatusSeeOther || !regexp.MustCompile(tt.want).MatchString(loc) {
				t.Fatalf("POST %s: got status %d to %q, want 303 to %s\n%s", tt.url, w.Code, loc, tt.want, w.Body)
			}
		})
	}
	for _, r := range env.e.Routes() {
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Path, "/api/") && !listed[r.Path] {
			t.Errorf("POST %s is not in this test: say how it answers", r.Path)
		}
	}
}
