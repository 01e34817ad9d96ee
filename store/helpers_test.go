package store_test

import (
	"errors"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// actor is who makes the changes in these tests.
const actor = "admin:ann@example.com"

// testNow is the store's clock in tests: whole milliseconds, so times read
// back from the database compare equal to the ones written.
var testNow = time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)

// openStore opens a fresh store in a temporary folder with the clock at
// testNow.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	s.SetClock(func() time.Time { return testNow })
	return s
}

func createUser(t testing.TB, s *store.Store, first, last, email string) access.User {
	t.Helper()
	u := access.User{FirstName: first, LastName: last, Email: email, Enabled: true}
	if err := s.CreateUser(t.Context(), "setup", &u); err != nil {
		t.Fatalf("create user %s %s: %v", first, last, err)
	}
	return u
}

func createGroup(t testing.TB, s *store.Store, name string) access.Group {
	t.Helper()
	g := access.Group{Name: name}
	if err := s.CreateGroup(t.Context(), "setup", &g); err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
	return g
}

func createAccessPoint(t testing.TB, s *store.Store, name, reader string) access.AccessPoint {
	t.Helper()
	a := access.AccessPoint{Name: name, Reader: reader}
	if err := s.CreateAccessPoint(t.Context(), "setup", &a); err != nil {
		t.Fatalf("create access point %s: %v", name, err)
	}
	return a
}

// officeHours is a weekday 08:00-18:00 window.
var officeHours = []access.Window{{Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 8 * 60, End: 18 * 60}}

// appendAtDoor writes an event of kind at access point ap and returns its id.
func appendAtDoor(t testing.TB, s *store.Store, ap int64, kind string) int64 {
	t.Helper()
	e := access.Event{Kind: kind, AccessPointID: ap}
	if err := s.AppendEvent(t.Context(), &e); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

func createTimeProfile(t testing.TB, s *store.Store, name string) access.TimeProfile {
	t.Helper()
	p := access.TimeProfile{Name: name, Windows: officeHours}
	if err := s.CreateTimeProfile(t.Context(), "setup", &p); err != nil {
		t.Fatalf("create time profile %s: %v", name, err)
	}
	return p
}

func createPermission(t testing.TB, s *store.Store, p access.Permission) access.Permission {
	t.Helper()
	if err := s.CreatePermission(t.Context(), "setup", &p); err != nil {
		t.Fatalf("create permission %+v: %v", p, err)
	}
	return p
}

func setUserGroups(t testing.TB, s *store.Store, userID int64, groups ...access.Group) {
	t.Helper()
	var ids []int64
	for _, g := range groups {
		ids = append(ids, g.ID)
	}
	if err := s.SetUserGroups(t.Context(), "setup", userID, ids); err != nil {
		t.Fatalf("set groups of user %d: %v", userID, err)
	}
}

func isConflict(err error) bool {
	var c *access.ConflictError
	return errors.As(err, &c)
}

func isValidation(err error) bool {
	var v *access.ValidationError
	return errors.As(err, &v)
}

// allEvents returns every event, newest first.
func allEvents(t testing.TB, s *store.Store) []access.Event {
	t.Helper()
	evs, _, err := s.Events(t.Context(), access.EventFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	return evs
}

func date(y int, m time.Month, d int) access.Date { return access.Date{Year: y, Month: m, Day: d} }
