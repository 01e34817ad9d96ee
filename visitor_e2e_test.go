package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestVisitorEndToEnd: reception's token registers a visitor whose visit
// ends half a minute from now, at the doors of a "Visitors" group; the
// visitor registers the emailed key, is let in at a profile door, refused
// at another, the host is emailed, and once the window ends the same key is
// refused with no one touching anything.
func TestVisitorEndToEnd(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	s := newE2ESite(t, a)

	lobby := s.accessPoint("Lobby", "sim:lobby")
	s.accessPoint("Server room", "sim:servers")
	var group struct{ ID int64 }
	s.call("POST", "/api/v1/groups", map[string]string{"name": "Visitors"}, &group, 201)
	s.permit(map[string]any{"group_id": group.ID, "access_point_id": lobby})
	host := s.user("Hana", "Host")

	// The front desk's token, made on the appliance with the reception role.
	out, errs, code := postern(t, "", "admin", "token", "--data", data, "--email", "admin@office.example", "--name", "desk", "--role", "reception")
	if code != 0 {
		t.Fatalf("admin token --role reception: %d %s", code, errs)
	}
	owner := s.token
	s.token = out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
	s.token = strings.TrimSpace(s.token)
	var none struct{}
	if got := api(t, a.url, s.token, "POST", "/api/v1/users", map[string]string{"first_name": "Not", "email": "no@office.example"}, &none); got != 403 {
		t.Errorf("reception token creates a user: got %d, want 403", got)
	}

	// Long enough for registering and two presentations on a busy
	// machine (each runs the binary), short enough to wait out.
	until := time.Now().Add(30 * time.Second)
	var v struct {
		UserID int64 `json:"user_id"`
		Code   string
	}
	s.call("POST", "/api/v1/visitors?show_code=1", map[string]any{"first_name": "Vic", "last_name": "Guest", "email": "vic@guest.example",
		"host_id": host, "group_id": group.ID, "from": time.Now().Add(-time.Minute), "until": until}, &v, 201)
	if len(v.Code) != 32 {
		t.Fatalf("visitor: got code %q, want the 32-digit registration code", v.Code)
	}
	k := e2eKey{state: s.dir + "/vic.json", userID: v.UserID}
	if out, errs, code = postern(t, "", "key", "--state", k.state, "register", v.Code, "--site", a.url, "--pin-file", s.pin); code != 0 {
		t.Fatalf("register: exit %d\n%s%s", code, out, errs)
	}

	if out, errs, code := s.present(k, "lobby", "--rssi", "-50"); code != 0 || !strings.HasPrefix(out, "Access granted") {
		t.Fatalf("visitor at the lobby in the window: exit %d %q %q\n%s", code, out, errs, a.output())
	}
	if out, _, code := s.present(k, "servers", "--rssi", "-50"); code != 1 || !strings.Contains(out, "no permission") {
		t.Errorf("visitor at a door outside the profile: exit %d %q, want denied", code, out)
	}

	// The host hears of the arrival through the outbox (an admin's page).
	s.token = owner
	deadline := time.Now().Add(e2eGuard)
	for {
		var box struct {
			Outbox []struct {
				Kind, To, Subject string
			}
		}
		s.call("GET", "/api/v1/outbox", nil, &box, 200)
		told := false
		for _, m := range box.Outbox {
			told = told || (m.Kind == "visitor" && strings.Contains(m.To, "hana@office.example") && strings.Contains(m.Subject, "Vic Guest"))
		}
		if told {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the host was never emailed: %+v", box.Outbox)
		}
		time.Sleep(200 * time.Millisecond)
	}

	time.Sleep(time.Until(until) + 100*time.Millisecond)
	if out, _, code := s.present(k, "lobby", "--rssi", "-50"); code != 1 || !strings.Contains(out, "Access denied") {
		t.Errorf("visitor at the lobby after the window: exit %d %q, want denied", code, out)
	}
	got := s.decisions("user_id=" + strconv.FormatInt(v.UserID, 10))
	if len(got) != 3 || got[2].Kind != "access.denied" || got[2].Reason != "expired" {
		t.Errorf("decisions: got %+v, want granted, denied, then denied as expired", got)
	}
}
