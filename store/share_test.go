package store_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// The store's half of "Add credential to new site": QueueShare at the
// issuing site, ImportCredential at the receiving one.

const (
	shareLimit  = 5
	shareWindow = 24 * time.Hour
)

// shareKeys is a device's two public keys; the store keeps them as given.
func shareKeys(seed byte) (tap, uv []byte) {
	tap, uv = bytes.Repeat([]byte{seed}, 65), bytes.Repeat([]byte{seed ^ 0xff}, 65)
	tap[0], uv[0] = 4, 4
	return tap, uv
}

// shareInvite stands in for the invitation email.
func shareInvite(c access.Credential, u access.User) (store.Mail, error) {
	return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "Your key", Message: "{}"}, nil
}

// shareStore is a store whose clock the test moves.
func shareStore(t *testing.T) (*store.Store, *time.Time) {
	t.Helper()
	s := openStore(t)
	now := testNow
	s.SetClock(func() time.Time { return now })
	return s, &now
}

// assignedCredential is a Smart credential assigned to a new user, not yet
// registered.
func assignedCredential(t *testing.T, s *store.Store, first, email string) (access.User, access.Credential) {
	t.Helper()
	u := createUser(t, s, first, "Lee", email)
	c, err := s.AssignCredential(t.Context(), actor, u.ID, access.NewRegistrationCode(), testNow.Add(24*time.Hour), shareInvite)
	if err != nil {
		t.Fatalf("assign: %v", err)
	}
	return u, c
}

// activeCredential is a user's Smart credential with a device registered.
func activeCredential(t *testing.T, s *store.Store, first string, seed byte) (access.User, access.Credential) {
	t.Helper()
	u := createUser(t, s, first, "Lee", strings.ToLower(first)+"@alpha.example")
	code := access.NewRegistrationCode()
	if _, err := s.AssignCredential(t.Context(), actor, u.ID, code, testNow.Add(24*time.Hour), shareInvite); err != nil {
		t.Fatalf("assign: %v", err)
	}
	tap, uv := shareKeys(seed)
	c, _, err := s.RegisterCredential(t.Context(), access.Registration{Code: code, TapKey: tap, UVKey: uv, DeviceInfo: "phone"})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return u, c
}

// shareMail composes the share email to, remembering what it was given.
type shareMail struct {
	to    string
	calls int
	cred  access.Credential
	user  access.User
	err   error // returned instead of a mail
}

func (m *shareMail) compose(c access.Credential, u access.User) (store.Mail, error) {
	m.calls++
	m.cred, m.user = c, u
	if m.err != nil {
		return store.Mail{}, m.err
	}
	return store.Mail{Kind: "share", Recipient: m.to, Subject: "Add a credential: " + u.Name(), Message: `{"text":"postern-credential:x.y"}`}, nil
}

// sharesOf lists the share emails queued for a credential.
func sharesOf(t *testing.T, s *store.Store, id access.CredentialID) []store.OutboxItem {
	t.Helper()
	items, _, err := s.Outbox(t.Context(), 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.OutboxItem
	for _, it := range items {
		if it.Kind == "share" && strings.EqualFold(it.CredentialID, id.String()) {
			out = append(out, it)
		}
	}
	return out
}

func eventsOfKind(t *testing.T, s *store.Store, kind string) []access.Event {
	t.Helper()
	var out []access.Event
	for _, e := range allEvents(t, s) {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// One credential's share requests in order: each row sets the store's
// clock and sends a request stamped at.
func TestQueueShare(t *testing.T) {
	s, now := shareStore(t)
	ann, cred := activeCredential(t, s, "Ann", 1)
	t0 := testNow
	boom := errors.New("cannot compose")
	steps := []struct {
		name      string
		clock     time.Time
		at        time.Time
		compose   error
		wantErr   error
		wantMails int
	}{
		{name: "first", clock: t0, at: t0, wantMails: 1},
		{name: "the same time again", clock: t0.Add(time.Second), at: t0, wantErr: store.ErrShareReplayed, wantMails: 1},
		{name: "an older time", clock: t0.Add(time.Second), at: t0.Add(-time.Millisecond), wantErr: store.ErrShareReplayed, wantMails: 1},
		{name: "the mail cannot be composed", clock: t0.Add(3 * time.Second), at: t0.Add(3 * time.Second), compose: boom, wantErr: boom, wantMails: 1},
		// Had the failure above kept its time, this earlier one would be a replay.
		{name: "older than the failed one", clock: t0.Add(3 * time.Second), at: t0.Add(2 * time.Second), wantMails: 2},
		{name: "third", clock: t0.Add(4 * time.Second), at: t0.Add(4 * time.Second), wantMails: 3},
		{name: "fourth", clock: t0.Add(5 * time.Second), at: t0.Add(5 * time.Second), wantMails: 4},
		{name: "fifth", clock: t0.Add(6 * time.Second), at: t0.Add(6 * time.Second), wantMails: 5},
		{name: "sixth in the day", clock: t0.Add(10 * time.Second), at: t0.Add(10 * time.Second), wantErr: store.ErrShareLimit, wantMails: 5},
		{name: "a millisecond before the first is a day old", clock: t0.Add(shareWindow - time.Millisecond), at: t0.Add(7 * time.Second), wantErr: store.ErrShareLimit, wantMails: 5},
		// The refused requests kept no time either: 8s is after the last
		// accepted one (6s), if before the refused ones (7s, 10s).
		{name: "the first is a day old", clock: t0.Add(shareWindow), at: t0.Add(8 * time.Second), wantMails: 6},
		{name: "the second is not", clock: t0.Add(shareWindow + time.Second), at: t0.Add(9 * time.Second), wantErr: store.ErrShareLimit, wantMails: 6},
		{name: "a replay is a replay, whatever the limit", clock: t0.Add(shareWindow + time.Second), at: t0.Add(8 * time.Second), wantErr: store.ErrShareReplayed, wantMails: 6},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			*now = tt.clock
			m := &shareMail{to: "admin@bravo.example", err: tt.compose}
			err := s.QueueShare(t.Context(), cred.ID, tt.at, shareLimit, shareWindow, m.compose)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if got := len(sharesOf(t, s, cred.ID)); got != tt.wantMails {
				t.Errorf("got %d share emails, want %d", got, tt.wantMails)
			}
			if got := len(eventsOfKind(t, s, "credential.shared")); got != tt.wantMails {
				t.Errorf("got %d credential.shared events, want %d", got, tt.wantMails)
			}
			wantCalls := 0
			if tt.wantErr == nil || tt.wantErr == boom {
				wantCalls = 1
			}
			if m.calls != wantCalls {
				t.Errorf("compose called %d times, want %d", m.calls, wantCalls)
			}
			if m.calls > 0 && (m.cred.ID != cred.ID || m.user.ID != ann.ID || len(m.cred.TapKey) != 65) {
				t.Errorf("compose got credential %s of user %d, want %s of user %d with its keys", m.cred.ID, m.user.ID, cred.ID, ann.ID)
			}
		})
	}

	mails := sharesOf(t, s, cred.ID)
	if len(mails) == 0 {
		t.Fatal("no share emails")
	}
	if it := mails[0]; it.Recipient != "admin@bravo.example" || it.Status != "queued" || !it.CreatedAt.Equal(t0.Add(shareWindow)) {
		t.Errorf("got newest share email %+v, want queued to admin@bravo.example at %s", it, t0.Add(shareWindow))
	}
	e := eventsOfKind(t, s, "credential.shared")[0]
	if e.Actor != "key" || e.UserID != ann.ID || e.CredentialID != cred.ID.String() || !strings.Contains(e.Detail, "admin@bravo.example") {
		t.Errorf("got event %+v, want the key sharing %s of user %d to admin@bravo.example", e, cred.ID, ann.ID)
	}
}

// The limit counts each credential's own shares and honours the limit and
// window it is given.
func TestQueueShareLimitIsPerCredential(t *testing.T) {
	s, now := shareStore(t)
	_, ann := activeCredential(t, s, "Ann", 1)
	_, bob := activeCredential(t, s, "Bob", 2)
	m := &shareMail{to: "admin@bravo.example"}
	queue := func(id access.CredentialID, at time.Time) error {
		return s.QueueShare(t.Context(), id, at, 2, time.Hour, m.compose)
	}
	for i := range 2 {
		if err := queue(ann.ID, testNow.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("share %d: %v", i+1, err)
		}
	}
	if err := queue(ann.ID, testNow.Add(2*time.Second)); !errors.Is(err, store.ErrShareLimit) {
		t.Errorf("third share within the hour: got %v, want %v", err, store.ErrShareLimit)
	}
	if err := queue(bob.ID, testNow.Add(2*time.Second)); err != nil {
		t.Errorf("another credential: got %v, want it queued", err)
	}
	*now = testNow.Add(time.Hour + time.Millisecond)
	if err := queue(ann.ID, testNow.Add(3*time.Second)); err != nil {
		t.Errorf("an hour later: got %v, want it queued", err)
	}
	if got := len(sharesOf(t, s, ann.ID)); got != 3 {
		t.Errorf("got %d share emails for Ann, want 3", got)
	}
}

// Only this site's own active credentials may be shared.
func TestQueueShareRefusals(t *testing.T) {
	s, now := shareStore(t)
	ctx := t.Context()
	_, revoked := activeCredential(t, s, "Rex", 1)
	if err := s.RevokeCredential(ctx, actor, revoked.ID); err != nil {
		t.Fatal(err)
	}
	_, invited := assignedCredential(t, s, "Ivy", "ivy@alpha.example")
	_, expired := assignedCredential(t, s, "Eve", "eve@alpha.example")
	ida := createUser(t, s, "Ida", "Visitor", "")
	tap, uv := shareKeys(9)
	imported := access.Credential{ID: access.NewCredentialID(), TapKey: tap, UVKey: uv, DeviceInfo: "added from Charlie Yard",
		Issuer: access.IssuerSite{ID: [16]byte{0xc}, Name: "Charlie Yard", URL: "https://charlie.example", Key: tap}}
	if err := s.ImportCredential(ctx, actor, ida.ID, imported); err != nil {
		t.Fatal(err)
	}
	*now = testNow.Add(25 * time.Hour) // Eve's code has run out

	tests := []struct {
		name    string
		id      access.CredentialID
		wantErr error
	}{
		{"revoked", revoked.ID, store.ErrShareRevoked},
		{"imported from another site", imported.ID, store.ErrShareImported},
		{"invited, no device yet", invited.ID, store.ErrShareRevoked},
		{"invitation expired", expired.ID, store.ErrShareRevoked},
		{"unknown", access.NewCredentialID(), access.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &shareMail{to: "admin@bravo.example"}
			err := s.QueueShare(ctx, tt.id, *now, shareLimit, shareWindow, m.compose)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if m.calls != 0 {
				t.Errorf("compose called %d times, want 0", m.calls)
			}
			if got := len(sharesOf(t, s, tt.id)); got != 0 {
				t.Errorf("got %d share emails, want 0", got)
			}
		})
	}
	if got := len(eventsOfKind(t, s, "credential.shared")); got != 0 {
		t.Errorf("got %d credential.shared events, want 0", got)
	}
}

func TestImportCredential(t *testing.T) {
	s, now := shareStore(t)
	ctx := t.Context()
	ida := createUser(t, s, "Ida", "Visitor", "")
	other := createUser(t, s, "Otto", "Other", "")
	_, local := activeCredential(t, s, "Ann", 1)
	tap, uv := shareKeys(9)
	siteKey, _ := shareKeys(12)
	in := access.Credential{ID: access.NewCredentialID(), TapKey: tap, UVKey: uv, DeviceInfo: "added from Alpha Works",
		Issuer: access.IssuerSite{ID: [16]byte{0xa, 1}, Name: "Alpha Works", URL: "https://doors.alpha.example", Key: siteKey}}
	*now = testNow.Add(time.Hour)

	if err := s.ImportCredential(ctx, actor, ida.ID, in); err != nil {
		t.Fatalf("import: %v", err)
	}
	got, err := s.CredentialByID(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != ida.ID || got.Kind != "smart" || got.Status != access.CredentialActive || got.DeviceInfo != in.DeviceInfo ||
		!bytes.Equal(got.TapKey, tap) || !bytes.Equal(got.UVKey, uv) {
		t.Errorf("got %+v, want Ida's active Smart credential with the token's keys", got)
	}
	if got.Issuer.ID != in.Issuer.ID || got.Issuer.Name != in.Issuer.Name || got.Issuer.URL != in.Issuer.URL || !bytes.Equal(got.Issuer.Key, siteKey) {
		t.Errorf("got issuer %+v, want %+v", got.Issuer, in.Issuer)
	}
	if !got.CreatedAt.Equal(*now) || !got.RegisteredAt.Equal(*now) {
		t.Errorf("got created %s, registered %s, want both %s", got.CreatedAt, got.RegisteredAt, *now)
	}
	if creds, err := s.UserCredentials(ctx, ida.ID); err != nil || len(creds) != 1 || creds[0].ID != in.ID {
		t.Errorf("got Ida's credentials %v (%v), want the imported one", creds, err)
	}
	evs := eventsOfKind(t, s, "credential.imported")
	if len(evs) != 1 {
		t.Fatalf("got %d credential.imported events, want 1", len(evs))
	}
	if e := evs[0]; e.Actor != actor || e.UserID != ida.ID || e.CredentialID != in.ID.String() ||
		!strings.Contains(e.Detail, "Alpha Works") || !strings.Contains(e.Detail, "Ida Visitor") {
		t.Errorf("got event %+v, want %s importing %s for Ida Visitor from Alpha Works", e, actor, in.ID)
	}

	clash := in
	clash.ID = local.ID
	tests := []struct {
		name     string
		userID   int64
		c        access.Credential
		conflict bool
		notFound bool
	}{
		{name: "the same credential again", userID: ida.ID, c: in, conflict: true},
		{name: "the same credential to another user", userID: other.ID, c: in, conflict: true},
		{name: "the id of one of ours", userID: other.ID, c: clash, conflict: true},
		{name: "unknown user", userID: 99999, c: access.Credential{ID: access.NewCredentialID(), TapKey: tap, UVKey: uv, Issuer: in.Issuer}, notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ImportCredential(ctx, actor, tt.userID, tt.c)
			if tt.conflict && !isConflict(err) {
				t.Errorf("got %v, want a conflict", err)
			}
			if tt.notFound && !errors.Is(err, access.ErrNotFound) {
				t.Errorf("got %v, want %v", err, access.ErrNotFound)
			}
			if _, err := s.CredentialByID(ctx, tt.c.ID); tt.notFound && !errors.Is(err, access.ErrNotFound) {
				t.Errorf("the refused credential was stored: %v", err)
			}
		})
	}
	if creds, _ := s.UserCredentials(ctx, other.ID); len(creds) != 0 {
		t.Errorf("Otto holds %d credentials, want 0", len(creds))
	}
	if c, _ := s.CredentialByID(ctx, local.ID); c.UserID == other.ID || c.Issuer.Name != "" || !bytes.Equal(c.TapKey, local.TapKey) {
		t.Errorf("our own credential was changed by a clashing import: %+v", c)
	}
	if got := len(eventsOfKind(t, s, "credential.imported")); got != 1 {
		t.Errorf("got %d credential.imported events, want 1", got)
	}
	if err := s.ImportCredential(ctx, actor, ida.ID, in); err == nil || !strings.Contains(err.Error(), "already been added") {
		t.Errorf("got %v, want a message saying it was already added", err)
	}

	// From now on it is this site's credential: it revokes it, but only
	// its issuer sends it new codes.
	if err := s.NewRegistrationCode(ctx, actor, in.ID, "reissued", access.NewRegistrationCode(), now.Add(time.Hour), shareInvite); !isConflict(err) {
		t.Errorf("reissue of an imported credential: got %v, want a conflict", err)
	}
	if err := s.RevokeCredential(ctx, actor, in.ID); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.CredentialByID(ctx, in.ID); c.Status != access.CredentialRevoked {
		t.Errorf("got %s after revoking, want revoked", c.Status)
	}
}
