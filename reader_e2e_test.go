package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The test in this file opens doors as a new site would: the admin sets the
// site up through the JSON API, the holders register `postern key` soft keys
// with printed codes, and present them on the simulated air of the running
// appliance.

// e2eGuard bounds the waits below. It is a safety net against a hung test,
// never what the test asserts.
const e2eGuard = 30 * time.Second

// e2eSite is the running appliance with an admin's API token.
type e2eSite struct {
	t     *testing.T
	a     *appliance
	token string
	dir   string // where the keys' state and PIN files live
	pin   string // the PIN file every key here uses
}

// newE2ESite makes an admin on a's data folder, with an API token, and a
// folder for the keys' state and PIN.
func newE2ESite(t *testing.T, a *appliance) *e2eSite {
	t.Helper()
	s := &e2eSite{t: t, a: a, token: adminToken(t, a.data, "admin@office.example"), dir: t.TempDir()}
	s.pin = filepath.Join(s.dir, "pin")
	if err := os.WriteFile(s.pin, []byte("battery staple 2468\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *e2eSite) call(method, path string, body, out any, want int) {
	s.t.Helper()
	if got := api(s.t, s.a.url, s.token, method, path, body, out); got != want {
		s.t.Fatalf("%s %s: got %d, want %d\n%s", method, path, got, want, s.a.output())
	}
}

func (s *e2eSite) accessPoint(name, reader string) int64 {
	s.t.Helper()
	var ap struct{ ID int64 }
	s.call("POST", "/api/v1/access-points", map[string]any{"name": name, "reader": reader}, &ap, 201)
	return ap.ID
}

func (s *e2eSite) user(first, last string) int64 {
	s.t.Helper()
	var u struct{ ID int64 }
	email := strings.ToLower(first) + "@office.example"
	s.call("POST", "/api/v1/users", map[string]string{"first_name": first, "last_name": last, "email": email}, &u, 201)
	return u.ID
}

func (s *e2eSite) permit(p map[string]any) {
	s.t.Helper()
	s.call("POST", "/api/v1/permissions", p, nil, 201)
}

// e2eKey is a registered soft key.
type e2eKey struct {
	state  string
	credID string
	userID int64
}

// register assigns user a Smart credential with its code shown for
// printing, and registers a soft key with that code.
func (s *e2eSite) register(userID int64, name string) e2eKey {
	s.t.Helper()
	var cred struct {
		ID     string
		Status string
		Code   string
	}
	s.call("POST", fmt.Sprintf("/api/v1/users/%d/credentials?show_code=1", userID), map[string]string{"kind": "smart"}, &cred, 201)
	if cred.Status != "invited" || len(cred.Code) != 32 {
		s.t.Fatalf("assigned %+v, want an invited credential with its 32-digit code", cred)
	}
	k := e2eKey{state: filepath.Join(s.dir, name+".json"), credID: cred.ID, userID: userID}
	out, errs, code := postern(s.t, "", "key", "--state", k.state, "register", cred.Code, "--site", s.a.url, "--pin-file", s.pin)
	if code != 0 || !strings.Contains(out, "Registered") {
		s.t.Fatalf("register: exit %d\n%s%s", code, out, errs)
	}
	return k
}

// present presents k at reader. A reader just created is already
// listening: the appliance starts it before the API call returns.
func (s *e2eSite) present(k e2eKey, reader string, extra ...string) (string, string, int) {
	s.t.Helper()
	args := append([]string{"key", "--state", k.state, "present", "--air", s.a.air, "--reader", reader, "--pin-file", s.pin}, extra...)
	return postern(s.t, "", args...)
}

// e2eEvent is an event as GET /api/v1/events shows it.
type e2eEvent struct {
	ID            int64   `json:"id"`
	Kind          string  `json:"kind"`
	Reason        string  `json:"reason"`
	UserID        int64   `json:"user_id"`
	AccessPointID int64   `json:"access_point_id"`
	CredentialID  string  `json:"credential_id"`
	RSSI          int     `json:"rssi"`
	LatencyMS     float64 `json:"latency_ms"`
}

// decisions lists the access events the API returns for query, oldest
// first.
func (s *e2eSite) decisions(query string) []e2eEvent {
	s.t.Helper()
	var page struct {
		Events []e2eEvent
		Next   *string
	}
	s.call("GET", "/api/v1/events?limit=500&"+query, nil, &page, 200)
	if page.Next != nil {
		s.t.Fatalf("events?%s: more than one page", query)
	}
	var out []e2eEvent
	for _, e := range page.Events {
		if strings.HasPrefix(e.Kind, "access.") {
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	return out
}

func TestReaderEndToEnd(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	s := newE2ESite(t, a)

	front := s.accessPoint("Front door", "sim:front")
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": front})
	ann := s.register(annID, "ann")

	// want is every decision the site must have logged, in order.
	type decision struct {
		kind, reason string
		ap           int64
		key          e2eKey
	}
	var want []decision
	check := func(what string, gotOut, gotErr string, gotCode int, wantCode int, wantOut string, d decision) {
		t.Helper()
		if gotCode != wantCode || !strings.HasPrefix(gotOut, wantOut) {
			t.Fatalf("%s: got exit %d, %q %q; want exit %d and %q\n%s", what, gotCode, gotOut, gotErr, wantCode, wantOut, a.output())
		}
		want = append(want, d)
	}

	out, errs, code := s.present(ann, "front", "--rssi", "-50")
	check("Ann at the front door", out, errs, code, 0, "Access granted\n", decision{"access.granted", "granted", front, ann})

	// Too far from a direct reader: never taken up, nothing decided.
	out, errs, code = s.present(ann, "front", "--rssi", "-90", "--timeout", "2s")
	if code != 1 || out != "" || !strings.Contains(errs, "No reader answered") {
		t.Errorf("weak signal: got exit %d, %q %q; want exit 1 and no reader answering", code, out, errs)
	}

	bobID := s.user("Bob", "Ray")
	bob := s.register(bobID, "bob")
	out, errs, code = s.present(bob, "front", "--rssi", "-50")
	check("Bob without a permission", out, errs, code, 1, "Access denied: no permission", decision{"access.denied", "no permission", front, bob})

	// A permission within a schedule that is closed today, wherever the
	// site is: its one day is three days from today in UTC.
	days := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	closed := days[(int(time.Now().UTC().Weekday())+3)%7]
	var profile struct{ ID int64 }
	s.call("POST", "/api/v1/time-profiles", map[string]any{"name": "Not today", "windows": []map[string]any{{"days": []string{closed}, "start": "00:00", "end": "24:00"}}}, &profile, 201)
	s.permit(map[string]any{"user_id": bobID, "access_point_id": front, "time_profile_id": profile.ID})
	out, errs, code = s.present(bob, "front", "--rssi", "-50")
	check("Bob outside his schedule", out, errs, code, 1, "Access denied: outside schedule", decision{"access.denied", "outside schedule", front, bob})

	// Ann has no permission at a second door.
	back := s.accessPoint("Back door", "sim:back")
	out, errs, code = s.present(ann, "back", "--rssi", "-50")
	check("Ann at the back door", out, errs, code, 1, "Access denied: no permission", decision{"access.denied", "no permission", back, ann})

	s.call("PATCH", fmt.Sprintf("/api/v1/access-points/%d", front), map[string]any{"require_unlock": true}, nil, 200)
	out, errs, code = s.present(ann, "front", "--rssi", "-50")
	check("Ann's locked phone at an unlock-required door", out, errs, code, 1, "Access denied: unlock required", decision{"access.denied", "unlock required", front, ann})
	if !strings.Contains(errs, "--unlocked") {
		t.Errorf("unlock required: stderr %q does not say how to present unlocked", errs)
	}
	out, errs, code = s.present(ann, "front", "--rssi", "-50", "--unlocked", "--pin-file", s.pin)
	check("Ann's unlocked phone", out, errs, code, 0, "Access granted\n", decision{"access.granted", "granted", front, ann})

	s.call("POST", "/api/v1/credentials/"+ann.credID+"/revoke", nil, nil, 200)
	out, errs, code = s.present(ann, "front", "--rssi", "-50", "--unlocked", "--pin-file", s.pin)
	check("Ann's revoked credential", out, errs, code, 1, "Access denied: credential not active", decision{"access.denied", "credential not active", front, ann})

	if out, errs, code := postern(t, "", "key", "--state", bob.state, "present", "--air", a.air, "--reader", "nowhere", "--rssi", "-50", "--pin-file", s.pin); code != 2 || !strings.Contains(errs, "no reader named") {
		t.Errorf("unknown reader: got exit %d, %q %q; want exit 2 and no reader named", code, out, errs)
	}

	// Every decision is in the log, with who, where and how, and nothing
	// else was decided (the weak key and the unknown reader were not).
	got := s.decisions("")
	if len(got) != len(want) {
		t.Fatalf("got %d decisions %+v, want %d", len(got), got, len(want))
	}
	for i, e := range got {
		w := want[i]
		if e.Kind != w.kind || e.Reason != w.reason || e.AccessPointID != w.ap || e.CredentialID != w.key.credID || e.UserID != w.key.userID {
			t.Errorf("decision %d: got %s %q at %d by %s (user %d), want %s %q at %d by %s (user %d)",
				i+1, e.Kind, e.Reason, e.AccessPointID, e.CredentialID, e.UserID, w.kind, w.reason, w.ap, w.key.credID, w.key.userID)
		}
		if e.RSSI != -50 || e.LatencyMS <= 0 {
			t.Errorf("decision %d: RSSI %d, latency %vms; want -50 and a positive latency", i+1, e.RSSI, e.LatencyMS)
		}
	}

	// The filters.
	denied := s.decisions("result=denied")
	wantDenied := 0
	for _, w := range want {
		if w.kind == "access.denied" {
			wantDenied++
		}
	}
	if len(denied) != wantDenied {
		t.Errorf("result=denied: got %d decisions, want %d", len(denied), wantDenied)
	}
	for _, e := range denied {
		if e.Kind != "access.denied" {
			t.Errorf("result=denied returned %s %q", e.Kind, e.Reason)
		}
	}
	atFront := s.decisions(fmt.Sprintf("access_point=%d", front))
	if len(atFront) != len(want)-1 {
		t.Errorf("access_point=%d: got %d decisions, want %d", front, len(atFront), len(want)-1)
	}
	for _, e := range atFront {
		if e.AccessPointID != front {
			t.Errorf("access_point=%d returned a decision at %d", front, e.AccessPointID)
		}
	}
	if atBack := s.decisions(fmt.Sprintf("access_point=%d&result=denied", back)); len(atBack) != 1 || atBack[0].Reason != "no permission" {
		t.Errorf("access_point=%d&result=denied: got %+v, want Ann's one denial", back, atBack)
	}
}

// A relay between the phone and the reader adds delay. The reader's
// deadline turns a relay slower than it into a refusal: the deadline
// narrows relays, it does not stop a fast one (docs/protocol.md).
func TestReaderRefusesARelayedAnswer(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data, "--air-relay-delay", "1s", "--deadline", "300ms")
	s := newE2ESite(t, a)
	front := s.accessPoint("Front door", "sim:front")
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": front})
	ann := s.register(annID, "ann")

	out, errs, code := s.present(ann, "front", "--rssi", "-50", "--timeout", "10s")
	if code != 1 || !strings.Contains(out, "Access denied") {
		t.Fatalf("through a 1s relay with a 300ms deadline: exit %d %q %q, want denied", code, out, errs)
	}
	var page struct {
		Events []e2eEvent `json:"events"`
	}
	s.call("GET", "/api/v1/events?kind=access.rejected", nil, &page, 200)
	if len(page.Events) != 1 || page.Events[0].Reason != "late" {
		t.Errorf("got rejections %+v, want one refused as late", page.Events)
	}
	if got := s.decisions("result=granted"); len(got) != 0 {
		t.Errorf("a relayed answer was granted: %+v", got)
	}
}

// A touch-mode door takes up a key only after a touch: from the key
// (--touch on the air) or from the reader's own touch input, which calls
// POST /api/v1/access-points/{id}/touch.
func TestReaderTouchInput(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	s := newE2ESite(t, a)
	var ap struct{ ID int64 }
	s.call("POST", "/api/v1/access-points", map[string]any{"name": "Lab", "reader": "sim:lab", "mode": "touch"}, &ap, 201)
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": ap.ID})
	ann := s.register(annID, "ann")

	// No touch: the key waits and gives up.
	if out, errs, code := s.present(ann, "lab", "--rssi", "-50", "--timeout", "3s"); code != 1 || !strings.Contains(errs, "No reader answered") {
		t.Fatalf("untouched: exit %d %q %q, want not taken up", code, out, errs)
	}
	// A touch on the reader's input line while the key is near.
	cmd := exec.Command(binary, "key", "--state", ann.state, "present", "--air", a.air, "--reader", "lab", "--rssi", "-50", "--timeout", "15s", "--pin-file", s.pin)
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	touches := 0
	deadline := time.After(e2eGuard)
loop:
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("present after a touch: %v (%q)", err, out.String())
			}
			break loop
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("the key was never taken up after touches")
		case <-time.After(300 * time.Millisecond):
			s.call("POST", fmt.Sprintf("/api/v1/access-points/%d/touch", ap.ID), nil, nil, 200)
			touches++
		}
	}
	if !strings.Contains(out.String(), "Access granted") || touches == 0 {
		t.Errorf("after %d touches the key said %q, want Access granted", touches, out.String())
	}
	// Touching a door that is not in touch mode is refused.
	front := s.accessPoint("Front door", "sim:front")
	var e struct{ Error string }
	s.call("POST", fmt.Sprintf("/api/v1/access-points/%d/touch", front), nil, &e, 409)
	if e.Error != "conflict" {
		t.Errorf("touching a direct door: got %q, want conflict", e.Error)
	}
}

// The door output through the binary: a grant pulses the door command, and
// an access point set to held open in the API holds it until set back.
func TestDoorOutput(t *testing.T) {
	data := t.TempDir()
	record := filepath.Join(t.TempDir(), "door.log")
	a := startAppliance(t, data, "--door", `exec:echo "${POSTERN_DOOR:-pulse} $POSTERN_ACCESS_POINT $POSTERN_UNLOCK_SECONDS" >> `+record)
	s := newE2ESite(t, a)
	var ap struct{ ID int64 }
	s.call("POST", "/api/v1/access-points", map[string]any{"name": "Gate", "reader": "sim:gate", "mode": "direct", "unlock_seconds": 3}, &ap, 201)
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": ap.ID})
	ann := s.register(annID, "ann")
	if out, errs, code := s.present(ann, "gate", "--rssi", "-50"); code != 0 {
		t.Fatalf("present: exit %d %q %q", code, out, errs)
	}
	// Each line must come after the last one waited for: the door is
	// released as it appears, before it is held.
	seen := 0
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(e2eGuard)
		for {
			got, _ := os.ReadFile(record)
			if i := strings.Index(string(got[seen:]), want); i >= 0 {
				seen += i + len(want)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the door command never saw %q; it saw:\n%s\n%s", want, got, a.output())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("pulse Gate 3\n")
	s.call("PATCH", fmt.Sprintf("/api/v1/access-points/%d", ap.ID), map[string]any{"state": "unlocked"}, nil, 200)
	waitFor("hold Gate \n")
	s.call("PATCH", fmt.Sprintf("/api/v1/access-points/%d", ap.ID), map[string]any{"state": "normal"}, nil, 200)
	waitFor("release Gate \n")
}
