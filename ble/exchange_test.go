package ble

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
)

// The tests in this file run the site's half of the exchange (SiteExchange)
// against a real store, with honest and hostile keys on the other end of a
// Pipe or of the simulated air. Hostile keys are written with the protocol
// package directly: they are what a modified app could send.

func TestExchangeHonestKeyGranted(t *testing.T) {
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "sim:front", nil)
	ann := f.register(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: ap.ID})

	// The reader must have the decision on disk before it tells the key:
	// check the store at the moment the result is sent, and again when the
	// key has read it.
	var atSend int
	f.readerLink = func(l Link) Link {
		return &sendHook{Link: l, before: func(n int) {
			if n == 2 {
				atSend = f.grantedEvents()
			}
		}}
	}
	var atRead int
	key := func(ctx context.Context, l Link) (protocol.Result, error) {
		res, err := honest(f.keyFor(ann), false)(ctx, l)
		atRead = f.grantedEvents()
		return res, err
	}
	p := f.present(ap, -48, key)
	if p.err != nil || p.keyErr != nil {
		t.Fatalf("exchange: %v; key: %v", p.err, p.keyErr)
	}
	if !p.result.Granted || p.result.Reason != protocol.ReasonGranted {
		t.Fatalf("got result %+v, want granted", p.result)
	}
	if atSend != 1 || atRead != 1 {
		t.Errorf("access.granted events when the result was sent: %d, when the key read it: %d; want 1 and 1", atSend, atRead)
	}
	checkEvent(t, p.only(t), "access.granted", "granted", ap, ann.cred.ID.String(), ann.user.ID, -48)
	if got := recv(t, f.door.pulses, "the door pulse"); got.ID != ap.ID {
		t.Errorf("pulsed access point %d, want %d", got.ID, ap.ID)
	}
	c, err := f.st.CredentialByID(f.ctx, ann.cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastUsedAt.IsZero() {
		t.Error("the credential's last use was not recorded")
	}
}

func TestExchangeDecisions(t *testing.T) {
	f := newSiteFixture(t)
	wed, mon := time.Wednesday, time.Monday
	front := f.accessPoint("Front door", "sim:front", nil)
	vault := f.accessPoint("Vault", "sim:vault", func(a *access.AccessPoint) { a.RequireUnlock = true })
	gate := f.accessPoint("Gate", "sim:gate", func(a *access.AccessPoint) { a.State = access.StateLockdown })
	lab := f.accessPoint("Lab", "sim:lab", nil)
	office := f.accessPoint("Office", "sim:office", nil)
	storeRoom := f.accessPoint("Store room", "sim:store", nil)
	mondays := f.profile("Mondays", mon)
	wednesdays := f.profile("Wednesdays", wed)

	annUser := f.user("Ann")
	for _, ap := range []access.AccessPoint{front, vault, gate} {
		f.permit(access.Permission{UserID: annUser.ID, AccessPointID: ap.ID})
	}
	f.permit(access.Permission{UserID: annUser.ID, AccessPointID: lab.ID, TimeProfileID: mondays.ID})
	f.permit(access.Permission{UserID: annUser.ID, AccessPointID: office.ID, TimeProfileID: wednesdays.ID})
	ann := f.register(annUser)

	// Bob's second credential is invited and never registered; his first
	// is revoked. Both would open the front door otherwise.
	bobUser := f.user("Bob")
	f.permit(access.Permission{UserID: bobUser.ID, AccessPointID: front.ID})
	bobRevoked := f.register(bobUser)
	if err := f.st.RevokeCredential(f.ctx, "test", bobRevoked.cred.ID); err != nil {
		t.Fatal(err)
	}
	bobInvited, _ := f.invite(bobUser)

	// A key the site has never heard of, signing properly with its own key.
	stranger := holder{cred: access.Credential{ID: access.NewCredentialID()}}
	stranger.keys, _ = softkey.NewKeys()
	// A key holding the invited credential's id, with keys of its own.
	squatter := holder{cred: bobInvited}
	squatter.keys, _ = softkey.NewKeys()

	tests := []struct {
		name     string
		ap       access.AccessPoint
		key      holder
		unlocked bool
		want     protocol.Reason
		wantUser int64 // on the event: only for a key that proved who it is
	}{
		{name: "granted", ap: front, key: ann, want: protocol.ReasonGranted, wantUser: ann.user.ID},
		{name: "unknown credential", ap: front, key: stranger, want: protocol.ReasonUnknownCredential},
		{name: "invited, not registered", ap: front, key: squatter, want: protocol.ReasonUnknownCredential},
		{name: "revoked", ap: front, key: bobRevoked, want: protocol.ReasonCredentialNotActive, wantUser: bobUser.ID},
		{name: "locked down", ap: gate, key: ann, want: protocol.ReasonLockedDown, wantUser: ann.user.ID},
		{name: "outside schedule", ap: lab, key: ann, want: protocol.ReasonOutsideSchedule, wantUser: ann.user.ID},
		{name: "inside schedule on the site's clock", ap: office, key: ann, want: protocol.ReasonGranted, wantUser: ann.user.ID},
		{name: "unlock required, tap key", ap: vault, key: ann, want: protocol.ReasonUnlockRequired, wantUser: ann.user.ID},
		{name: "unlock required, unlocked", ap: vault, key: ann, unlocked: true, want: protocol.ReasonGranted, wantUser: ann.user.ID},
		{name: "no permission", ap: storeRoom, key: ann, want: protocol.ReasonNoPermission, wantUser: ann.user.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			k := f.keyFor(tt.key)
			p := f.present(tt.ap, -52, honest(k, tt.unlocked))
			if p.err != nil || p.keyErr != nil {
				t.Fatalf("exchange: %v; key: %v", p.err, p.keyErr)
			}
			granted := tt.want == protocol.ReasonGranted
			if p.result.Granted != granted || p.result.Reason != tt.want {
				t.Errorf("got %v (%q), want %v", p.result.Reason, p.result.Message, tt.want)
			}
			kind := "access.denied"
			if granted {
				kind = "access.granted"
			}
			checkEvent(t, p.only(t), kind, tt.want.String(), tt.ap, tt.key.cred.ID.String(), tt.wantUser, -52)
			pulses := len(f.pulses())
			if granted && p.result.Granted {
				if pulses == 0 {
					recv(t, f.door.pulses, "the door pulse")
				}
			} else if pulses != 0 {
				t.Errorf("the door was pulsed %d times for a denial", pulses)
			}
		})
	}
	f.t = t

	// Presenting an invited credential's id proves nothing about its
	// holder: it must not count as a use of the credential.
	c, err := f.st.CredentialByID(f.ctx, bobInvited.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.LastUsedAt.IsZero() {
		t.Errorf("an invited credential got a last use (%v) from a key that could not prove it", c.LastUsedAt)
	}
}

func TestExchangeNoPermission(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "sim:front", nil)
	back := f.accessPoint("Back door", "sim:back", nil)
	ann := f.register(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: back.ID})
	p := f.present(front, -50, honest(f.keyFor(ann), false))
	if p.err != nil || p.keyErr != nil {
		t.Fatalf("exchange: %v; key: %v", p.err, p.keyErr)
	}
	if p.result.Granted || p.result.Reason != protocol.ReasonNoPermission {
		t.Fatalf("got %+v, want no permission", p.result)
	}
	checkEvent(t, p.only(t), "access.denied", "no permission", front, ann.cred.ID.String(), ann.user.ID, -50)
}

func TestExchangeResultMessageCutOnARune(t *testing.T) {
	// The name is cut for the key's screen; it must not be cut inside a
	// character.
	f := newSiteFixture(t)
	name := strings.Repeat("a", 39) + "é door"
	ap := f.accessPoint(name, "sim:front", nil)
	ann := f.register(f.user("Ann"))
	p := f.present(ap, -50, honest(f.keyFor(ann), false))
	if p.err != nil || p.keyErr != nil {
		t.Fatalf("exchange: %v; key: %v", p.err, p.keyErr)
	}
	if want := "No permission for " + strings.Repeat("a", 39); p.result.Message != want {
		t.Errorf("got message %q, want %q", p.result.Message, want)
	}
}

// replayKey sends a recorded response instead of answering.
func replayKey(recorded []byte) keySide {
	return answering(func(*protocol.Challenge) ([]byte, *protocol.Session, error) { return recorded, nil, nil })
}

func TestExchangeReplayedResponse(t *testing.T) {
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "sim:front", nil)
	ann := f.register(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: ap.ID})

	// An eavesdropper records an honest exchange...
	var tap *sendTap
	var challenge []byte
	p := f.present(ap, -50, func(ctx context.Context, l Link) (protocol.Result, error) {
		tap = &sendTap{Link: &recvHook{Link: l, after: func(n int, m []byte) []byte {
			if n == 1 {
				challenge = bytes.Clone(m)
			}
			return m
		}}}
		return honest(f.keyFor(ann), false)(ctx, tap)
	})
	if p.err != nil || p.keyErr != nil || !p.result.Granted {
		t.Fatalf("the honest exchange: %v, key %v, result %+v", p.err, p.keyErr, p.result)
	}
	recorded := tap.messages()
	if len(recorded) != 1 {
		t.Fatalf("the key sent %d messages, want 1", len(recorded))
	}
	recv(t, f.door.pulses, "the honest key's door pulse")

	// ...and plays the response back to the reader's next challenge.
	p = f.present(ap, -50, replayKey(recorded[0]))
	if p.err != nil {
		t.Fatalf("exchange: %v", p.err)
	}
	if !errors.Is(p.keyErr, io.EOF) {
		t.Errorf("the replaying key got %+v, %v; want no result (EOF)", p.result, p.keyErr)
	}
	checkEvent(t, p.only(t), "access.rejected", "decrypt", ap, "", 0, -50)
	if n := f.grantedEvents(); n != 1 {
		t.Errorf("%d access.granted events, want only the honest one", n)
	}
	if n := len(f.pulses()); n != 0 {
		t.Errorf("the door was pulsed %d times for a replay", n)
	}

	// The answered challenge itself does not take the response again.
	ch, err := protocol.ParseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.x.Pending.Open(ch.Nonce, recorded[0]); !errors.Is(err, protocol.ErrReplayed) {
		t.Errorf("the same response to its own challenge again: got %v, want ErrReplayed", err)
	}
}

func TestExchangeLateAnswer(t *testing.T) {
	tests := []struct {
		name        string
		delay       time.Duration
		wantGranted bool
	}{
		{name: "well within the deadline", delay: fixtureDeadline / 2, wantGranted: true},
		{name: "past the deadline", delay: fixtureDeadline + time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSiteFixture(t)
			ap := f.accessPoint("Front door", "sim:front", nil)
			ann := f.register(f.user("Ann"))
			f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: ap.ID})
			// The key answers honestly, only after delay on the reader's clock.
			k := f.keyFor(ann)
			p := f.present(ap, -50, func(ctx context.Context, l Link) (protocol.Result, error) {
				slow := &recvHook{Link: l, after: func(n int, m []byte) []byte {
					if n == 1 {
						f.clock.advance(tt.delay)
					}
					return m
				}}
				return honest(k, false)(ctx, slow)
			})
			if p.err != nil {
				t.Fatalf("exchange: %v", p.err)
			}
			e := p.only(t)
			if tt.wantGranted {
				if p.keyErr != nil || !p.result.Granted {
					t.Fatalf("got %+v, %v; want granted", p.result, p.keyErr)
				}
				checkEvent(t, e, "access.granted", "granted", ap, ann.cred.ID.String(), ann.user.ID, -50)
				return
			}
			if !errors.Is(p.keyErr, ErrNoResult) {
				t.Errorf("the late key got %+v, %v; want no result (ErrNoResult)", p.result, p.keyErr)
			}
			checkEvent(t, e, "access.rejected", "late", ap, "", 0, -50)
			if n := f.grantedEvents(); n != 0 {
				t.Errorf("%d access.granted events for a late answer", n)
			}
		})
	}
}

func TestExchangeFlippedResponseBytes(t *testing.T) {
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "sim:front", nil)
	ann := f.register(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: ap.ID})
	credID := protocol.CredentialID(ann.cred.ID)
	ch, _, err := protocol.NewChallenge(nil, f.site.Key, protocol.SiteID(f.site.ID), ReaderID(f.site.ID, ap.Reader), 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sample, _, err := protocol.Respond(nil, ch, credID, ann.keys.Tap, false)
	if err != nil {
		t.Fatal(err)
	}
	size := len(sample)

	codes := map[string]int{}
	for i := range size {
		p := f.present(ap, -50, answering(func(ch *protocol.Challenge) ([]byte, *protocol.Session, error) {
			resp, sess, err := protocol.Respond(nil, ch, credID, ann.keys.Tap, false)
			if err != nil {
				return nil, nil, err
			}
			resp[i] ^= 0xff
			return resp, sess, nil
		}))
		if p.err != nil {
			t.Fatalf("byte %d: exchange: %v", i, p.err)
		}
		if p.result.Granted {
			t.Errorf("byte %d flipped: granted", i)
		}
		if len(p.events) != 1 || p.events[0].Kind != "access.rejected" {
			t.Errorf("byte %d flipped: events %+v, want one access.rejected", i, p.events)
			continue
		}
		codes[p.events[0].Reason]++
	}
	if n := f.grantedEvents(); n != 0 {
		t.Errorf("%d access.granted events from tampered responses", n)
	}
	if n := len(f.pulses()); n != 0 {
		t.Errorf("the door was pulsed %d times", n)
	}
	t.Logf("%d bytes flipped one at a time, refused as %v", size, codes)
}

func TestExchangeTamperedChallengeVersions(t *testing.T) {
	strip := func(m []byte) []byte {
		// Drop the version list: count 0, and the one version byte gone.
		return append([]byte{m[0], 0}, m[3:]...)
	}
	rewrite := func(m []byte) []byte {
		m = bytes.Clone(m)
		m[2] = 2
		return m
	}
	prepend := func(m []byte) []byte {
		// [1] becomes [2 1]: what a reader of a later release would send.
		return append([]byte{m[0], 2, 2}, m[2:]...)
	}
	tests := []struct {
		name   string
		tamper func([]byte) []byte
		known  bool // the key knows the site (its home), or is lax and does not
		// wantKey is the key's refusal; when it is nil the key answers and
		// the reader must refuse with wantReader.
		wantKey    error
		wantReader string
	}{
		{name: "list stripped, home site", tamper: strip, known: true, wantKey: protocol.ErrMalformed},
		{name: "list stripped, lax key", tamper: strip, wantKey: protocol.ErrMalformed},
		{name: "version rewritten, home site", tamper: rewrite, known: true, wantKey: protocol.ErrBadSignature},
		{name: "version rewritten, lax key", tamper: rewrite, wantKey: protocol.ErrUnsupportedVersion},
		{name: "version added, home site", tamper: prepend, known: true, wantKey: protocol.ErrBadSignature},
		{name: "version added, lax key", tamper: prepend, wantReader: "decrypt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSiteFixture(t)
			ap := f.accessPoint("Front door", "sim:front", nil)
			ann := f.register(f.user("Ann"))
			f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: ap.ID})
			k := f.keyFor(ann)
			if !tt.known {
				k.Sites, k.Strict = nil, false
			}
			p := f.present(ap, -50, func(ctx context.Context, l Link) (protocol.Result, error) {
				mitm := &recvHook{Link: l, after: func(n int, m []byte) []byte {
					if n == 1 {
						return tt.tamper(m)
					}
					return m
				}}
				return honest(k, false)(ctx, mitm)
			})
			if p.result.Granted {
				t.Fatal("granted through a tampered challenge")
			}
			if tt.wantKey != nil {
				if !errors.Is(p.keyErr, tt.wantKey) {
					t.Errorf("the key: got %v, want %v", p.keyErr, tt.wantKey)
				}
				// The key hung up without answering: no decision to log.
				if !errors.Is(p.err, io.EOF) || len(p.events) != 0 {
					t.Errorf("the reader: got %v and events %+v, want the key gone (EOF) and no event", p.err, p.events)
				}
				return
			}
			if p.err != nil {
				t.Fatalf("exchange: %v", p.err)
			}
			checkEvent(t, p.only(t), "access.rejected", tt.wantReader, ap, "", 0, -50)
		})
	}
}

func TestExchangeUserVerifiedClaimedWithTapKey(t *testing.T) {
	for _, requireUnlock := range []bool{true, false} {
		t.Run(fmt.Sprintf("require unlock %v", requireUnlock), func(t *testing.T) {
			f := newSiteFixture(t)
			ap := f.accessPoint("Vault", "sim:vault", func(a *access.AccessPoint) { a.RequireUnlock = requireUnlock })
			ann := f.register(f.user("Ann"))
			f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: ap.ID})
			p := f.present(ap, -50, answering(func(ch *protocol.Challenge) ([]byte, *protocol.Session, error) {
				// The flag says "unlocked"; the signature is the tap key's.
				return protocol.Respond(nil, ch, protocol.CredentialID(ann.cred.ID), ann.keys.Tap, true)
			}))
			if p.err != nil {
				t.Fatalf("exchange: %v", p.err)
			}
			if p.keyErr != nil || p.result.Granted || p.result.Reason != protocol.ReasonNotProcessed {
				t.Errorf("the key got %+v, %v; want not processed", p.result, p.keyErr)
			}
			checkEvent(t, p.only(t), "access.rejected", "bad_signature", ap, ann.cred.ID.String(), 0, -50)
			if n := f.grantedEvents(); n != 0 {
				t.Errorf("%d access.granted events", n)
			}
		})
	}
}

func TestExchangeAnotherCredentialsID(t *testing.T) {
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "sim:front", nil)
	ann := f.register(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: ap.ID})
	// Mallory is registered too (so her keys are real site keys), but has
	// no permission; she claims to be Ann.
	mallory := f.register(f.user("Mallory"))
	for _, unlocked := range []bool{false, true} {
		t.Run(fmt.Sprintf("unlocked %v", unlocked), func(t *testing.T) {
			f.t = t
			signer := mallory.keys.Tap
			if unlocked {
				signer = mallory.keys.UV
			}
			p := f.present(ap, -50, answering(func(ch *protocol.Challenge) ([]byte, *protocol.Session, error) {
				return protocol.Respond(nil, ch, protocol.CredentialID(ann.cred.ID), signer, unlocked)
			}))
			if p.err != nil {
				t.Fatalf("exchange: %v", p.err)
			}
			if p.result.Granted {
				t.Fatal("granted to a key signing for another credential")
			}
			checkEvent(t, p.only(t), "access.rejected", "bad_signature", ap, ann.cred.ID.String(), 0, -50)
		})
	}
	f.t = t
	if n := f.grantedEvents(); n != 0 {
		t.Errorf("%d access.granted events", n)
	}
	if n := len(f.pulses()); n != 0 {
		t.Errorf("the door was pulsed %d times", n)
	}
	c, err := f.st.CredentialByID(f.ctx, ann.cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.LastUsedAt.IsZero() {
		t.Error("Ann's credential got a last use from Mallory's key")
	}
}

func TestExchangeStrangersChallenge(t *testing.T) {
	// A strict key refuses a reader of a site it does not know; it never
	// sends its credential id there.
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "sim:front", nil)
	ann := f.register(f.user("Ann"))
	k := f.keyFor(ann)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k.Sites = map[protocol.SiteID]*ecdsa.PublicKey{{1}: &other.PublicKey}
	p := f.present(ap, -50, honest(k, false))
	if !errors.Is(p.keyErr, ErrUnknownSite) {
		t.Errorf("the key: got %v, want ErrUnknownSite", p.keyErr)
	}
	if !errors.Is(p.err, io.EOF) || len(p.events) != 0 {
		t.Errorf("the reader: got %v and events %+v, want the key gone and no event", p.err, p.events)
	}
}
