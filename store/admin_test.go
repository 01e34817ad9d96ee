package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

func TestCreateAdmin(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tests := []struct {
		name        string
		email       string
		onlyFirst   bool
		wantExists  bool // ErrAdminExists
		wantInvalid bool // a validation error
		wantCount   int
	}{
		{"first run", "ann@example.com", true, false, false, 1},
		{"second first run is refused", "bob@example.com", true, true, false, 1},
		{"an admin adds another", "bob@example.com", false, false, false, 2},
		{"bad email", "bob", false, false, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := s.CreateAdmin(ctx, actor, tt.email, "hash:"+tt.email, tt.onlyFirst)
			switch {
			case tt.wantExists:
				if !errors.Is(err, store.ErrAdminExists) {
					t.Errorf("got %v, want %v", err, store.ErrAdminExists)
				}
			case tt.wantInvalid:
				if !isValidation(err) {
					t.Errorf("got %v, want a validation error", err)
				}
			case err != nil:
				t.Fatalf("got %v, want no error", err)
			}
			if n, err := s.CountAdmins(ctx); err != nil || n != tt.wantCount {
				t.Errorf("count: got %d, %v, want %d", n, err, tt.wantCount)
			}
			if tt.wantExists || tt.wantInvalid {
				return
			}
			got, err := s.AdminByEmail(ctx, tt.email)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != a.ID || got.Email != tt.email || got.PasswordHash != "hash:"+tt.email || !got.CreatedAt.Equal(testNow) {
				t.Errorf("got %+v, want %+v", got, a)
			}
		})
	}
}

func TestCreateAdminRace(t *testing.T) {
	// Setup requests race in one process and, through a second Store on the
	// same file, across processes: exactly one may win.
	for round := range 5 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			dir := t.TempDir()
			var stores []*store.Store
			for range 2 {
				s, err := store.Open(t.Context(), dir)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				stores = append(stores, s)
			}
			const racers = 8
			errs := make([]error, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() {
					<-start
					_, errs[i] = stores[i%2].CreateAdmin(t.Context(), "setup", fmt.Sprintf("admin%d@example.com", i), "hash", true)
				})
			}
			close(start)
			wg.Wait()
			wins := 0
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, store.ErrAdminExists):
					t.Errorf("racer %d: got %v, want nil or %v", i, err, store.ErrAdminExists)
				}
			}
			if wins != 1 {
				t.Errorf("winners: got %d, want 1", wins)
			}
			if n, err := stores[0].CountAdmins(t.Context()); err != nil || n != 1 {
				t.Errorf("admins: got %d, %v, want 1", n, err)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann, err := s.CreateAdmin(ctx, actor, "ann@example.com", "hash", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, "token-1", "csrf-1", ann.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		token     string
		after     time.Duration
		wantFound bool
	}{
		{"just created", "token-1", 0, true},
		{"a minute before expiry", "token-1", 59 * time.Minute, true},
		{"at expiry", "token-1", time.Hour, false},
		{"long after", "token-1", 48 * time.Hour, false},
		{"wrong token", "token-2", 0, false},
		{"empty token", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.SetClock(func() time.Time { return testNow.Add(tt.after) })
			defer s.SetClock(func() time.Time { return testNow })
			got, err := s.SessionByToken(ctx, tt.token)
			if !tt.wantFound {
				if !errors.Is(err, access.ErrNotFound) {
					t.Errorf("got %+v, %v, want %v", got, err, access.ErrNotFound)
				}
				return
			}
			want := store.Session{AdminID: ann.ID, Email: "ann@example.com", CSRF: "csrf-1", ExpiresAt: testNow.Add(time.Hour)}
			if err != nil || got.AdminID != want.AdminID || got.Email != want.Email || got.CSRF != want.CSRF || !got.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("got %+v, %v, want %+v", got, err, want)
			}
		})
	}

	t.Run("delete logs out only that session", func(t *testing.T) {
		if err := s.CreateSession(ctx, "token-3", "csrf-3", ann.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, "token-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, "token-1"); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("deleted session: got %v, want %v", err, access.ErrNotFound)
		}
		if got, err := s.SessionByToken(ctx, "token-3"); err != nil || got.CSRF != "csrf-3" {
			t.Errorf("other session: got %+v, %v, want it live", got, err)
		}
		if err := s.DeleteSession(ctx, "token-1"); err != nil {
			t.Errorf("deleting again: got %v, want no error", err)
		}
	})
}

func TestAdminByAPIToken(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann, err := s.CreateAdmin(ctx, actor, "ann@example.com", "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := s.CreateAdmin(ctx, actor, "bob@example.com", "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []struct {
		admin int64
		name  string
		token string
	}{{ann.ID, "ci", "ann-ci"}, {ann.ID, "backup", "ann-backup"}, {bob.ID, "ci", "bob-ci"}} {
		if err := s.CreateAPIToken(ctx, actor, tok.admin, tok.name, tok.token); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		token     string
		wantID    int64
		wantEmail string
	}{
		{"ann-ci", ann.ID, "ann@example.com"},
		{"ann-backup", ann.ID, "ann@example.com"},
		{"bob-ci", bob.ID, "bob@example.com"},
		{"ANN-CI", 0, ""},
		{"ann-ci ", 0, ""},
		{"", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			got, err := s.AdminByAPIToken(ctx, tt.token)
			if tt.wantID == 0 {
				if !errors.Is(err, access.ErrNotFound) {
					t.Errorf("got %+v, %v, want %v", got, err, access.ErrNotFound)
				}
				return
			}
			if err != nil || got.ID != tt.wantID || got.Email != tt.wantEmail {
				t.Errorf("got %+v, %v, want admin %d %s", got, err, tt.wantID, tt.wantEmail)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tests := []struct {
		name string
		set  string // "" leaves the setting alone
		def  string
		want string
	}{
		{"unset gives the default", "", "UTC", "UTC"},
		{"set", "Europe/London", "UTC", "Europe/London"},
		{"set again replaces", "America/New_York", "UTC", "America/New_York"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set != "" {
				if err := s.SetSetting(ctx, actor, "time_zone", tt.set); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Setting(ctx, "time_zone", tt.def)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v, want %q", got, err, tt.want)
			}
		})
	}
	if got, err := s.Setting(ctx, "other", "fallback"); err != nil || got != "fallback" {
		t.Errorf("other key: got %q, %v, want %q", got, err, "fallback")
	}
	if err := s.SetSetting(ctx, actor, "empty", ""); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Setting(ctx, "empty", "fallback"); err != nil || got != "" {
		t.Errorf("a value set to empty: got %q, %v, want %q", got, err, "")
	}
}
