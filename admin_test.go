package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"postern/mail/mailtest"
	"postern/store"
)

// TestAdminLifecycleThroughTheBinary: administrators and API tokens are
// listed, expire, are revoked and removed from the command line, on the
// data folder of a running appliance.
func TestAdminLifecycleThroughTheBinary(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	annToken := adminToken(t, data, "ann@office.example")
	if _, errs, code := postern(t, "another good password\n", "admin", "create", "--data", data, "--email", "bob@office.example"); code != 0 {
		t.Fatalf("create bob: exit %d %s", code, errs)
	}
	out, errs, code := postern(t, "", "admin", "token", "--data", data, "--email", "bob@office.example", "--name", "door sync", "--expires", "30d")
	if code != 0 || !strings.Contains(errs, "valid until") {
		t.Fatalf("token with expiry: exit %d %q", code, errs)
	}
	bobToken := strings.TrimSpace(out)
	if got := api(t, a.url, bobToken, "GET", "/api/v1/users", nil, nil); got != http.StatusOK {
		t.Fatalf("Bob's token: got %d, want 200", got)
	}

	out, _, code = postern(t, "", "admin", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "ann@office.example") || !strings.Contains(out, "bob@office.example") {
		t.Errorf("admin list: exit %d\n%s", code, out)
	}
	out, _, code = postern(t, "", "admin", "tokens", "--data", data)
	row := regexp.MustCompile(`(?m)^(\d+)\s+door sync\s+bob@office\.example\s+.*\s(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$`).FindStringSubmatch(out)
	if code != 0 || row == nil || !strings.Contains(out, "tests") {
		t.Fatalf("admin tokens: exit %d, want both tokens, Bob's used and expiring\n%s", code, out)
	}
	if out, _, _ := postern(t, "", "admin", "tokens", "--data", data, "--email", "ann@office.example"); strings.Contains(out, "door sync") {
		t.Errorf("Ann's tokens list Bob's:\n%s", out)
	}

	if out, errs, code := postern(t, "", "admin", "revoke-token", "--data", data, "--id", row[1]); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke-token: exit %d %q %q", code, out, errs)
	}
	if got := api(t, a.url, bobToken, "GET", "/api/v1/users", nil, nil); got != http.StatusUnauthorized {
		t.Errorf("a revoked token: got %d, want 401", got)
	}
	if _, errs, code := postern(t, "", "admin", "revoke-token", "--data", data, "--id", row[1]); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("revoking it again: exit %d %q, want a failure", code, errs)
	}

	if out, errs, code := postern(t, "", "admin", "remove", "--data", data, "--email", "bob@office.example"); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("remove bob: exit %d %q %q", code, out, errs)
	}
	if _, errs, code := postern(t, "", "admin", "remove", "--data", data, "--email", "ann@office.example"); code == 0 || !strings.Contains(errs, "only administrator") {
		t.Errorf("removing the last admin: exit %d %q, want refused", code, errs)
	}
	if got := api(t, a.url, annToken, "GET", "/api/v1/users", nil, nil); got != http.StatusOK {
		t.Errorf("Ann's token after the refusal: got %d, want 200", got)
	}
}

// TestAdminTwoFactorOffThroughTheBinary: an administrator who lost both
// phone and recovery codes has two-factor turned off on the appliance's
// command line, and is emailed about it (through a real SMTP server, by
// the running appliance) as when an owner does it on the web; a second
// time is refused, since there is nothing left to turn off.
func TestAdminTwoFactorOffThroughTheBinary(t *testing.T) {
	data := t.TempDir()
	a, smtpd := startMailingAppliance(t, data)
	adminToken(t, data, "ann@office.example")
	if _, errs, code := postern(t, "another good password\n", "admin", "create", "--data", data, "--email", "bob@office.example", "--role", "admin"); code != 0 {
		t.Fatalf("create bob: exit %d %s", code, errs)
	}
	st, err := store.Open(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bob, err := st.AdminByEmail(t.Context(), "bob@office.example")
	if err == nil {
		err = st.SetPendingTOTP(t.Context(), bob.ID, "JBSWY3DPEHPK3PXP")
	}
	if err == nil {
		err = st.EnrolTOTP(t.Context(), "test", bob.ID, "JBSWY3DPEHPK3PXP", 1, []string{"aaaa-bbbb-cccc"})
	}
	if err != nil {
		t.Fatal(err)
	}

	off := []string{"admin", "two-factor-off", "--data", data, "--email", "bob@office.example", "--public-url", a.url, "--mail-from", "doors@office.example"}
	if out, errs, code := postern(t, "", off...); code != 0 || !strings.Contains(out, "off") {
		t.Fatalf("two-factor-off: exit %d %q %q", code, out, errs)
	}
	if tf, err := st.TwoFactor(t.Context(), bob.ID); err != nil || tf.Enrolled() || tf.Recovery != 0 {
		t.Errorf("after two-factor-off: got %+v, %v, want none", tf, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	msg, err := smtpd.Wait(ctx, mailtest.To("bob@office.example"))
	if err != nil {
		t.Fatalf("no email to bob: %v\n%s", err, a.output())
	}
	for _, want := range []string{"Someone on the appliance's command line turned off two-factor sign-in for bob@office.example",
		"recovery codes no longer work", "Your password alone now signs you in.", a.url + "/settings/admins"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("email: no %q in\n%s", want, msg.Text)
		}
	}
	if !strings.Contains(msg.From, "doors@office.example") || !strings.Contains(msg.Subject, "Two-factor sign-in turned off") {
		t.Errorf("email: from %q, subject %q", msg.From, msg.Subject)
	}
	if _, errs, code := postern(t, "", off...); code == 0 || !strings.Contains(errs, "already off") {
		t.Errorf("two-factor-off again: exit %d %q, want refused", code, errs)
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 3, 11, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"90d", now.AddDate(0, 0, 90), false},
		{"12h", now.Add(12 * time.Hour), false},
		{"2026-12-31", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026-03-11", time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC), false}, // through today
		{"2026-03-10", time.Time{}, true},
		{"0d", time.Time{}, true},
		{"-1h", time.Time{}, true},
		{"soon", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseExpiry(tt.in, now)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
