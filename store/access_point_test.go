package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

func TestAccessPointRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tests := []struct {
		name string
		in   access.AccessPoint
		want access.AccessPoint // without ID and stamps
	}{
		{"defaults for direct", access.AccessPoint{Name: "Front", Reader: "sim:front"},
			access.AccessPoint{Name: "Front", Reader: "sim:front", Mode: access.ModeDirect, RSSIThreshold: -60, UnlockWindow: 10 * time.Second, UnlockDuration: 5 * time.Second, State: access.StateNormal}},
		{"defaults for touch", access.AccessPoint{Name: "Lab", Reader: "hci0", Mode: access.ModeTouch},
			access.AccessPoint{Name: "Lab", Reader: "hci0", Mode: access.ModeTouch, RSSIThreshold: -75, UnlockWindow: 10 * time.Second, UnlockDuration: 5 * time.Second, State: access.StateNormal}},
		{"defaults for long range", access.AccessPoint{Name: "Car park", Reader: "sim:gate", Mode: access.ModeLongRange},
			access.AccessPoint{Name: "Car park", Reader: "sim:gate", Mode: access.ModeLongRange, RSSIThreshold: -90, UnlockWindow: 10 * time.Second, UnlockDuration: 5 * time.Second, State: access.StateNormal}},
		{"everything set", access.AccessPoint{Name: "Server room", Reader: "sim:server-1", Mode: access.ModeTouch, RSSIThreshold: -70, RSSIOffset: -6, RequireUnlock: true, UnlockWindow: 4 * time.Second, ResponseDeadline: 300 * time.Millisecond, UnlockDuration: 12 * time.Second, State: access.StateLockdown},
			access.AccessPoint{Name: "Server room", Reader: "sim:server-1", Mode: access.ModeTouch, RSSIThreshold: -70, RSSIOffset: -6, RequireUnlock: true, UnlockWindow: 4 * time.Second, ResponseDeadline: 300 * time.Millisecond, UnlockDuration: 12 * time.Second, State: access.StateLockdown}},
		{"unlock in milliseconds, held open", access.AccessPoint{Name: "Lobby", Reader: "sim:lobby", UnlockDuration: 1500 * time.Millisecond, State: access.StateUnlocked},
			access.AccessPoint{Name: "Lobby", Reader: "sim:lobby", Mode: access.ModeDirect, RSSIThreshold: -60, UnlockWindow: 10 * time.Second, UnlockDuration: 1500 * time.Millisecond, State: access.StateUnlocked}},
		{"door settings and lines", access.AccessPoint{Name: "Fire exit", Reader: "sim:fire", Exit: true, Direction: access.DirectionExit, HeldOpenLimit: 2 * time.Minute, FirstPersonIn: true,
			IO: access.DoorIO{Relay: " gpiochip0:17 ", RelayActiveLow: true, FailSafe: true, Contact: "GPIO22", ContactOpenLow: true, Exit: "gpiochip1:3", ExitPressedLow: true, ExitUnlocks: true, Debounce: 20 * time.Millisecond}},
			access.AccessPoint{Name: "Fire exit", Reader: "sim:fire", Mode: access.ModeDirect, RSSIThreshold: -60, UnlockWindow: 10 * time.Second, UnlockDuration: 5 * time.Second, State: access.StateNormal, Exit: true, Direction: access.DirectionExit, HeldOpenLimit: 2 * time.Minute,
				IO: access.DoorIO{Relay: "gpiochip0:17", RelayActiveLow: true, FailSafe: true, Contact: "GPIO22", ContactOpenLow: true, Exit: "gpiochip1:3", ExitPressedLow: true, ExitUnlocks: true, Debounce: 20 * time.Millisecond}}},
		{"open from the phone on the site's networks", access.AccessPoint{Name: "Gate", Reader: "sim:gate-2", PhoneOpen: true, PhoneNetworks: "192.168.10.7/24 fd00::/8", PhonePasskey: true},
			access.AccessPoint{Name: "Gate", Reader: "sim:gate-2", Mode: access.ModeDirect, RSSIThreshold: -60, UnlockWindow: 10 * time.Second, UnlockDuration: 5 * time.Second, State: access.StateNormal,
				PhoneOpen: true, PhoneNetworks: "192.168.10.0/24, fd00::/8", PhonePasskey: true}},
		{"reader and name normalized", access.AccessPoint{Name: "  Side door ", Reader: " SIM:Side "},
			access.AccessPoint{Name: "Side door", Reader: "sim:side", Mode: access.ModeDirect, RSSIThreshold: -60, UnlockWindow: 10 * time.Second, UnlockDuration: 5 * time.Second, State: access.StateNormal}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.in
			if err := s.CreateAccessPoint(ctx, actor, &a); err != nil {
				t.Fatalf("create: %v", err)
			}
			want := tt.want
			want.ID = a.ID
			if want.HeldOpenLimit == 0 {
				want.HeldOpenLimit = access.DefaultHeldOpenLimit
			}
			if want.IO.Debounce == 0 {
				want.IO.Debounce = access.DefaultDebounce
			}
			if want.Direction == "" {
				want.Direction = access.DirectionNeither
			}
			for _, read := range []struct {
				by  string
				get func() (access.AccessPoint, error)
			}{
				{"id", func() (access.AccessPoint, error) { return s.AccessPointByID(ctx, a.ID) }},
				{"reader", func() (access.AccessPoint, error) { return s.AccessPointByReader(ctx, want.Reader) }},
			} {
				got, err := read.get()
				if err != nil {
					t.Fatalf("read by %s: %v", read.by, err)
				}
				if !got.CreatedAt.Equal(testNow) || !got.UpdatedAt.Equal(testNow) {
					t.Errorf("read by %s: stamps got %v %v, want %v", read.by, got.CreatedAt, got.UpdatedAt, testNow)
				}
				got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
				if got != want {
					t.Errorf("read by %s: got %+v, want %+v", read.by, got, want)
				}
			}
		})
	}

	t.Run("update", func(t *testing.T) {
		a := createAccessPoint(t, s, "Back", "sim:back")
		later := testNow.Add(time.Minute)
		s.SetClock(func() time.Time { return later })
		defer s.SetClock(func() time.Time { return testNow })
		a.Name, a.Reader, a.Mode, a.RSSIThreshold = "Back gate", "hci1", access.ModeLongRange, -100
		a.RequireUnlock, a.UnlockDuration, a.State = true, 30*time.Second, access.StateLockdown
		a.PhoneOpen, a.PhoneNetworks = true, "10.1.0.0/16"
		if err := s.UpdateAccessPoint(ctx, actor, &a); err != nil {
			t.Fatal(err)
		}
		got, err := s.AccessPointByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(testNow) || !got.UpdatedAt.Equal(later) {
			t.Errorf("stamps: got %v %v, want %v %v", got.CreatedAt, got.UpdatedAt, testNow, later)
		}
		want := a
		want.CreatedAt, want.UpdatedAt, got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if _, err := s.AccessPointByReader(ctx, "sim:back"); err == nil {
			t.Error("got the old reader still bound, want it free")
		}
	})
}

func TestAccessPointsListing(t *testing.T) {
	s := openStore(t)
	var want []string
	for i := range 23 {
		name := fmt.Sprintf("Door %02d", 22-i)
		if i%2 == 0 {
			name = fmt.Sprintf("door %02d", 22-i)
		}
		createAccessPoint(t, s, name, fmt.Sprintf("sim:d%d", i))
		want = append(want, name)
	}
	slices.Reverse(want)

	var got []string
	o := store.ListOptions{Limit: 5}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("got more than 10 pages, want 5")
		}
		p, err := s.AccessPoints(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Items {
			got = append(got, a.Name)
		}
		if p.Next == "" {
			break
		}
		o.After = p.Next
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages: got %v, want %v", got, want)
	}

	all, err := s.AllAccessPoints(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Errorf("all: got %d, want %d", len(all), len(want))
	}
}

func TestCalibrateAccessPoint(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	a := createAccessPoint(t, s, "Front", "hci0")
	tests := []struct {
		name       string
		id         int64
		offset     int
		wantOffset int // stored afterwards
		wantErr    func(error) bool
	}{
		{name: "up", id: a.ID, offset: 10, wantOffset: 10},
		{name: "down", id: a.ID, offset: -12, wantOffset: -12},
		{name: "beyond the bound", id: a.ID, offset: access.MaxRSSIOffset + 1, wantOffset: -12, wantErr: isValidation},
		{name: "no such access point", id: a.ID + 100, offset: 3, wantOffset: -12, wantErr: func(err error) bool { return errors.Is(err, access.ErrNotFound) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(allEvents(t, s))
			got, err := s.CalibrateAccessPoint(ctx, actor, tt.id, tt.offset, "phone at -70 dBm")
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("got error %v", err)
				}
				if n := len(allEvents(t, s)); n != before {
					t.Fatal("a refused calibration was logged")
				}
			} else if err != nil || got.RSSIOffset != tt.offset || got.Name != a.Name {
				t.Fatalf("got %+v, %v", got, err)
			}
			stored, err := s.AccessPointByID(ctx, a.ID)
			if err != nil || stored.RSSIOffset != tt.wantOffset {
				t.Fatalf("stored offset %d, %v; want %d", stored.RSSIOffset, err, tt.wantOffset)
			}
			if tt.wantErr == nil {
				last := allEvents(t, s)[0] // newest first
				if last.Kind != "access_point.calibrated" || last.AccessPointID != a.ID || last.Detail != "phone at -70 dBm" {
					t.Fatalf("event %+v, want the calibration", last)
				}
			}
		})
	}
}
