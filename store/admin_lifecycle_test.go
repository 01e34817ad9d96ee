package store_test

import (
	"errors"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

func TestAPITokenLifecycle(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann, err := s.CreateAdmin(ctx, actor, "ann@example.com", "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	forGood, err := s.CreateAPITokenUntil(ctx, actor, ann.ID, "payroll sync", "tok-forever", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPITokenUntil(ctx, actor, ann.ID, "contractor", "tok-day", testNow.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "bell\a", string(make([]byte, 101))} {
		if _, err := s.CreateAPITokenUntil(ctx, actor, ann.ID, name, "tok-x", time.Time{}); !isValidation(err) {
			t.Errorf("token name %q: got %v, want a validation error", name, err)
		}
	}

	tests := []struct {
		name  string
		at    time.Time
		token string
		want  bool
	}{
		{"no expiry", testNow.Add(1000 * time.Hour), "tok-forever", true},
		{"before its expiry", testNow.Add(24*time.Hour - time.Millisecond), "tok-day", true},
		{"at its expiry", testNow.Add(24 * time.Hour), "tok-day", false},
		{"unknown", testNow, "tok-none", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.SetClock(func() time.Time { return tt.at })
			defer s.SetClock(func() time.Time { return testNow })
			_, err := s.APITokenByToken(ctx, tt.token)
			if got := err == nil; got != tt.want {
				t.Errorf("got %v, want accepted %v", err, tt.want)
			}
			if _, err := s.AdminByAPIToken(ctx, tt.token); (err == nil) != tt.want {
				t.Errorf("AdminByAPIToken: got %v, want accepted %v", err, tt.want)
			}
		})
	}

	// Last use: recorded at most once a minute.
	tok, err := s.APITokenByToken(ctx, "tok-forever")
	if err != nil || !tok.LastUsedAt.IsZero() || !tok.NeedsTouch(testNow) {
		t.Fatalf("got %+v, %v, want a token never used", tok, err)
	}
	for _, at := range []time.Duration{0, 30 * time.Second} {
		if err := s.TouchAPIToken(ctx, forGood, testNow.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	tok, _ = s.APITokenByToken(ctx, "tok-forever")
	if !tok.LastUsedAt.Equal(testNow) || tok.NeedsTouch(testNow.Add(59*time.Second)) || !tok.NeedsTouch(testNow.Add(time.Minute)) {
		t.Errorf("got last use %v, want %v kept within the minute", tok.LastUsedAt, testNow)
	}
	if err := s.TouchAPIToken(ctx, forGood, testNow.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if tok, _ = s.APITokenByToken(ctx, "tok-forever"); !tok.LastUsedAt.Equal(testNow.Add(time.Minute)) {
		t.Errorf("a minute later: got last use %v, want %v", tok.LastUsedAt, testNow.Add(time.Minute))
	}

	list, err := s.APITokens(ctx, 0)
	if err != nil || len(list) != 2 || list[0].Name != "contractor" || !list[0].ExpiresAt.Equal(testNow.Add(24*time.Hour)) || list[1].AdminEmail != "ann@example.com" {
		t.Fatalf("got %+v, %v, want both tokens, newest first, with their admin and expiry", list, err)
	}
	if err := s.RevokeAPIToken(ctx, actor, forGood); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APITokenByToken(ctx, "tok-forever"); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("a revoked token: got %v, want not found", err)
	}
	if err := s.RevokeAPIToken(ctx, actor, forGood); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("revoking again: got %v, want not found", err)
	}
	if n := countEvents(t, s, "api_token.revoked"); n != 1 {
		t.Errorf("got %d api_token.revoked events, want 1", n)
	}
}

func TestAdminLifecycle(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann, _ := s.CreateAdmin(ctx, actor, "ann@example.com", "hash-1", false)
	bob, _ := s.CreateAdmin(ctx, actor, "bob@example.com", "hash-1", false)
	for _, tok := range []string{"ann-laptop", "ann-phone", "ann-tablet"} {
		if err := s.CreateSession(ctx, tok, "csrf", ann.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, "bob-laptop", "csrf", bob.ID, time.Hour); err != nil {
		t.Fatal(err)
	}

	if err := s.SetAdminPassword(ctx, actor, ann.ID, "hash-2", "ann-laptop"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.AdminByID(ctx, ann.ID); a.PasswordHash != "hash-2" {
		t.Errorf("got hash %q, want the new one", a.PasswordHash)
	}
	for tok, want := range map[string]bool{"ann-laptop": true, "ann-phone": false, "ann-tablet": false, "bob-laptop": true} {
		if _, err := s.SessionByToken(ctx, tok); (err == nil) != want {
			t.Errorf("session %s after a password change: got %v, want live %v", tok, err, want)
		}
	}
	if err := s.CreateSession(ctx, "ann-phone-2", "csrf", ann.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, err := s.EndOtherSessions(ctx, actor, ann.ID, "ann-laptop"); err != nil || n != 1 {
		t.Errorf("end other sessions: got %d, %v, want 1", n, err)
	}
	if n, _ := s.CountSessions(ctx, ann.ID); n != 1 {
		t.Errorf("got %d sessions, want only this one", n)
	}

	if err := s.CreateAPIToken(ctx, actor, bob.ID, "bob's script", "bob-token"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAdmin(ctx, actor, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdminByAPIToken(ctx, "bob-token"); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("a removed admin's token: got %v, want not found", err)
	}
	if _, err := s.SessionByToken(ctx, "bob-laptop"); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("a removed admin's session: got %v, want not found", err)
	}
	if err := s.DeleteAdmin(ctx, actor, ann.ID); !errors.Is(err, store.ErrLastAdmin) {
		t.Errorf("removing the last admin: got %v, want ErrLastAdmin", err)
	}
	if admins, _ := s.Admins(ctx); len(admins) != 1 || admins[0].Email != "ann@example.com" {
		t.Errorf("got admins %+v, want Ann alone", admins)
	}
	if err := s.DeleteAdmin(ctx, actor, 999); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("an unknown admin: got %v, want not found", err)
	}
}

func countEvents(t *testing.T, s *store.Store, kind string) int {
	t.Helper()
	evs, _, err := s.Events(t.Context(), access.EventFilter{Kind: kind, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}
