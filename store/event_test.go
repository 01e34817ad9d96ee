package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"postern/access"
)

func TestEvents(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	// The log, oldest first; rows below name events by their index here.
	log := []access.Event{
		0:  {Kind: "access.granted", UserID: 1, AccessPointID: 10},
		1:  {Kind: "access.denied", UserID: 2, AccessPointID: 10, Reason: "no permission"},
		2:  {Kind: "user.created", UserID: 1, Actor: actor},
		3:  {Kind: "access_point.created", AccessPointID: 20, Actor: actor},
		4:  {Kind: "access.granted", UserID: 1, AccessPointID: 20},
		5:  {Kind: "accessory.paired"},
		6:  {Kind: "access", UserID: 1},
		7:  {Kind: "access.denied", UserID: 1, AccessPointID: 10, Reason: "outside schedule"},
		8:  {Kind: "mail.sent", UserID: 2},
		9:  {Kind: "access.granted", UserID: 2, AccessPointID: 20},
		10: {Kind: "access.granted", UserID: 1, AccessPointID: 10},
		11: {Kind: "access.granted.late", UserID: 3, AccessPointID: 10},
	}
	for i := range log {
		if err := s.AppendEvent(ctx, &log[i]); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}

	tests := []struct {
		name   string
		filter access.EventFilter
		want   []int // indexes into log, newest first
	}{
		{"all, newest first", access.EventFilter{}, []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"before a cursor", access.EventFilter{Before: log[5].ID}, []int{4, 3, 2, 1, 0}},
		{"by user", access.EventFilter{UserID: 1}, []int{10, 7, 6, 4, 2, 0}},
		{"by access point", access.EventFilter{AccessPointID: 10}, []int{11, 10, 7, 1, 0}},
		{"by user and access point", access.EventFilter{UserID: 1, AccessPointID: 10}, []int{10, 7, 0}},
		{"by exact kind", access.EventFilter{Kind: "access.granted"}, []int{10, 9, 4, 0}},
		{"by kind prefix", access.EventFilter{Kind: "access."}, []int{11, 10, 9, 7, 4, 1, 0}},
		{"by longer kind prefix", access.EventFilter{Kind: "access.granted."}, []int{11}},
		{"by kind prefix and user", access.EventFilter{Kind: "access.", UserID: 2}, []int{9, 1}},
		{"by kind prefix before a cursor", access.EventFilter{Kind: "access.", Before: log[9].ID}, []int{7, 4, 1, 0}},
		{"by user before a cursor", access.EventFilter{UserID: 1, Before: log[7].ID}, []int{6, 4, 2, 0}},
		{"by kind without matches", access.EventFilter{Kind: "door.forced"}, []int{}},
		{"by unknown user", access.EventFilter{UserID: 99}, []int{}},
		{"by several kinds", access.EventFilter{Kinds: []string{"access.", "mail.sent", "access_point."}}, []int{11, 10, 9, 8, 7, 4, 3, 1, 0}},
		{"by several kinds and user", access.EventFilter{Kinds: []string{"access.", "user."}, UserID: 1}, []int{10, 7, 4, 2, 0}},
		{"by several kinds before a cursor", access.EventFilter{Kinds: []string{"access.", "mail."}, Before: log[9].ID}, []int{8, 7, 4, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []int64
			for _, i := range tt.want {
				want = append(want, log[i].ID)
			}
			// One page, then pages of two following the cursor.
			for _, limit := range []int{100, 2} {
				f := tt.filter
				f.Limit = limit
				var got []int64
				for pages := 0; ; pages++ {
					if pages > 20 {
						t.Fatal("got more than 20 pages")
					}
					evs, next, err := s.Events(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if len(evs) > limit {
						t.Fatalf("got %d events, want at most %d", len(evs), limit)
					}
					for _, e := range evs {
						got = append(got, e.ID)
					}
					if next == 0 {
						break
					}
					f.Before = next
				}
				if !slices.Equal(got, want) {
					t.Errorf("limit %d: got %v, want %v", limit, got, want)
				}
			}
		})
	}
}

func TestEventRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	at := time.Date(2026, 3, 11, 9, 59, 58, 123_000_000, time.UTC)
	in := access.Event{At: at, Kind: "access.denied", Reason: "outside schedule", Actor: "key", UserID: 4, AccessPointID: 7,
		CredentialID: "00112233445566778899aabbccddeeff", RSSI: -71, Latency: 1234 * time.Microsecond, Detail: "Front door"}
	e := in
	if err := s.AppendEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	stamped := access.Event{Kind: "mail.sent"}
	if err := s.AppendEvent(ctx, &stamped); err != nil {
		t.Fatal(err)
	}

	evs, _, err := s.Events(ctx, access.EventFilter{})
	if err != nil || len(evs) != 2 {
		t.Fatalf("got %v, %v, want 2 events", evs, err)
	}
	got := evs[1]
	want := in
	want.ID = e.ID
	if !got.At.Equal(want.At) {
		t.Errorf("at: got %v, want %v", got.At, want.At)
	}
	got.At, want.At = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !evs[0].At.Equal(testNow) {
		t.Errorf("at of an unstamped event: got %v, want the store's clock %v", evs[0].At, testNow)
	}
}

func TestEventNames(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann := createUser(t, s, "Ann", "Smith", "")
	front := createAccessPoint(t, s, "Front", "sim:front")
	e := access.Event{Kind: "access.granted", UserID: ann.ID, AccessPointID: front.ID}
	if err := s.AppendEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	eventNames := func(t *testing.T) (string, string) {
		t.Helper()
		evs, _, err := s.Events(ctx, access.EventFilter{Kind: "access.granted"})
		if err != nil || len(evs) != 1 {
			t.Fatalf("got %+v, %v, want the one granted event", evs, err)
		}
		return evs[0].UserName, evs[0].AccessPointName
	}
	tests := []struct {
		name     string
		change   func() error
		wantUser string
		wantAP   string
	}{
		{"as they are", func() error { return nil }, "Ann Smith", "Front"},
		{"after renames", func() error {
			ann.LastName = "Jones"
			front.Name = "Front door"
			return errors.Join(s.UpdateUser(ctx, actor, &ann), s.UpdateAccessPoint(ctx, actor, &front))
		}, "Ann Jones", "Front door"},
		{"once deleted", func() error {
			return errors.Join(s.DeleteUser(ctx, actor, ann.ID), s.DeleteAccessPoint(ctx, actor, front.ID))
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.change(); err != nil {
				t.Fatal(err)
			}
			if u, a := eventNames(t); u != tt.wantUser || a != tt.wantAP {
				t.Errorf("got %q at %q, want %q at %q", u, a, tt.wantUser, tt.wantAP)
			}
		})
	}
}

// TestLastDecisions: each door's newest access event, followed as events
// are written by any path after the first read, and never an admin change.
func TestLastDecisions(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	front := createAccessPoint(t, s, "Front", "sim:front")
	back := createAccessPoint(t, s, "Back", "sim:back")
	side := createAccessPoint(t, s, "Side", "sim:side")
	ids := []int64{front.ID, back.ID, side.ID}
	appendAt := func(ap int64, kind string) int64 { return appendAtDoor(t, s, ap, kind) }
	check := func(when string, want map[int64]int64) {
		t.Helper()
		got, err := s.LastDecisions(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		gotIDs := map[int64]int64{}
		for ap, e := range got {
			gotIDs[ap] = e.ID
		}
		if fmt.Sprint(gotIDs) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", when, gotIDs, want)
		}
	}
	f1 := appendAt(front.ID, "access.granted")
	appendAt(back.ID, "access_point.updated") // an admin change, not a decision
	s1 := appendAt(side.ID, "access.rejected")
	appendAt(side.ID, "door.opened")
	check("first read", map[int64]int64{front.ID: f1, side.ID: s1})

	b1 := appendAt(back.ID, "access.rejected")
	e := access.Event{Kind: "access.denied", AccessPointID: front.ID}
	if err := s.RecordDecision(ctx, &e, nil, testNow); err != nil {
		t.Fatal(err)
	}
	appendAt(front.ID, "access_point.updated")
	check("after more events", map[int64]int64{front.ID: e.ID, back.ID: b1, side.ID: s1})

	got, err := s.LastDecisions(ctx, []int64{back.ID})
	if err != nil || len(got) != 1 || got[back.ID].Kind != "access.rejected" || got[back.ID].AccessPointName != "Back" {
		t.Errorf("one door asked for: got %+v, %v; want back's rejection, with the door's name", got, err)
	}
}
