package store_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/mail"
	"postern/store"
)

// invitation composes the real invitation email for code, as web does.
func invitation(code string, expires time.Time) func(access.Credential, access.User) (store.Mail, error) {
	return func(c access.Credential, u access.User) (store.Mail, error) {
		msg := mail.Invitation(mail.InviteData{
			SiteName: "Postern", SiteURL: "https://doors.example.com", FirstName: u.FirstName, LastName: u.LastName,
			To: u.Email, From: "postern@doors.example.com", Code: code,
			Link: "https://doors.example.com/key/register?code=" + code, ExpiresAt: expires,
		})
		b, err := json.Marshal(msg)
		return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: msg.Subject, Message: string(b)}, err
	}
}

// keysOf is a device's two public keys; the store keeps them as given.
func keysOf(seed byte) (tap, uv []byte) {
	tap, uv = bytes.Repeat([]byte{seed}, 65), bytes.Repeat([]byte{seed + 1}, 65)
	tap[0], uv[0] = 4, 4
	return tap, uv
}

// movableClock lets a test move the store's clock.
func movableClock(s *store.Store) *time.Time {
	now := testNow
	s.SetClock(func() time.Time { return now })
	return &now
}

// assign assigns a Smart credential with code, valid for a day.
func assign(t *testing.T, s *store.Store, userID int64, code string) access.Credential {
	t.Helper()
	exp := testNow.Add(24 * time.Hour)
	c, err := s.AssignCredential(t.Context(), actor, userID, code, exp, invitation(code, exp))
	if err != nil {
		t.Fatalf("assign: %v", err)
	}
	return c
}

func credentialByID(t *testing.T, s *store.Store, id access.CredentialID) access.Credential {
	t.Helper()
	c, err := s.CredentialByID(t.Context(), id)
	if err != nil {
		t.Fatalf("credential %s: %v", id, err)
	}
	return c
}

// outboxOf lists a credential's emails, oldest first.
func outboxOf(t *testing.T, s *store.Store, id access.CredentialID) []store.OutboxItem {
	t.Helper()
	items, _, err := s.Outbox(t.Context(), 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.OutboxItem
	for i := len(items) - 1; i >= 0; i-- {
		if strings.EqualFold(items[i].CredentialID, id.String()) {
			out = append(out, items[i])
		}
	}
	return out
}

// brief describes emails without their bodies, which are long.
func brief(items ...store.OutboxItem) string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("{id %d %s to %s: %s, %d attempts, error %q, next %v, sent %v, body %d bytes}",
			it.ID, it.Kind, it.Recipient, it.Status, it.Attempts, it.LastError, it.NextAttempt.UTC(), it.SentAt.UTC(), len(it.Message)))
	}
	return "[" + strings.Join(out, " ") + "]"
}

func statuses(items []store.OutboxItem) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Status)
	}
	return out
}

func register(s *store.Store, t *testing.T, code string, seed byte) (access.Credential, error) {
	tap, uv := keysOf(seed)
	c, _, err := s.RegisterCredential(t.Context(), access.Registration{Code: code, TapKey: tap, UVKey: uv, DeviceInfo: "phone " + string('A'+rune(seed%26))})
	return c, err
}

func TestAssignCredential(t *testing.T) {
	s := openStore(t)
	withEmail := createUser(t, s, "Ann", "Lee", "ann.lee@example.com")
	noEmail := createUser(t, s, "Bob", "Ray", "")
	refuse := func(access.Credential, access.User) (store.Mail, error) {
		return store.Mail{}, errors.New("cannot compose")
	}
	code := access.NewRegistrationCode()
	exp := testNow.Add(time.Hour)
	tests := []struct {
		name    string
		userID  int64
		invite  func(access.Credential, access.User) (store.Mail, error)
		wantErr func(error) bool
	}{
		{"user with email", withEmail.ID, invitation(code, exp), func(err error) bool { return err == nil }},
		{"user without email", noEmail.ID, invitation(code, exp), func(err error) bool { return errors.Is(err, store.ErrNoEmail) && isValidation(err) }},
		{"unknown user", 999, invitation(code, exp), func(err error) bool { return errors.Is(err, access.ErrNotFound) }},
		{"the invitation cannot be composed", withEmail.ID, refuse, func(err error) bool { return err != nil && strings.Contains(err.Error(), "cannot compose") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eventsBefore := len(allEvents(t, s))
			c, err := s.AssignCredential(t.Context(), actor, tt.userID, access.NewRegistrationCode(), exp, tt.invite)
			if !tt.wantErr(err) {
				t.Fatalf("got error %v", err)
			}
			if err != nil {
				// Nothing half-written: no credential, no email, no event.
				if _, err := s.CredentialByID(t.Context(), c.ID); !errors.Is(err, access.ErrNotFound) {
					t.Errorf("got %v for the refused credential, want not found", err)
				}
				if got := outboxOf(t, s, c.ID); len(got) != 0 {
					t.Errorf("got %d emails for the refused credential, want 0", len(got))
				}
				if got := len(allEvents(t, s)); got != eventsBefore {
					t.Errorf("got %d events, want %d", got, eventsBefore)
				}
				return
			}
			got := credentialByID(t, s, c.ID)
			want := access.Credential{ID: c.ID, UserID: tt.userID, Kind: "smart", Status: access.CredentialInvited, CreatedAt: testNow, Protocol: 1}
			got.CreatedAt = got.CreatedAt.UTC()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
			mails := outboxOf(t, s, c.ID)
			if len(mails) != 1 || mails[0].Status != "queued" || mails[0].Kind != "invitation" || mails[0].Recipient != "ann.lee@example.com" || !mails[0].NextAttempt.Equal(testNow) {
				t.Errorf("got %s, want one invitation due now", brief(mails...))
			}
			kinds := map[string]bool{}
			for _, e := range allEvents(t, s)[:len(allEvents(t, s))-eventsBefore] {
				kinds[e.Kind] = e.CredentialID == c.ID.String()
			}
			if !kinds["credential.assigned"] || !kinds["invitation.queued"] {
				t.Errorf("got events %v, want credential.assigned and invitation.queued for %s", kinds, c.ID)
			}
		})
	}
	if got, _ := s.UserCredentials(t.Context(), noEmail.ID); len(got) != 0 {
		t.Errorf("got %d credentials for the user without email, want 0", len(got))
	}
}

func TestRegisterCredential(t *testing.T) {
	s := openStore(t)
	u := createUser(t, s, "Cat", "Moss", "cat@example.com")
	code := access.NewRegistrationCode()
	c := assign(t, s, u.ID, code)

	got, err := register(s, t, code, 1)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	tap, uv := keysOf(1)
	stored := credentialByID(t, s, c.ID)
	for _, cr := range []access.Credential{got, stored} {
		if cr.ID != c.ID || cr.Status != access.CredentialActive || !bytes.Equal(cr.TapKey, tap) || !bytes.Equal(cr.UVKey, uv) || cr.DeviceInfo != "phone B" || !cr.RegisteredAt.Equal(testNow) {
			t.Errorf("got %+v, want %s active with the device's keys, registered now", cr, c.ID)
		}
	}

	tests := []struct {
		name string
		code string
	}{
		{"the same code again", code},
		{"a code never issued", access.NewRegistrationCode()},
		{"an empty code", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := register(s, t, tt.code, 7); !errors.Is(err, access.ErrRegistration) {
				t.Errorf("got %v, want ErrRegistration", err)
			}
			if after := credentialByID(t, s, c.ID); !reflect.DeepEqual(after, stored) {
				t.Errorf("a refused registration changed the credential:\ngot  %+v\nwant %+v", after, stored)
			}
		})
	}
}

func TestCredentialExpiredStatus(t *testing.T) {
	tests := []struct {
		name string
		// act runs on a credential assigned with a one-day code at testNow,
		// with the clock that the store reads.
		act  func(t *testing.T, s *store.Store, now *time.Time, c access.Credential, code string)
		want access.CredentialStatus
	}{
		{"code still valid", func(t *testing.T, s *store.Store, now *time.Time, c access.Credential, code string) {
			*now = testNow.Add(24*time.Hour - time.Millisecond)
		}, access.CredentialInvited},
		{"code expired", func(t *testing.T, s *store.Store, now *time.Time, c access.Credential, code string) {
			*now = testNow.Add(24 * time.Hour)
		}, access.CredentialExpired},
		{"code replaced, the new one expired too", func(t *testing.T, s *store.Store, now *time.Time, c access.Credential, code string) {
			newCode := access.NewRegistrationCode()
			if err := s.NewRegistrationCode(t.Context(), actor, c.ID, "resent", newCode, testNow.Add(2*time.Hour), invitation(newCode, testNow)); err != nil {
				t.Fatal(err)
			}
			*now = testNow.Add(3 * time.Hour)
		}, access.CredentialExpired},
		{"expired, then a new code sent", func(t *testing.T, s *store.Store, now *time.Time, c access.Credential, code string) {
			*now = testNow.Add(48 * time.Hour)
			newCode := access.NewRegistrationCode()
			if err := s.NewRegistrationCode(t.Context(), actor, c.ID, "resent", newCode, now.Add(time.Hour), invitation(newCode, *now)); err != nil {
				t.Fatal(err)
			}
		}, access.CredentialInvited},
		{"registered, then the codes ran out", func(t *testing.T, s *store.Store, now *time.Time, c access.Credential, code string) {
			if _, err := register(s, t, code, 3); err != nil {
				t.Fatal(err)
			}
			*now = testNow.Add(48 * time.Hour)
		}, access.CredentialActive},
		{"revoked, then the codes ran out", func(t *testing.T, s *store.Store, now *time.Time, c access.Credential, code string) {
			if err := s.RevokeCredential(t.Context(), actor, c.ID); err != nil {
				t.Fatal(err)
			}
			*now = testNow.Add(48 * time.Hour)
		}, access.CredentialRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			now := movableClock(s)
			u := createUser(t, s, "Dot", "Hale", "dot@example.com")
			code := access.NewRegistrationCode()
			c := assign(t, s, u.ID, code)
			tt.act(t, s, now, c, code)
			if got := credentialByID(t, s, c.ID).Status; got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			list, err := s.UserCredentials(t.Context(), u.ID)
			if err != nil || len(list) != 1 || list[0].Status != tt.want {
				t.Errorf("got list %+v (%v), want one %s credential", list, err, tt.want)
			}
			if tt.want == access.CredentialExpired {
				_, _, err := s.RegisterCredential(t.Context(), access.Registration{Code: code, TapKey: []byte{4}, UVKey: []byte{4}})
				if !errors.Is(err, access.ErrRegistration) {
					t.Errorf("registering an expired code: got %v, want ErrRegistration", err)
				}
			}
		})
	}
}

// TestRegisterCredentialAt: a registration's own time decides expiry.
func TestRegisterCredentialAt(t *testing.T) {
	s := openStore(t)
	u := createUser(t, s, "Eli", "Park", "eli@example.com")
	code := access.NewRegistrationCode()
	assign(t, s, u.ID, code) // valid for a day from testNow
	tap, uv := keysOf(5)
	late := access.Registration{Code: code, TapKey: tap, UVKey: uv, At: testNow.Add(24 * time.Hour)}
	if _, _, err := s.RegisterCredential(t.Context(), late); !errors.Is(err, access.ErrRegistration) {
		t.Errorf("at expiry: got %v, want ErrRegistration", err)
	}
	inTime := late
	inTime.At = testNow.Add(23 * time.Hour)
	c, _, err := s.RegisterCredential(t.Context(), inTime)
	if err != nil || !c.RegisteredAt.Equal(inTime.At) {
		t.Errorf("in time: got %v registered at %v, want registered at %v", err, c.RegisteredAt, inTime.At)
	}
}

func TestNewRegistrationCode(t *testing.T) {
	s := openStore(t)
	u := createUser(t, s, "Fin", "Gray", "fin@example.com")
	codeA := access.NewRegistrationCode()
	c := assign(t, s, u.ID, codeA)
	// A test email to the same person must not be touched.
	if _, err := s.QueueMail(t.Context(), actor, store.Mail{Kind: "test", Recipient: "fin@example.com", Subject: "test", Message: "{}"}); err != nil {
		t.Fatal(err)
	}

	codeB := access.NewRegistrationCode()
	if err := s.NewRegistrationCode(t.Context(), actor, c.ID, "resent", codeB, testNow.Add(time.Hour), invitation(codeB, testNow)); err != nil {
		t.Fatal(err)
	}
	mails := outboxOf(t, s, c.ID)
	if got := statuses(mails); !reflect.DeepEqual(got, []string{"cancelled", "queued"}) {
		t.Errorf("got %v, want the first invitation cancelled and the new one queued", got)
	}
	if mails[0].Message != "" {
		t.Errorf("the cancelled invitation still holds its body (and its code): %.80q", mails[0].Message)
	}
	if !strings.Contains(mails[1].Message, codeB) {
		t.Error("the new invitation does not hold the new code")
	}
	if _, err := register(s, t, codeA, 1); !errors.Is(err, access.ErrRegistration) {
		t.Errorf("the replaced code: got %v, want ErrRegistration", err)
	}
	if _, err := register(s, t, codeB, 1); err != nil {
		t.Fatalf("the new code: %v", err)
	}

	// Reissue after the invitation went out and failed for good: the
	// failed one is cancelled, the sent one stays sent.
	if err := s.MarkOutboxSent(t.Context(), mails[1].ID, testNow); err != nil {
		t.Fatal(err)
	}
	codeC := access.NewRegistrationCode()
	if err := s.NewRegistrationCode(t.Context(), actor, c.ID, "reissued", codeC, testNow.Add(time.Hour), invitation(codeC, testNow)); err != nil {
		t.Fatal(err)
	}
	third := outboxOf(t, s, c.ID)[2]
	if err := s.MarkOutboxFailed(t.Context(), third.ID, testNow, "550 no such user", time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	codeD := access.NewRegistrationCode()
	if err := s.NewRegistrationCode(t.Context(), actor, c.ID, "reissued", codeD, testNow.Add(time.Hour), invitation(codeD, testNow)); err != nil {
		t.Fatal(err)
	}
	if got := statuses(outboxOf(t, s, c.ID)); !reflect.DeepEqual(got, []string{"cancelled", "sent", "cancelled", "queued"}) {
		t.Errorf("got %v, want [cancelled sent cancelled queued]", got)
	}
	if n, _ := s.CountQueuedMail(t.Context()); n != 2 {
		t.Errorf("got %d queued emails, want 2 (the test email and the last invitation)", n)
	}

	// The reissued credential stays with the first device until a new one
	// registers, then holds the new device's keys.
	tap1, _ := keysOf(1)
	if got := credentialByID(t, s, c.ID); got.Status != access.CredentialActive || !bytes.Equal(got.TapKey, tap1) {
		t.Errorf("got %s, want the first device active", got.Status)
	}
	if _, err := register(s, t, codeC, 9); !errors.Is(err, access.ErrRegistration) {
		t.Errorf("the replaced code: got %v, want ErrRegistration", err)
	}
	if _, err := register(s, t, codeD, 9); err != nil {
		t.Fatal(err)
	}
	tap9, uv9 := keysOf(9)
	if got := credentialByID(t, s, c.ID); !bytes.Equal(got.TapKey, tap9) || !bytes.Equal(got.UVKey, uv9) {
		t.Error("the new device did not replace the old one")
	}
	var replaced bool
	for _, e := range allEvents(t, s) {
		replaced = replaced || (e.Kind == "credential.registered" && strings.Contains(e.Detail, "replaces the previous device"))
	}
	if !replaced {
		t.Error("no event says the new device replaced the old one")
	}

	refusals := []struct {
		name    string
		prepare func(t *testing.T) access.CredentialID
		wantErr func(error) bool
	}{
		{"unknown credential", func(t *testing.T) access.CredentialID { return access.NewCredentialID() },
			func(err error) bool { return errors.Is(err, access.ErrNotFound) }},
		{"revoked credential", func(t *testing.T) access.CredentialID {
			if err := s.RevokeCredential(t.Context(), actor, c.ID); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}, isConflict},
		{"user lost their email", func(t *testing.T) access.CredentialID {
			other := createUser(t, s, "Gil", "Ash", "gil@example.com")
			oc := assign(t, s, other.ID, access.NewRegistrationCode())
			other.Email = ""
			if err := s.UpdateUser(t.Context(), actor, &other); err != nil {
				t.Fatal(err)
			}
			return oc.ID
		}, func(err error) bool { return errors.Is(err, store.ErrNoEmail) }},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.prepare(t)
			before := outboxOf(t, s, id)
			code := access.NewRegistrationCode()
			err := s.NewRegistrationCode(t.Context(), actor, id, "reissued", code, testNow.Add(time.Hour), invitation(code, testNow))
			if !tt.wantErr(err) {
				t.Fatalf("got %v", err)
			}
			if after := outboxOf(t, s, id); !reflect.DeepEqual(statuses(after), statuses(before)) {
				t.Errorf("got outbox %v, want it unchanged %v", statuses(after), statuses(before))
			}
			if _, err := register(s, t, code, 11); !errors.Is(err, access.ErrRegistration) {
				t.Errorf("the refused code registers: %v", err)
			}
		})
	}
}

func TestRevokeCredential(t *testing.T) {
	s := openStore(t)
	u := createUser(t, s, "Hob", "Stone", "hob@example.com")
	code := access.NewRegistrationCode()
	c := assign(t, s, u.ID, code)
	for range 2 {
		if err := s.RevokeCredential(t.Context(), actor, c.ID); err != nil {
			t.Fatalf("revoke: %v", err)
		}
	}
	if got := credentialByID(t, s, c.ID).Status; got != access.CredentialRevoked {
		t.Errorf("got %s, want revoked", got)
	}
	mails := outboxOf(t, s, c.ID)
	if len(mails) != 1 || mails[0].Status != "cancelled" || mails[0].Message != "" {
		t.Errorf("got %s, want the invitation cancelled and emptied", brief(mails...))
	}
	if _, err := register(s, t, code, 1); !errors.Is(err, access.ErrRegistration) {
		t.Errorf("got %v, want ErrRegistration", err)
	}
	var revoked int
	for _, e := range allEvents(t, s) {
		if e.Kind == "credential.revoked" && e.CredentialID == c.ID.String() && e.UserID == u.ID && e.Actor == actor {
			revoked++
		}
	}
	if revoked != 1 {
		t.Errorf("got %d credential.revoked events, want 1", revoked)
	}
	if err := s.RevokeCredential(t.Context(), actor, access.NewCredentialID()); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("unknown credential: got %v, want ErrNotFound", err)
	}
}

func TestOutboxMarks(t *testing.T) {
	s := openStore(t)
	now := movableClock(s)
	u := createUser(t, s, "Ida", "Finch", "ida@example.com")
	code := access.NewRegistrationCode()
	c := assign(t, s, u.ID, code)
	id := outboxOf(t, s, c.ID)[0].ID

	due, err := s.DueOutbox(t.Context(), testNow, 10)
	if err != nil || len(due) != 1 || due[0].ID != id || !strings.Contains(due[0].Message, code) {
		t.Fatalf("got due %s (%v), want the invitation with its code", brief(due...), err)
	}
	next := testNow.Add(time.Minute)
	if err := s.MarkOutboxFailed(t.Context(), id, testNow, "connect: connection refused", next, false); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueOutbox(t.Context(), testNow, 10); len(due) != 0 {
		t.Errorf("got %d due before the retry time, want 0", len(due))
	}
	it := outboxOf(t, s, c.ID)[0]
	if it.Status != "queued" || it.Attempts != 1 || it.LastError != "connect: connection refused" || !it.NextAttempt.Equal(next) {
		t.Errorf("got %s, want queued after 1 attempt", brief(it))
	}

	sentAt := next.Add(time.Second)
	if err := s.MarkOutboxSent(t.Context(), id, sentAt); err != nil {
		t.Fatal(err)
	}
	it = outboxOf(t, s, c.ID)[0]
	if it.Status != "sent" || it.Attempts != 2 || it.LastError != "" || it.Message != "" || !it.SentAt.Equal(sentAt) {
		t.Errorf("got %s, want sent after 2 attempts, body and error forgotten", brief(it))
	}
	if due, _ := s.DueOutbox(t.Context(), sentAt.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("got %d due after sending, want 0", len(due))
	}
	var sentEvent bool
	for _, e := range allEvents(t, s) {
		sentEvent = sentEvent || (e.Kind == "invitation.sent" && e.CredentialID == c.ID.String())
	}
	if !sentEvent {
		t.Error("no invitation.sent event names the credential")
	}

	// A failed email comes back with RetryMail, due at once.
	mid, err := s.QueueMail(t.Context(), actor, store.Mail{Kind: "test", Recipient: "ida@example.com", Subject: "test", Message: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RetryMail(t.Context(), actor, mid); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("retry a queued email: got %v, want ErrNotFound", err)
	}
	if err := s.MarkOutboxFailed(t.Context(), mid, testNow, "550 no", time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	*now = testNow.Add(time.Hour)
	if err := s.RetryMail(t.Context(), actor, mid); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueOutbox(t.Context(), *now, 10)
	if len(due) != 1 || due[0].ID != mid || due[0].Attempts != 1 {
		t.Errorf("got due %s, want the retried email", brief(due...))
	}
	for _, bad := range []func() error{
		func() error { return s.MarkOutboxSent(t.Context(), 999, testNow) },
		func() error { return s.MarkOutboxFailed(t.Context(), 999, testNow, "x", testNow, false) },
		func() error { return s.RetryMail(t.Context(), actor, 999) },
	} {
		if err := bad(); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("unknown email: got %v, want ErrNotFound", err)
		}
	}
}

// TestCodesNeverStored: once invitations are sent or cancelled, no
// registration code is anywhere in the database: not in a column, not in
// the file's free pages.
func TestCodesNeverStored(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	s.SetClock(func() time.Time { return testNow })
	ctx := t.Context()
	u := createUser(t, s, "Jan", "Moor", "jan@example.com")

	var codes []string
	newCode := func() string { c := access.NewRegistrationCode(); codes = append(codes, c); return c }
	// Sent, registered.
	c := assign(t, s, u.ID, newCode())
	sendAll := func() {
		t.Helper()
		due, err := s.DueOutbox(ctx, testNow.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range due {
			if err := s.MarkOutboxSent(ctx, d.ID, testNow); err != nil {
				t.Fatal(err)
			}
		}
	}
	sendAll()
	if _, err := register(s, t, codes[0], 1); err != nil {
		t.Fatal(err)
	}
	// Reissued, failed once, then sent.
	code := newCode()
	if err := s.NewRegistrationCode(ctx, actor, c.ID, "reissued", code, testNow.Add(time.Hour), invitation(code, testNow)); err != nil {
		t.Fatal(err)
	}
	for _, it := range outboxOf(t, s, c.ID) {
		if it.Status == "queued" {
			if err := s.MarkOutboxFailed(ctx, it.ID, testNow, "421 try later", testNow, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	sendAll()
	// Reissued and cancelled by a revocation before it was sent.
	code = newCode()
	if err := s.NewRegistrationCode(ctx, actor, c.ID, "reissued", code, testNow.Add(time.Hour), invitation(code, testNow)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeCredential(ctx, actor, c.ID); err != nil {
		t.Fatal(err)
	}
	// Another user's invitation, replaced by a resend (cancelled), and
	// the resend sent.
	other := createUser(t, s, "Kay", "Dunn", "kay@example.com")
	oc := assign(t, s, other.ID, newCode())
	code = newCode()
	if err := s.NewRegistrationCode(ctx, actor, oc.ID, "resent", code, testNow.Add(time.Hour), invitation(code, testNow)); err != nil {
		t.Fatal(err)
	}
	sendAll()

	// Every value of every table, read through SQL.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.FileName)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	cells := 0
	for _, table := range names {
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var b []byte
				switch v := v.(type) {
				case string:
					b = []byte(v)
				case []byte:
					b = v
				}
				cells++
				for _, code := range codes {
					if holdsCode(b, code) {
						t.Errorf("%s.%s holds a registration code", table, cols[i])
					}
				}
			}
		}
		rows.Close()
	}
	db.Close()
	if cells < 50 {
		t.Fatalf("read only %d values, want the whole database", cells)
	}

	// The files themselves, once the store is closed.
	closed = true
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, store.FileName+"*"))
	if len(files) == 0 {
		t.Fatal("no database file")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, code := range codes {
			if holdsCode(raw, code) {
				t.Errorf("%s holds registration code #%d in its raw bytes", filepath.Base(f), i+1)
			}
		}
	}
}

// holdsCode reports whether b holds code whole, in the email's groups of
// four, or its second half (a code split across a line).
func holdsCode(b []byte, code string) bool {
	grouped := code[0:4]
	for i := 4; i < len(code); i += 4 {
		grouped += " " + code[i:i+4]
	}
	return bytes.Contains(b, []byte(code)) || bytes.Contains(b, []byte(grouped)) || bytes.Contains(b, []byte(code[16:]))
}

// TestInvitationCancelledWhileSending: the worker took an invitation, then
// the admin replaced its code; the failed attempt must not put the
// cancelled email back in the queue.
func TestInvitationCancelledWhileSending(t *testing.T) {
	tests := []struct {
		name      string
		permanent bool
	}{
		{"temporary failure", false},
		{"permanent failure", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			u := createUser(t, s, "Lou", "Reed", "lou@example.com")
			c := assign(t, s, u.ID, access.NewRegistrationCode())
			due, err := s.DueOutbox(t.Context(), testNow, 10)
			if err != nil || len(due) != 1 {
				t.Fatalf("got %d due (%v), want 1", len(due), err)
			}
			code := access.NewRegistrationCode()
			if err := s.NewRegistrationCode(t.Context(), actor, c.ID, "resent", code, testNow.Add(time.Hour), invitation(code, testNow)); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkOutboxFailed(t.Context(), due[0].ID, testNow, "421 busy", testNow, tt.permanent); err != nil {
				t.Fatal(err)
			}
			if got := statuses(outboxOf(t, s, c.ID)); !reflect.DeepEqual(got, []string{"cancelled", "queued"}) {
				t.Errorf("got %v, want [cancelled queued]", got)
			}
			if due, _ := s.DueOutbox(t.Context(), testNow.Add(time.Hour), 10); len(due) != 1 || !strings.Contains(due[0].Message, code) {
				t.Errorf("got %d due, want only the new invitation", len(due))
			}
		})
	}
}

// TestDeleteUserCancelsInvitations: a deleted user's codes are gone, so
// their waiting invitations must not go out.
func TestDeleteUserCancelsInvitations(t *testing.T) {
	s := openStore(t)
	gone := createUser(t, s, "Max", "Bell", "max@example.com")
	stays := createUser(t, s, "Ned", "Cole", "ned@example.com")
	c := assign(t, s, gone.ID, access.NewRegistrationCode())
	kept := assign(t, s, stays.ID, access.NewRegistrationCode())
	if err := s.DeleteUser(t.Context(), actor, gone.ID); err != nil {
		t.Fatal(err)
	}
	if got := outboxOf(t, s, c.ID); len(got) != 1 || got[0].Status != "cancelled" || got[0].Message != "" {
		t.Errorf("got %v (body emptied: %v), want the deleted user's invitation cancelled and emptied", statuses(got), len(got) == 1 && got[0].Message == "")
	}
	if got := statuses(outboxOf(t, s, kept.ID)); !reflect.DeepEqual(got, []string{"queued"}) {
		t.Errorf("got %v for the other user's invitation, want [queued]", got)
	}
}
