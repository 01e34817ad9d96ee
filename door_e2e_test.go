package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests in this file run doors through the binary on the simulated
// air: unlock now, unlock schedules on a shifted clock, first person in,
// lockdown and evacuation, and the simulated contact and exit button. The
// door output is a command that writes what it is told to a file, so the
// relay's story can be read back in order.

var everyDay = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// doorEvent is an event as the API shows it, with what door tests read.
type doorEvent struct {
	ID            int64  `json:"id"`
	Kind          string `json:"kind"`
	Reason        string `json:"reason"`
	Actor         string `json:"actor"`
	AccessPointID int64  `json:"access_point_id"`
	Detail        string `json:"detail"`
}

// doorSite is an appliance whose door output records to a file.
type doorSite struct {
	*e2eSite
	record string
	seen   int64 // events up to this id have been waited for
}

const recordingDoor = `exec:echo "${POSTERN_DOOR:-pulse} $POSTERN_ACCESS_POINT" >> `

func startDoorSite(t *testing.T, env ...string) *doorSite {
	t.Helper()
	return startDoorSiteFlags(t, env, nil)
}

// startDoorSiteFlags is startDoorSite with extra flags for serve.
func startDoorSiteFlags(t *testing.T, env, flags []string) *doorSite {
	t.Helper()
	data := t.TempDir()
	record := filepath.Join(t.TempDir(), "door.log")
	a := startApplianceEnv(t, data, append([]string{"TZ=UTC"}, env...), append([]string{"--door", recordingDoor + record}, flags...)...)
	return &doorSite{e2eSite: newE2ESite(t, a), record: record}
}

// restart stops the appliance and starts it again on the same data with
// env, as a reboot would.
func (s *doorSite) restart(env ...string) {
	s.t.Helper()
	s.a.stop()
	s.a = startApplianceEnv(s.t, s.a.data, append([]string{"TZ=UTC"}, env...), "--door", recordingDoor+s.record)
}

// waitEvent waits for the next event of kind (after those already waited
// for) that match accepts, and returns it.
func (s *doorSite) waitEvent(kind string, match func(doorEvent) bool) doorEvent {
	s.t.Helper()
	deadline := time.Now().Add(e2eGuard)
	for {
		var page struct{ Events []doorEvent }
		s.call("GET", "/api/v1/events?limit=500&kind="+kind, nil, &page, 200)
		for i := len(page.Events) - 1; i >= 0; i-- {
			e := page.Events[i]
			if e.ID > s.seen && (match == nil || match(e)) {
				s.seen = e.ID
				return e
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %s event came:\n%s", kind, s.a.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reason matches an event by its reason.
func reason(r string) func(doorEvent) bool { return func(e doorEvent) bool { return e.Reason == r } }

// waitRecord waits until the door command has been told want, after the
// lines it had already been told.
func (s *doorSite) waitRecord(after int, want string) int {
	s.t.Helper()
	deadline := time.Now().Add(e2eGuard)
	for {
		b, _ := os.ReadFile(s.record)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for i := after; i < len(lines); i++ {
			if lines[i] == want {
				return i + 1
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the door command was never told %q after line %d; it was told:\n%s\n%s", want, after, b, s.a.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// door reports a simulated door input with `postern door`.
func (s *doorSite) door(reader, input string) {
	s.t.Helper()
	deadline := time.Now().Add(e2eGuard)
	for {
		out, errs, code := postern(s.t, "", "door", "--air", s.a.air, "--reader", reader, input)
		if code == 0 {
			return
		}
		// A door just created is known within a poll.
		if !strings.Contains(errs, "no such door") || time.Now().After(deadline) {
			s.t.Fatalf("postern door %s %s: exit %d %q %q", reader, input, code, out, errs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type doorJSON struct {
	AccessPointID int64  `json:"access_point_id"`
	State         string `json:"state"`
	Unlocked      bool   `json:"unlocked"`
	WaitingFirst  bool   `json:"waiting_for_first_person"`
	Contact       string `json:"contact"`
}

func (s *doorSite) doorState(id int64) doorJSON {
	s.t.Helper()
	var out struct{ Doors []doorJSON }
	s.call("GET", "/api/v1/doors", nil, &out, 200)
	for _, d := range out.Doors {
		if d.AccessPointID == id {
			return d
		}
	}
	s.t.Fatalf("no door %d in %+v", id, out.Doors)
	return doorJSON{}
}

func TestDoorUnlockNowEndToEnd(t *testing.T) {
	s := startDoorSite(t)
	front := s.accessPoint("Front door", "sim:front")
	line := s.waitRecord(0, "release Front door") // set from its state as it appears
	var ap struct {
		UnlockedUntil *time.Time `json:"unlocked_until"`
	}
	s.call("POST", fmt.Sprintf("/api/v1/access-points/%d/unlock", front), map[string]any{"seconds": 2}, &ap, 200)
	if ap.UnlockedUntil == nil {
		t.Fatal("the answer has no unlocked_until")
	}
	if e := s.waitEvent("access_point.unlocked", nil); e.Actor != "api:admin@office.example" {
		t.Errorf("unlocked by %q, want the admin", e.Actor)
	}
	s.waitEvent("door.unlocked", reason("unlocked by hand"))
	line = s.waitRecord(line, "hold Front door")
	if d := s.doorState(front); !d.Unlocked || d.State != "unlocked by hand" {
		t.Errorf("while unlocked: got %+v", d)
	}
	// Two seconds later it locks again by itself.
	s.waitEvent("door.locked", reason("locked"))
	s.waitRecord(line, "release Front door")
	if d := s.doorState(front); d.Unlocked {
		t.Errorf("after the unlock: got %+v", d)
	}
	// Out of range is refused.
	s.call("POST", fmt.Sprintf("/api/v1/access-points/%d/unlock", front), map[string]any{"seconds": 0}, nil, 422)
	s.call("POST", "/api/v1/access-points/999/unlock", nil, nil, 404)
}

// TestDoorScheduleEndToEnd: an unlock schedule unlocks the door at its
// opening and locks it at its close, on a clock shifted to a few seconds
// before each edge (a restart shifts it); at start the door is set from
// its state, locked before the opening and held open within the schedule.
func TestDoorScheduleEndToEnd(t *testing.T) {
	now := time.Now().UTC()
	opening := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, time.UTC)
	offset := func(at time.Time) string { return testClockOffset + "=" + time.Until(at).String() }
	s := startDoorSite(t, offset(opening.Add(-time.Hour)))
	var tp struct{ ID int64 }
	s.call("POST", "/api/v1/time-profiles", map[string]any{"name": "Mornings", "windows": []map[string]any{{"days": everyDay, "start": "08:00", "end": "08:01"}}}, &tp, 201)
	var ap struct{ ID int64 }
	s.call("POST", "/api/v1/access-points", map[string]any{"name": "Lobby", "reader": "sim:lobby", "unlock_schedule_id": tp.ID}, &ap, 201)
	line := s.waitRecord(0, "release Lobby")

	// Five seconds before the opening: locked at start, then held open.
	s.restart(offset(opening.Add(-5 * time.Second)))
	line = s.waitRecord(line, "release Lobby")
	s.waitEvent("door.unlocked", reason("unlocked by schedule"))
	line = s.waitRecord(line, "hold Lobby")

	// Five seconds before the close: held open at start, then let go.
	s.restart(offset(opening.Add(55 * time.Second)))
	line = s.waitRecord(line, "hold Lobby")
	s.waitEvent("door.unlocked", reason("unlocked by schedule"))
	s.waitEvent("door.locked", reason("locked"))
	s.waitRecord(line, "release Lobby")
}

// TestDoorFirstPersonInEndToEnd: within its schedule, a first-person-in
// door stays locked until someone with a permission is let in.
func TestDoorFirstPersonInEndToEnd(t *testing.T) {
	now := time.Now().UTC()
	at := time.Date(now.Year(), now.Month(), now.Day(), 9, 0, 0, 0, time.UTC)
	s := startDoorSite(t, testClockOffset+"="+time.Until(at).String())
	var tp struct{ ID int64 }
	s.call("POST", "/api/v1/time-profiles", map[string]any{"name": "Office hours", "windows": []map[string]any{{"days": everyDay, "start": "08:00", "end": "18:00"}}}, &tp, 201)
	var ap struct{ ID int64 }
	s.call("POST", "/api/v1/access-points", map[string]any{"name": "Front", "reader": "sim:front", "unlock_schedule_id": tp.ID, "first_person_in": true}, &ap, 201)
	line := s.waitRecord(0, "release Front")
	if d := s.doorState(ap.ID); d.Unlocked || !d.WaitingFirst {
		t.Fatalf("before anyone came: got %+v, want locked and waiting for the first person", d)
	}
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": ap.ID})
	ann := s.register(annID, "ann")
	if out, errs, code := s.present(ann, "front", "--rssi", "-50"); code != 0 {
		t.Fatalf("Ann: exit %d %q %q", code, out, errs)
	}
	s.waitEvent("door.unlocked", reason("unlocked by schedule"))
	s.waitRecord(line, "hold Front")
	if d := s.doorState(ap.ID); !d.Unlocked {
		t.Errorf("after Ann: got %+v, want unlocked by schedule", d)
	}
}

// TestLockdownAndEvacuationEndToEnd: a lockdown refuses everyone but the
// users allowed during lockdown, an evacuation unlocks the exits, and both
// are logged with who started and ended them.
func TestLockdownAndEvacuationEndToEnd(t *testing.T) {
	s := startDoorSite(t)
	front := s.accessPoint("Front", "sim:front")
	var exit struct{ ID int64 }
	s.call("POST", "/api/v1/access-points", map[string]any{"name": "Fire exit", "reader": "sim:fire", "exit": true}, &exit, 201)
	line := s.waitRecord(0, "release Fire exit")
	annID, gusID := s.user("Ann", "Lee"), s.user("Gus", "Guard")
	s.call("PATCH", fmt.Sprintf("/api/v1/users/%d", gusID), map[string]any{"lockdown_exempt": true}, nil, 200)
	for _, u := range []int64{annID, gusID} {
		s.permit(map[string]any{"user_id": u, "access_point_id": front})
	}
	ann, gus := s.register(annID, "ann"), s.register(gusID, "gus")

	var mode struct {
		Mode      string `json:"mode"`
		StartedBy string `json:"started_by"`
	}
	s.call("POST", "/api/v1/site/mode", map[string]any{"mode": "lockdown"}, &mode, 200)
	if mode.Mode != "lockdown" || mode.StartedBy != "api:admin@office.example" {
		t.Errorf("got %+v", mode)
	}
	if out, _, code := s.present(ann, "front", "--rssi", "-50"); code != 1 || !strings.Contains(out, "locked down") {
		t.Errorf("Ann in a lockdown: exit %d %q, want denied as locked down", code, out)
	}
	if out, errs, code := s.present(gus, "front", "--rssi", "-50"); code != 0 {
		t.Errorf("the guard in a lockdown: exit %d %q %q, want granted", code, out, errs)
	}
	s.call("POST", "/api/v1/site/mode", map[string]any{"mode": "normal"}, nil, 200)
	if out, errs, code := s.present(ann, "front", "--rssi", "-50"); code != 0 {
		t.Errorf("Ann after the lockdown: exit %d %q %q", code, out, errs)
	}

	s.call("POST", "/api/v1/site/mode", map[string]any{"mode": "evacuation"}, nil, 200)
	s.waitEvent("door.unlocked", func(e doorEvent) bool { return e.Reason == "evacuation" && e.AccessPointID == exit.ID })
	line = s.waitRecord(line, "hold Fire exit")
	if d := s.doorState(front); d.Unlocked {
		t.Errorf("the front door is not an exit but is %+v", d)
	}
	s.call("POST", "/api/v1/site/mode", map[string]any{"mode": "normal"}, nil, 200)
	s.waitRecord(line, "release Fire exit")

	for _, k := range []string{"site.lockdown_started", "site.lockdown_ended", "site.evacuation_started", "site.evacuation_ended"} {
		var page struct{ Events []doorEvent }
		s.call("GET", "/api/v1/events?kind="+k, nil, &page, 200)
		if len(page.Events) != 1 || page.Events[0].Actor != "api:admin@office.example" {
			t.Errorf("%s: got %+v, want one, by the admin", k, page.Events)
		}
	}
}

// TestDoorInputsEndToEnd: the simulated contact and exit button through
// `postern door` and the API: an opening after a grant, a forced opening,
// a request to exit, and the dashboard's door state.
func TestDoorInputsEndToEnd(t *testing.T) {
	s := startDoorSite(t)
	var ap struct{ ID int64 }
	s.call("POST", "/api/v1/access-points", map[string]any{"name": "Back", "reader": "sim:back", "held_open_seconds": 1}, &ap, 201)
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": ap.ID})
	ann := s.register(annID, "ann")

	s.door("back", "open")
	s.waitEvent("door.forced", nil)
	if d := s.doorState(ap.ID); d.Contact != "forced" {
		t.Errorf("got %+v, want forced", d)
	}
	s.door("back", "close")
	s.waitEvent("door.closed", nil)

	if out, errs, code := s.present(ann, "back", "--rssi", "-50"); code != 0 {
		t.Fatalf("Ann: exit %d %q %q", code, out, errs)
	}
	s.door("back", "open")
	s.waitEvent("door.opened", nil)
	s.waitEvent("door.held_open", nil)
	s.call("POST", fmt.Sprintf("/api/v1/access-points/%d/door", ap.ID), map[string]any{"input": "close"}, nil, 200)
	s.waitEvent("door.closed", nil)

	s.call("POST", fmt.Sprintf("/api/v1/access-points/%d/door", ap.ID), map[string]any{"input": "exit"}, nil, 200)
	s.waitEvent("door.exit", nil)
	s.door("back", "open")
	s.waitEvent("door.opened", nil)
	s.call("POST", fmt.Sprintf("/api/v1/access-points/%d/door", ap.ID), map[string]any{"input": "kick"}, nil, 422)
	if _, errs, code := postern(t, "", "door", "--air", s.a.air, "--reader", "nowhere", "open"); code != 1 || !strings.Contains(errs, "no access point") {
		t.Errorf("an unknown reader: exit %d %q", code, errs)
	}
}
