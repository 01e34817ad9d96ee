package main

import (
	"context"
	"encoding/json"
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

// presentAt presents the key at a reader, which is listening by the
// time the call that created its access point returned.
func presentAt(t *testing.T, state, pin, air, reader string, extra ...string) (string, string, int) {
	t.Helper()
	return postern(t, "", append([]string{"key", "--state", state, "present", "--air", air, "--reader", reader, "--rssi", "-50", "--pin-file", pin}, extra...)...)
}

// presentJSON presents with --json and reads the line it prints.
func presentJSONAt(t *testing.T, state, pin, air, reader string) (presentJSON, int) {
	t.Helper()
	out, errs, code := presentAt(t, state, pin, air, reader, "--json")
	var j presentJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("present --json printed %q (%s): %v", out, errs, err)
	}
	return j, code
}

// The whole "Add credential to new site" flow with two appliances that
// share nothing but one SMTP server (and, when they can reach each other,
// the importing site's confirmation with the issuing one).
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
	os.WriteFile(pin, []byte("battery staple 2468"), 0o600)
	state := filepath.Join(t.TempDir(), "ann.json")
	if out, errs, rc := postern(t, "", "key", "--state", state, "register", cred.Code, "--site", a.url, "--pin-file", pin); rc != 0 {
		t.Fatalf("register: %d %s %s", rc, out, errs)
	}

	// B's gate, and a visitor record for Ann there.
	var annB struct{ ID int64 }
	api(t, b.url, tokB, "POST", "/api/v1/users", map[string]string{"first_name": "Ann", "last_name": "Lee (visitor)"}, &annB)
	var apB struct{ ID int64 }
	api(t, b.url, tokB, "POST", "/api/v1/access-points", map[string]string{"name": "B gate", "reader": "sim:gate", "mode": "direct"}, &apB)
	api(t, b.url, tokB, "POST", "/api/v1/permissions", map[string]int64{"user_id": annB.ID, "access_point_id": apB.ID}, nil)

	// Before anything was shared the key answers B nothing: it has not
	// pinned B, and B has nothing to introduce itself with.
	if _, errs, rc := presentAt(t, state, pin, b.air, "gate"); rc != 1 || !strings.Contains(errs, "does not know") {
		t.Fatalf("at B before sharing: exit %d %q, want refused as unknown", rc, errs)
	}

	// Ann asks A to send her credential to B's administrator.
	seen := map[string]bool{}
	share := func() string {
		t.Helper()
		out, errs, rc := postern(t, "", "key", "--state", state, "share", "--first", "Ann", "--last", "Lee", "--admin-email", "admin@b.example", "--pin-file", pin)
		if rc != 0 || !strings.Contains(out, "Sent") {
			t.Fatalf("share: exit %d %q %q", rc, out, errs)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		msg, err := smtpd.Wait(ctx, func(m mailtest.Message) bool {
			return mailtest.To("admin@b.example")(m) && !seen[tokenLine.FindString(m.Text)]
		})
		if err != nil {
			t.Fatal(err)
		}
		token := tokenLine.FindString(msg.Text)
		seen[token] = true
		if token == "" {
			t.Fatalf("no token line in the email to B's admin:\n%s", msg.Text)
		}
		for _, want := range []string{"Ann Lee", "Add a credential"} {
			if !strings.Contains(msg.Text, want) {
				t.Errorf("the email to B's admin does not mention %q:\n%s", want, msg.Text)
			}
		}
		return token
	}
	token := share()

	// B's admin adds it to Ann's record there: B's own credential id for
	// her, not A's, and once only.
	var imported struct{ ID, Status string }
	if code := api(t, b.url, tokB, "POST", fmt.Sprintf("/api/v1/users/%d/credentials/import", annB.ID), map[string]string{"token": token}, &imported); code != 201 {
		t.Fatalf("import: got %d\n%s", code, b.output())
	}
	if imported.ID == cred.ID || imported.Status != "active" {
		t.Errorf("got %+v, want an active credential with an id of B's own, not A's %s", imported, cred.ID)
	}
	if code := api(t, b.url, tokB, "POST", fmt.Sprintf("/api/v1/users/%d/credentials/import", annB.ID), map[string]string{"token": token}, nil); code != 409 {
		t.Errorf("importing twice: got %d, want 409", code)
	}

	// The first presentation at B: B introduces itself, the key pins it,
	// and the door opens. The next is expedited.
	if out, errs, rc := presentAt(t, state, pin, b.air, "gate"); rc != 0 || !strings.Contains(out, "Access granted") {
		t.Fatalf("at B: exit %d %q %q\n%s", rc, out, errs, b.output())
	}
	if j, rc := presentJSONAt(t, state, pin, b.air, "gate"); rc != 0 || j.Protocol != "v2 expedited" || j.RoundTrips != 1 {
		t.Errorf("at B again: exit %d %+v, want granted, expedited, in one round trip", rc, j)
	}
	if out, errs, rc := presentAt(t, state, pin, a.air, "front"); rc != 0 || !strings.Contains(out, "Access granted") {
		t.Fatalf("at A: exit %d %q %q", rc, out, errs)
	}
	out, _, _ := postern(t, "", "key", "--state", state, "status")
	if !strings.Contains(out, "Also added at") || !strings.Contains(out, imported.ID) {
		t.Errorf("status does not list the second site with its own credential:\n%s", out)
	}

	// A lists what it sent, and withdraws a second token before B adds it.
	second := share()
	var shares struct {
		Shares []struct {
			TokenID    string `json:"token_id"`
			AdminEmail string `json:"admin_email"`
			Status     string `json:"status"`
		}
	}
	api(t, a.url, tokA, "GET", "/api/v1/shares", nil, &shares)
	if len(shares.Shares) != 2 || shares.Shares[0].Status != "sent" || shares.Shares[1].Status != "imported" {
		t.Fatalf("A's shares: %+v, want the new one sent and the first imported", shares.Shares)
	}
	if code := api(t, a.url, tokA, "POST", "/api/v1/shares/"+shares.Shares[0].TokenID+"/withdraw", nil, nil); code != 200 {
		t.Fatalf("withdraw: %d", code)
	}
	var refused struct{ Message string }
	if code := api(t, b.url, tokB, "POST", fmt.Sprintf("/api/v1/users/%d/credentials/import", annB.ID), map[string]string{"token": second}, &refused); code != 409 || !strings.Contains(refused.Message, "withdrawn") {
		t.Errorf("importing a withdrawn token: got %d %q, want 409 saying it was withdrawn", code, refused.Message)
	}

	// The key offers the ticket of the site it used last: A's, which B
	// does not know, so this presentation at B is in full and leaves B's
	// ticket with the key.
	if j, rc := presentJSONAt(t, state, pin, b.air, "gate"); rc != 0 || j.Protocol != "v2" {
		t.Errorf("at B after A: exit %d %+v, want granted in full", rc, j)
	}
	// Revoking at B is B's business alone: B refuses on both paths, A
	// still opens.
	api(t, b.url, tokB, "POST", "/api/v1/credentials/"+imported.ID+"/revoke", nil, nil)
	for _, path := range []string{"v2 expedited", "v2"} {
		if j, rc := presentJSONAt(t, state, pin, b.air, "gate"); rc != 1 || j.Result != "denied" || j.Protocol != path {
			t.Errorf("at B after revoking there: exit %d %+v, want denied on the %s path", rc, j, path)
		}
	}
	if out, _, rc := presentAt(t, state, pin, a.air, "front"); rc != 0 {
		t.Errorf("at A after revoking at B: exit %d %q, want still granted", rc, out)
	}
}
