package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"postern/mail/mailtest"
)

var tokenLine = regexp.MustCompile(`(?m)^postern-credential:[A-Za-z0-9_.-]+$`)

// presentUntil presents the key at a reader, retrying while the reader is
// not up yet (readers start within a second of their access point).
func presentUntil(t *testing.T, state, air, reader string, extra ...string) (string, string, int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, errs, code := postern(t, "", append([]string{"key", "--state", state, "present", "--air", air, "--reader", reader, "--rssi", "-50"}, extra...)...)
		if code != 2 || !strings.Contains(errs, "no reader named") || time.Now().After(deadline) {
			return out, errs, code
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// The whole "Add credential to new site" flow with two appliances that
// share nothing but one SMTP server.
func TestShareToAnotherSite(t *testing.T) {
	smtpd, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer smtpd.Close()
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startAppliance(t, dataA, "--smtp", smtpd.URL(), "--mail-from", "doors@a.example")
	b := startAppliance(t, dataB, "--smtp", smtpd.URL(), "--mail-from", "doors@b.example")
	tokA := adminToken(t, dataA, "admin@a.example")
	tokB := adminToken(t, dataB, "admin@b.example")

	// Site A issues Ann's credential and lets her through its front door.
	var ann struct{ ID int64 }
	api(t, a.url, tokA, "POST", "/api/v1/users", map[string]string{"first_name": "Ann", "last_name": "Lee", "email": "ann@a.example"}, &ann)
	var apA struct{ ID int64 }
	api(t, a.url, tokA, "POST", "/api/v1/access-points", map[string]string{"name": "A front", "reader": "sim:front", "mode": "direct"}, &apA)
	api(t, a.url, tokA, "POST", "/api/v1/permissions", map[string]int64{"user_id": ann.ID, "access_point_id": apA.ID}, nil)
	var cred struct{ ID, Code string }
	if code := api(t, a.url, tokA, "POST", fmt.Sprintf("/api/v1/users/%d/credentials?show_code=1", ann.ID), map[string]string{"kind": "smart"}, &cred); code != 201 {
		t.Fatalf("assign: %d", code)
	}
	pin := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pin, []byte("2468"), 0o600)
	state := filepath.Join(t.TempDir(), "ann.json")
	if out, errs, rc := postern(t, "", "key", "--state", state, "register", cred.Code, "--site", a.url, "--pin-file", pin); rc != 0 {
		t.Fatalf("register: %d %s %s", rc, out, errs)
	}

	// Ann asks A to send her credential to B's administrator.
	out, errs, rc := postern(t, "", "key", "--state", state, "share", "--first", "Ann", "--last", "Lee", "--admin-email", "admin@b.example")
	if rc != 0 || !strings.Contains(out, "Sent") {
		t.Fatalf("share: exit %d %q %q", rc, out, errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg, err := smtpd.Wait(ctx, mailtest.To("admin@b.example"))
	if err != nil {
		t.Fatal(err)
	}
	token := tokenLine.FindString(msg.Text)
	if token == "" {
		t.Fatalf("no token line in the email to B's admin:\n%s", msg.Text)
	}
	for _, want := range []string{"Ann Lee", "Add a credential"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("the email to B's admin does not mention %q:\n%s", want, msg.Text)
		}
	}

	// B's admin adds it to a user there and gives that user B's gate.
	var annB struct{ ID int64 }
	api(t, b.url, tokB, "POST", "/api/v1/users", map[string]string{"first_name": "Ann", "last_name": "Lee (visitor)"}, &annB)
	var imported struct{ ID, Status string }
	if code := api(t, b.url, tokB, "POST", fmt.Sprintf("/api/v1/users/%d/credentials/import", annB.ID), map[string]string{"token": token}, &imported); code != 201 {
		t.Fatalf("import: got %d", code)
	}
	if imported.ID != cred.ID || imported.Status != "active" {
		t.Errorf("got %+v, want credential %s active", imported, cred.ID)
	}
	if code := api(t, b.url, tokB, "POST", fmt.Sprintf("/api/v1/users/%d/credentials/import", annB.ID), map[string]string{"token": token}, nil); code != 409 {
		t.Errorf("importing twice: got %d, want 409", code)
	}
	var apB struct{ ID int64 }
	api(t, b.url, tokB, "POST", "/api/v1/access-points", map[string]string{"name": "B gate", "reader": "sim:gate", "mode": "direct"}, &apB)
	api(t, b.url, tokB, "POST", "/api/v1/permissions", map[string]int64{"user_id": annB.ID, "access_point_id": apB.ID}, nil)

	// The same key now opens both sites' doors with no further step.
	if out, errs, rc := presentUntil(t, state, b.air, "gate"); rc != 0 || !strings.Contains(out, "Access granted") {
		t.Fatalf("at B: exit %d %q %q", rc, out, errs)
	}
	if out, errs, rc := presentUntil(t, state, a.air, "front"); rc != 0 || !strings.Contains(out, "Access granted") {
		t.Fatalf("at A: exit %d %q %q", rc, out, errs)
	}
	out, _, _ = postern(t, "", "key", "--state", state, "status")
	if !strings.Contains(out, "Also used at") {
		t.Errorf("status does not list the second site:\n%s", out)
	}

	// Revoking at B is B's business alone.
	api(t, b.url, tokB, "POST", "/api/v1/credentials/"+cred.ID+"/revoke", nil, nil)
	if out, _, rc := presentUntil(t, state, b.air, "gate"); rc != 1 || !strings.Contains(out, "Access denied") {
		t.Errorf("at B after revoking there: exit %d %q, want denied", rc, out)
	}
	if out, _, rc := presentUntil(t, state, a.air, "front"); rc != 0 {
		t.Errorf("at A after revoking at B: exit %d %q, want still granted", rc, out)
	}

	// A strict key answers no site it does not know.
	if _, errs, rc := presentUntil(t, state, b.air, "gate", "--strict"); rc != 1 || !strings.Contains(errs, "does not know") {
		t.Errorf("strict key at B: exit %d %q, want refused as unknown", rc, errs)
	}
}
