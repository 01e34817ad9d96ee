package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"postern/access"
)

// A code to print is sent nowhere: no email is queued, the user needs no
// address, and a new code to print cancels an invitation still waiting.
func TestCredentialCodeToPrint(t *testing.T) {
	s := openStore(t)
	noEmail := createUser(t, s, "Bob", "Ray", "")
	withEmail := createUser(t, s, "Ann", "Lee", "ann.lee@example.com")
	exp := testNow.Add(time.Hour)

	c, err := s.AssignCredential(t.Context(), actor, noEmail.ID, access.NewRegistrationCode(), exp, nil)
	if err != nil {
		t.Fatalf("assign a code to print to a user without email: %v", err)
	}
	if got := credentialByID(t, s, c.ID).Status; got != access.CredentialInvited {
		t.Errorf("got status %s, want invited", got)
	}
	if got := outboxOf(t, s, c.ID); len(got) != 0 {
		t.Errorf("got %s, want no email", brief(got...))
	}
	if e := allEvents(t, s)[0]; e.Kind != "credential.assigned" || !strings.Contains(e.Detail, "code printed, no email") {
		t.Errorf("got event %s %q, want credential.assigned saying the code was printed", e.Kind, e.Detail)
	}

	emailed, err := s.AssignCredential(t.Context(), actor, withEmail.ID, access.NewRegistrationCode(), exp, invitation("1", exp))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.NewRegistrationCode(t.Context(), actor, emailed.ID, "resent", access.NewRegistrationCode(), exp, nil); err != nil {
		t.Fatalf("a new code to print: %v", err)
	}
	if got := statuses(outboxOf(t, s, emailed.ID)); !slices.Equal(got, []string{"cancelled"}) {
		t.Errorf("after a new code to print, the invitations are %v, want only the first, cancelled", got)
	}
}

// The page an invitation's link opens says what its code can still do.
func TestRegistrationCodeState(t *testing.T) {
	s := openStore(t)
	u := createUser(t, s, "Ann", "Lee", "ann.lee@example.com")
	exp := testNow.Add(time.Hour)
	assign := func() (access.Credential, string) {
		code := access.NewRegistrationCode()
		c, err := s.AssignCredential(t.Context(), actor, u.ID, code, exp, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c, code
	}
	_, valid := assign()
	_, used := assign()
	if _, err := register(s, t, used, 1); err != nil {
		t.Fatal(err)
	}
	replacedCred, replaced := assign()
	if err := s.NewRegistrationCode(t.Context(), actor, replacedCred.ID, "resent", access.NewRegistrationCode(), exp, nil); err != nil {
		t.Fatal(err)
	}
	revokedCred, revoked := assign()
	if err := s.RevokeCredential(t.Context(), actor, revokedCred.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		code        string
		at          time.Time
		want        access.CodeState
		wantExpires time.Time
	}{
		{"valid", valid, testNow, access.CodeValid, exp},
		{"expired", valid, exp, access.CodeExpired, time.Time{}},
		{"used", used, testNow, access.CodeUsed, time.Time{}},
		{"a newer code took its place", replaced, testNow, access.CodeReplaced, time.Time{}},
		{"its credential was revoked", revoked, testNow, access.CodeReplaced, time.Time{}},
		{"never issued", access.NewRegistrationCode(), testNow, access.CodeUnknown, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, expires, err := s.RegistrationCodeState(t.Context(), tt.code, tt.at)
			if err != nil || got != tt.want || !expires.Equal(tt.wantExpires) {
				t.Errorf("got %s until %v (%v), want %s until %v", got, expires, err, tt.want, tt.wantExpires)
			}
		})
	}
}
