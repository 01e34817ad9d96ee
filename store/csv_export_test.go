package store_test

import (
	"errors"
	"slices"
	"testing"

	"postern/access"
)

// TestEachEvent reads more than one batch, keeps the filter, goes oldest
// first and leaves out what is logged while it runs.
func TestEachEvent(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	const n = 2345 // two full batches and a part
	for i := range n {
		e := access.Event{Kind: "access.granted", UserID: int64(i%3 + 1), AccessPointID: 10}
		if i%5 == 0 {
			e.Kind = "access.denied"
		}
		if err := s.AppendEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		filter access.EventFilter
		want   int
	}{
		{"everything", access.EventFilter{}, n},
		{"one user", access.EventFilter{UserID: 2}, (n + 1) / 3},
		{"denied", access.EventFilter{Kind: "access.denied"}, (n + 4) / 5},
		{"a page's cursor and limit do not apply", access.EventFilter{Kind: "access.", Limit: 10}, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int
			var last int64
			err := s.EachEvent(ctx, tt.filter, func(e *access.Event) error {
				if e.ID <= last {
					t.Fatalf("event %d after %d: want oldest first", e.ID, last)
				}
				if tt.filter.UserID != 0 && e.UserID != tt.filter.UserID {
					t.Fatalf("event of user %d, want only %d", e.UserID, tt.filter.UserID)
				}
				last = e.ID
				got++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %d events, want %d", got, tt.want)
			}
			if count, err := s.CountEvents(ctx, tt.filter); err != nil || count != tt.want {
				t.Errorf("CountEvents: got %d, %v; want %d", count, err, tt.want)
			}
		})
	}

	t.Run("events logged during the export are left out", func(t *testing.T) {
		var got int
		err := s.EachEvent(ctx, access.EventFilter{}, func(e *access.Event) error {
			got++
			if got%1000 == 1 {
				return s.AppendEvent(ctx, &access.Event{Kind: "access.granted", UserID: 2, AccessPointID: 10})
			}
			return nil
		})
		if err != nil || got != n {
			t.Errorf("got %d events, %v; want %d", got, err, n)
		}
	})

	stop := errors.New("stop")
	if err := s.EachEvent(ctx, access.EventFilter{}, func(*access.Event) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("got %v, want the callback's error", err)
	}
}

// TestEachEventOfKinds exports the page's "door events" view: several
// families at once.
func TestEachEventOfKinds(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	for _, k := range []string{"door.forced", "access.granted", "site.lockdown_started", "user.created", "door.closed"} {
		if err := s.AppendEvent(ctx, &access.Event{Kind: k}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	f := access.EventFilter{Kinds: []string{"door.", "site."}}
	if err := s.EachEvent(ctx, f, func(e *access.Event) error { got = append(got, e.Kind); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"door.forced", "site.lockdown_started", "door.closed"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if n, err := s.CountEvents(ctx, f); err != nil || n != 3 {
		t.Errorf("CountEvents: got %d, %v; want 3", n, err)
	}
}
