package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// settingsValues is a valid settings form with some fields changed.
func settingsValues(changes map[string]string) url.Values {
	v := url.Values{"site_name": {"Front Office"}, "time_zone": {"Europe/London"}, "code_days": {"3"}, "smtp": {""}, "mail_from": {""}}
	for k, val := range changes {
		v.Set(k, val)
	}
	return v
}

func TestSettingsPage(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, withSmartURL)
	const (
		password = "s3cret-Pw-9731"
		smtpURL  = "smtp://mailer:" + password + "@127.0.0.1:2525?tls=none"
		redacted = "smtp://mailer:xxxxx@127.0.0.1:2525?tls=none"
	)
	env.runPages(t, []scenario{
		{name: "defaults", method: "GET", url: "/settings", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"smtp-missing": "No SMTP server is set", "site-id": ""},
			wantFields:  map[string]string{"site_name": "Postern", "code_days": "7", "smtp": ""}},
		{name: "save", method: "POST", url: "/settings", body: settingsValues(map[string]string{"smtp": smtpURL, "mail_from": "doors@example.com"}).Encode(),
			wantStatus: http.StatusSeeOther, wantLocation: "/settings?flash=saved"},
		{name: "saved", method: "GET", url: "/settings?flash=saved", wantStatus: http.StatusOK,
			wantTestIDs:     map[string]string{"flash": "saved", "smtp-current": redacted},
			wantFields:      map[string]string{"site_name": "Front Office", "time_zone": "Europe/London", "code_days": "3", "smtp": "", "mail_from": "doors@example.com"},
			wantNotContains: []string{password}},
		// Leaving the SMTP field empty keeps the server: the page never
		// shows the password back for the form to resubmit.
		{name: "save without SMTP", method: "POST", url: "/settings", body: settingsValues(map[string]string{"site_name": "Back Office"}).Encode(),
			wantStatus: http.StatusSeeOther},
		{name: "SMTP kept", method: "GET", url: "/settings", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"smtp-current": redacted}, wantFields: map[string]string{"site_name": "Back Office"}, wantNotContains: []string{password}},
		{name: "invalid SMTP URL", method: "POST", url: "/settings", body: settingsValues(map[string]string{"smtp": "http://mailer:hunter2-Pw@mail.example.com"}).Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-smtp": "scheme"}, wantNotContains: []string{"hunter2-Pw"},
			wantFields: map[string]string{"smtp": ""}},
		{name: "SMTP URL with a typo", method: "POST", url: "/settings", body: settingsValues(map[string]string{"smtp": "smtp://mailer:hunter2-Pw@mail.example.com?tsl=none"}).Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-smtp": "tsl"}, wantNotContains: []string{"hunter2-Pw"}},
		{name: "SMTP URL with a bad port", method: "POST", url: "/settings", body: settingsValues(map[string]string{"smtp": "smtp://mailer:hunter2-Pw@mail.example.com:smtp"}).Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-smtp": "port"}, wantNotContains: []string{"hunter2-Pw"}},
		{name: "invalid time zone", method: "POST", url: "/settings", body: settingsValues(map[string]string{"time_zone": "Mars/Olympus_Mons"}).Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-time_zone": "not a time zone"},
			wantFields: map[string]string{"time_zone": "Mars/Olympus_Mons"}},
		{name: "empty time zone", method: "POST", url: "/settings", body: settingsValues(map[string]string{"time_zone": ""}).Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-time_zone": "not a time zone"}},
		{name: "code lifetime too long", method: "POST", url: "/settings", body: settingsValues(map[string]string{"code_days": "91"}).Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-code_days": "1 to 90"}},
		{name: "code lifetime not a number", method: "POST", url: "/settings", body: settingsValues(map[string]string{"code_days": "a week"}).Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-code_days": "1 to 90"}},
		{name: "no site name", method: "POST", url: "/settings", body: settingsValues(map[string]string{"site_name": " "}).Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-site_name": "1 to 100"}},
		{name: "bad sender", method: "POST", url: "/settings", body: settingsValues(map[string]string{"mail_from": "doors at example"}).Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-mail_from": ""}},
		{name: "without CSRF", method: "POST", url: "/settings", body: settingsValues(map[string]string{"_csrf": "forged"}).Encode(),
			wantStatus: http.StatusForbidden},
		{name: "nothing changed by the refusals", method: "GET", url: "/settings", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"smtp-current": redacted},
			wantFields:  map[string]string{"site_name": "Back Office", "time_zone": "Europe/London", "code_days": "3"}},
	})

	ctx := t.Context()
	site, err := env.s.Site(ctx)
	if err != nil || site.Name != "Back Office" {
		t.Errorf("got site name %q (%v), want Back Office", site.Name, err)
	}
	if got, _ := env.s.Setting(ctx, "smtp_url", ""); got != smtpURL {
		t.Errorf("got stored SMTP URL %q, want %q", got, smtpURL)
	}
	for _, e := range env.events(t) {
		if strings.Contains(e.Detail+e.Reason, password) {
			t.Errorf("event %s holds the SMTP password: %q", e.Kind, e.Detail)
		}
	}
	out := env.smartOutbox(t)
	if !out.SMTPConfigured {
		t.Error("got smtp_configured false after setting a server")
	}

	// The site name is what keys learn.
	_, code := env.smartAssign(t, env.smartUser(t, "Ivy", "ivy@example.com"))
	if got := env.mustRegister(t, newSmartDevice(t), code).Site.Name; got != "Back Office" {
		t.Errorf("got site name %q at registration, want Back Office", got)
	}

	env.runPages(t, []scenario{
		{name: "clear SMTP", method: "POST", url: "/settings", body: settingsValues(map[string]string{"smtp_clear": "on"}).Encode(),
			wantStatus: http.StatusSeeOther},
		{name: "SMTP cleared", method: "GET", url: "/settings", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"smtp-missing": ""}, wantNotContains: []string{"mailer:"}},
	})
	if env.smartOutbox(t).SMTPConfigured {
		t.Error("got smtp_configured true after clearing the server")
	}
}

// TestSettingsKeepsWhatWasTyped: a save refused for other fields shows
// every field's error and keeps what was typed, the SMTP URL included, so
// fixing the time zone is all it takes to save.
func TestSettingsKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	const smtpURL = "smtp://mailer:s3cret-Pw-2208@127.0.0.1:2525?tls=none"
	typed := map[string]string{"site_name": "Front Office", "time_zone": "Mars/Olympus_Mons", "code_days": "91", "smtp": smtpURL, "mail_from": "doors at example"}
	env.runPages(t, []scenario{
		{name: "refused", method: "POST", url: "/settings", body: settingsValues(typed).Encode(),
			wantStatus:  http.StatusUnprocessableEntity,
			wantHeaders: map[string]string{"Cache-Control": "no-store"},
			wantTestIDs: map[string]string{"error-time_zone": "not a time zone", "error-code_days": "1 to 90", "error-mail_from": "not a valid email"},
			wantFields:  map[string]string{"site_name": "Front Office", "time_zone": "Mars/Olympus_Mons", "code_days": "91", "smtp": smtpURL, "mail_from": "doors at example"}},
		{name: "nothing saved", method: "GET", url: "/settings", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"smtp-missing": ""}, wantFields: map[string]string{"site_name": "Postern", "smtp": ""}},
		{name: "fixed and sent again", method: "POST", url: "/settings",
			body:       settingsValues(map[string]string{"time_zone": "Europe/London", "code_days": "3", "smtp": smtpURL, "mail_from": "doors@example.com"}).Encode(),
			wantStatus: http.StatusSeeOther, wantLocation: "/settings?flash=saved"},
	})
	if got, _ := env.s.Setting(t.Context(), "smtp_url", ""); got != smtpURL {
		t.Errorf("got stored SMTP URL %q, want %q", got, smtpURL)
	}
}

// TestSettingsCodeLifetime: a code works for the days the settings say.
func TestSettingsCodeLifetime(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, withSmartURL)
	if w := env.post("/settings", settingsValues(map[string]string{"code_days": "2"})); w.Code != http.StatusSeeOther {
		t.Fatalf("save: got status %d, want 303\n%s", w.Code, w.Body)
	}
	uid := env.smartUser(t, "Jo", "jo@example.com")
	tests := []struct {
		name  string
		after time.Duration
		want  int
	}{
		{"a day later", 24 * time.Hour, http.StatusOK},
		{"two days later", 2*24*time.Hour + time.Second, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, code := env.smartAssign(t, uid)
			env.clock.Add(tt.after)
			if w := env.smartRegister(newSmartDevice(t).request(t, code), ""); w.Code != tt.want {
				t.Errorf("got status %d, want %d\n%s", w.Code, tt.want, w.Body)
			}
		})
	}
}

func TestSettingsTestEmail(t *testing.T) {
	t.Parallel()
	env := newMailEnv(t, "")
	env.runPages(t, []scenario{
		{name: "form", method: "GET", url: "/settings", wantStatus: http.StatusOK, wantFields: map[string]string{"to": adminEmail}},
		{name: "bad address", method: "POST", url: "/settings/test-email", body: "to=nobody", wantStatus: http.StatusUnprocessableEntity,
			wantTestIDs: map[string]string{"error-to": ""}, wantFields: map[string]string{"to": "nobody"}},
		{name: "send", method: "POST", url: "/settings/test-email", body: "to=ops%40example.com", wantStatus: http.StatusSeeOther, wantLocation: "/outbox?flash=test"},
		{name: "waiting", method: "GET", url: "/outbox?flash=test", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"flash": "Test email queued", "smtp-missing": "waiting", "outbox-row": "ops@example.com"}},
		{name: "counted on the settings page", method: "GET", url: "/settings", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"smtp-missing": "(1 now)"}},
	})
	row := env.smartOutbox(t).Outbox[0]
	if row.Kind != "test" || row.Status != "queued" || row.Attempts != 0 {
		t.Errorf("got %+v, want a queued test email never tried", row)
	}
	env.noTry(t)

	srv := startSMTP(t)
	if w := env.post("/settings", settingsForm(srv.URL())); w.Code != http.StatusSeeOther {
		t.Fatalf("save settings: got status %d, want 303\n%s", w.Code, w.Body)
	}
	if try := env.nextTry(t); try.err != nil || try.id != row.ID {
		t.Fatalf("got attempt %+v, want the test email sent", try)
	}
	msg := waitMail(t, srv, "ops@example.com")
	if msg.Subject == "" || msg.Text == "" {
		t.Errorf("got subject %q and text %q, want both", msg.Subject, msg.Text)
	}
	env.runPages(t, []scenario{
		{name: "sent", method: "GET", url: "/outbox", wantStatus: http.StatusOK,
			wantContains: []string{`data-status="sent"`}, wantNotContains: []string{`data-testid="smtp-missing"`, `data-status="queued"`}},
	})
}
