package store_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"postern/access"
)

// TestEmergency: a lockdown and an evacuation start and end with one call
// each, at most one at a time, each logged with who started and ended it.
func TestEmergency(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	if m, err := s.SiteMode(ctx); err != nil || m != access.SiteNormal {
		t.Fatalf("a new site: got %q, %v, want normal", m, err)
	}
	if _, err := s.EndEmergency(ctx, actor); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("ending nothing: got %v, want not found", err)
	}
	if _, err := s.StartEmergency(ctx, actor, "fire drill"); err == nil {
		t.Error("an unknown mode was accepted")
	}
	e, err := s.StartEmergency(ctx, actor, access.SiteLockdown)
	if err != nil || e.Mode != access.SiteLockdown || e.StartedBy != actor || !e.StartedAt.Equal(testNow) {
		t.Fatalf("start lockdown: got %+v, %v", e, err)
	}
	if again, err := s.StartEmergency(ctx, "admin:bob@example.com", access.SiteLockdown); err != nil || again.ID != e.ID || again.StartedBy != actor {
		t.Errorf("a second click: got %+v, %v, want the same lockdown", again, err)
	}
	// A fire during the lockdown: the evacuation takes over at once.
	if _, err := s.StartEmergency(ctx, "admin:bob@example.com", access.SiteEvacuation); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.SiteMode(ctx); m != access.SiteEvacuation {
		t.Errorf("got %q, want evacuation", m)
	}
	ended, err := s.EndEmergency(ctx, actor)
	if err != nil || ended.Mode != access.SiteEvacuation || ended.EndedBy != actor {
		t.Fatalf("end: got %+v, %v", ended, err)
	}
	if m, _ := s.SiteMode(ctx); m != access.SiteNormal {
		t.Errorf("after the end: got %q, want normal", m)
	}
	evs, _, err := s.Events(ctx, access.EventFilter{Kind: "site."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Kind+" by "+e.Actor)
	}
	want := []string{
		"site.evacuation_ended by " + actor,
		"site.evacuation_started by admin:bob@example.com",
		"site.lockdown_ended by admin:bob@example.com",
		"site.lockdown_started by " + actor,
	}
	if len(got) != len(want) {
		t.Fatalf("got events %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

// TestUnlockAccessPointAndDoorInputs: "unlock now" lasts until its end,
// survives an edit of the access point, and the door inputs carry it with
// the schedule, the site's state and the newest grant.
func TestUnlockAccessPointAndDoorInputs(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	front := createAccessPoint(t, s, "Front", "sim:front")
	hours := createTimeProfile(t, s, "Office hours")
	back := access.AccessPoint{Name: "Back", Reader: "sim:back", UnlockProfileID: hours.ID, FirstPersonIn: true}
	if err := s.CreateAccessPoint(ctx, actor, &back); err != nil {
		t.Fatal(err)
	}
	until := testNow.Add(10 * time.Minute)
	a, err := s.UnlockAccessPoint(ctx, actor, front.ID, until)
	if err != nil || !a.UnlockedUntil.Equal(until) {
		t.Fatalf("unlock: got %+v, %v", a, err)
	}
	if _, err := s.UnlockAccessPoint(ctx, actor, 999, until); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("unlock a missing door: got %v, want not found", err)
	}
	// Saving the form does not undo it.
	a.Name = "Front door"
	if err := s.UpdateAccessPoint(ctx, actor, &a); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvent(ctx, &access.Event{At: testNow.Add(-time.Hour), Kind: "access.granted", AccessPointID: back.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvent(ctx, &access.Event{At: testNow.Add(-time.Minute), Kind: "access.denied", AccessPointID: back.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartEmergency(ctx, actor, access.SiteEvacuation); err != nil {
		t.Fatal(err)
	}
	ins, err := s.DoorInputs(ctx)
	if err != nil || len(ins) != 2 {
		t.Fatalf("door inputs: got %d, %v", len(ins), err)
	}
	byName := map[string]access.DoorInputs{}
	for _, in := range ins {
		byName[in.AccessPoint.Name] = in
	}
	if in := byName["Front door"]; !in.AccessPoint.UnlockedUntil.Equal(until) || in.Schedule != nil || in.Site != access.SiteEvacuation {
		t.Errorf("front: got %+v", in)
	}
	in := byName["Back"]
	if in.Schedule == nil || in.Schedule.Name != "Office hours" || !in.LastGrant.Equal(testNow.Add(-time.Hour)) {
		t.Errorf("back: got schedule %v, last grant %v", in.Schedule, in.LastGrant)
	}
	// Lock it again by hand.
	if a, err = s.UnlockAccessPoint(ctx, actor, front.ID, time.Time{}); err != nil || !a.UnlockedUntil.IsZero() {
		t.Errorf("relock: got %+v, %v", a, err)
	}
	// The schedule in use cannot be deleted.
	if err := s.DeleteTimeProfile(ctx, actor, hours.ID); err == nil {
		t.Error("deleted the unlock schedule of Back")
	}
	evs, _, _ := s.Events(ctx, access.EventFilter{AccessPointID: front.ID, Kind: "access_point."})
	if len(evs) < 2 || evs[0].Kind != "access_point.relocked" || evs[1].Kind != "access_point.updated" || evs[2].Kind != "access_point.unlocked" {
		t.Errorf("got events %+v", evs)
	}
}

// TestDoorContacts: each door asked for gets its newest contact event,
// whatever decisions came after it, and a door not asked for is not read.
func TestDoorContacts(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	front := createAccessPoint(t, s, "Front", "sim:front")
	back := createAccessPoint(t, s, "Back", "sim:back")
	side := createAccessPoint(t, s, "Side", "sim:side")
	appendAt := func(ap int64, kind string) int64 { return appendAtDoor(t, s, ap, kind) }
	appendAt(front.ID, "door.opened")
	frontClosed := appendAt(front.ID, "door.closed")
	appendAt(front.ID, "access.granted")
	appendAt(back.ID, "door.opened")
	backHeld := appendAt(back.ID, "door.held_open")
	appendAt(side.ID, "door.forced")
	appendAt(back.ID, "access.denied")
	got, err := s.DoorContacts(ctx, []int64{front.ID, back.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[front.ID].ID != frontClosed || got[back.ID].ID != backHeld || got[back.ID].AccessPointName != "Back" {
		t.Errorf("got %+v, want front's close and back's held open, and not side's", got)
	}
	if got, err := s.DoorContacts(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no doors asked for: got %+v, %v", got, err)
	}
}

// TestLockdownExemptUser round-trips the flag.
func TestLockdownExemptUser(t *testing.T) {
	s := openStore(t)
	u := access.User{FirstName: "Gus", Enabled: true, LockdownExempt: true}
	if err := s.CreateUser(t.Context(), actor, &u); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil || !got.LockdownExempt {
		t.Fatalf("got %+v, %v", got, err)
	}
	got.LockdownExempt = false
	if err := s.UpdateUser(t.Context(), actor, &got); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.UserByID(t.Context(), u.ID); got.LockdownExempt {
		t.Error("the flag stayed set")
	}
}

// BenchmarkDoorInputs: what the door loop reads each second, for a site of
// 50 doors, half on a first-person-in schedule.
func BenchmarkDoorInputs(b *testing.B) {
	s := openStore(b)
	ctx := b.Context()
	hours := createTimeProfile(b, s, "Office hours")
	for i := range 50 {
		a := access.AccessPoint{Name: "Door " + strconv.Itoa(i), Reader: "sim:door-" + strconv.Itoa(i)}
		if i%2 == 0 {
			a.UnlockProfileID, a.FirstPersonIn = hours.ID, true
		}
		if err := s.CreateAccessPoint(ctx, actor, &a); err != nil {
			b.Fatal(err)
		}
		for range 20 {
			if err := s.AppendEvent(ctx, &access.Event{Kind: "access.granted", AccessPointID: a.ID}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for b.Loop() {
		if ins, err := s.DoorInputs(ctx); err != nil || len(ins) != 50 {
			b.Fatal(len(ins), err)
		}
	}
}
