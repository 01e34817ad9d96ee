package store_test

import (
	"errors"
	"testing"
	"time"

	"postern/access"
)

func TestInvitationByCode(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann := createUser(t, s, "Ann", "Lee", "ann@example.com")
	code := access.NewRegistrationCode()
	c := assign(t, s, ann.ID, code)

	inv, err := s.InvitationByCode(ctx, code, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Credential.ID != c.ID || inv.User.Name() != "Ann Lee" || !inv.ExpiresAt.Equal(testNow.Add(24*time.Hour)) {
		t.Errorf("got %+v, want Ann Lee's credential until %v", inv, testNow.Add(24*time.Hour))
	}
	// Looking does not spend the code.
	if _, err := s.InvitationByCode(ctx, code, testNow); err != nil {
		t.Errorf("second look: %v", err)
	}

	used := access.NewRegistrationCode()
	assign(t, s, ann.ID, used)
	tap, uv := keysOf(1)
	if _, _, err := s.RegisterCredential(ctx, access.Registration{Code: used, TapKey: tap, UVKey: uv, At: testNow}); err != nil {
		t.Fatal(err)
	}
	revoked := access.NewRegistrationCode()
	rc := assign(t, s, ann.ID, revoked)
	if err := s.RevokeCredential(ctx, actor, rc.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		code string
		at   time.Time
	}{
		{"used", used, testNow},
		{"expired", code, testNow.Add(25 * time.Hour)},
		{"revoked", revoked, testNow},
		{"unknown", access.NewRegistrationCode(), testNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.InvitationByCode(ctx, tt.code, tt.at); !errors.Is(err, access.ErrRegistration) {
				t.Errorf("got %v, want the registration error", err)
			}
		})
	}
}
