package store_test

import (
	"slices"
	"testing"
	"time"

	"postern/access"
)

func TestOnSite(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	door := func(name string, d access.Direction) int64 {
		a := access.AccessPoint{Name: name, Reader: "sim:" + name, Direction: d}
		if err := s.CreateAccessPoint(ctx, actor, &a); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	front, gate, lab := door("front", access.DirectionEntry), door("gate", access.DirectionExit), door("lab", access.DirectionNeither)
	users := map[string]int64{}
	for _, n := range []string{"Ann", "Bob", "Cara", "Dev", "Eli", "Fay", "Gus", "Hal"} {
		u := access.User{FirstName: n, LastName: "Test", Enabled: true}
		if err := s.CreateUser(ctx, actor, &u); err != nil {
			t.Fatal(err)
		}
		users[n] = u.ID
	}
	today := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return today.Add(time.Duration(h) * time.Hour) }
	// The day's sequence, in the order the readers logged it.
	for _, e := range []struct {
		who  string
		door int64
		at   time.Time
		kind string
	}{
		{"Dev", front, at(-5), "access.granted"}, // yesterday evening, never left by a reader
		{"Ann", front, at(8), "access.granted"},
		{"Bob", front, at(8), "access.granted"},
		{"Cara", front, at(8), "access.granted"},
		{"Eli", front, at(8), "access.granted"},
		{"Fay", front, at(8), "access.granted"},
		{"Hal", front, at(8), "access.granted"},
		{"Eli", lab, at(9), "access.granted"}, // inside the site: still here
		{"Bob", gate, at(12), "access.granted"},
		{"Cara", gate, at(12), "access.granted"},
		{"Fay", gate, at(12), "access.denied"}, // refused at the exit: still here
		{"Gus", gate, at(12), "access.granted"},
		{"Cara", front, at(13), "access.granted"}, // back from lunch
	} {
		ev := access.Event{At: e.at, Kind: e.kind, UserID: users[e.who], AccessPointID: e.door}
		if err := s.AppendEvent(ctx, &ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteUser(ctx, actor, users["Hal"]); err != nil {
		t.Fatal(err)
	}

	got, err := s.OnSite(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.UserName)
	}
	if want := []string{"Ann Test", "Cara Test", "Eli Test", "Fay Test"}; !slices.Equal(names, want) {
		t.Errorf("on site: got %q, want %q", names, want)
	}
	for _, p := range got {
		if p.UserName == "Cara Test" && (!p.At.Equal(at(13)) || p.AccessPointName != "front") {
			t.Errorf("Cara: got in at %v by %q, want 13:00 by front", p.At, p.AccessPointName)
		}
	}
	// Since yesterday, Dev's entry counts too.
	if got, err := s.OnSite(ctx, today.AddDate(0, 0, -1)); err != nil || len(got) != 5 {
		t.Errorf("since yesterday: got %d people, %v; want 5", len(got), err)
	}
}
