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
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata" // the site's zone below must load on any machine

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/store"
)

// The tests in this file run the site's half of the exchange (SiteExchange)
// against a real store, with honest and hostile keys on the other end of a
// Pipe or of the simulated air. Hostile keys are written with the protocol
// package directly: they are what a modified app could send.

// siteZone is the site's time zone in these tests. It is far from UTC, so a
// schedule read on the wrong clock shows.
const siteZone = "Pacific/Auckland"

// wednesdayNoon is when the exchanges happen: Wednesday 8 January 2025, at
// noon on the site's clock (Tuesday 23:00 UTC).
func wednesdayNoon(t testing.TB) time.Time {
	loc, err := time.LoadLocation(siteZone)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(2025, 1, 8, 12, 0, 0, 0, loc)
}

// testClock is the exchange's clock: a fixed base that moves on with real
// time (so latencies are real), plus a skew a test adds to play a key that
// answers late.
type testClock struct {
	base, start time.Time
	skew        atomic.Int64
}

func (c *testClock) now() time.Time {
	return c.base.Add(time.Since(c.start) + time.Duration(c.skew.Load()))
}

func (c *testClock) advance(d time.Duration) { c.skew.Add(int64(d)) }

// recordingDoor counts the pulses the exchange asks for.
type recordingDoor struct{ pulses chan DoorInfo }

func (d *recordingDoor) Pulse(ctx context.Context, ap DoorInfo, open time.Duration) error {
	d.pulses <- ap
	return nil
}

// fixtureDeadline is the response deadline of the fixture's exchange. It is
// generous: only TestExchangeLateAnswer is about the deadline, and it moves
// the clock rather than waiting.
const fixtureDeadline = 10 * time.Second

// siteFixture is a site: a migrated store with its identity, and the
// exchange its readers run.
type siteFixture struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	site  access.Site
	x     *SiteExchange
	clock *testClock
	door  *recordingDoor
	// readerLink, when set, wraps the reader's end of each Pipe.
	readerLink func(Link) Link
	users      int
}

func newSiteFixture(t *testing.T) *siteFixture {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	site, err := st.Site(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetSetting(ctx, "test", "time_zone", siteZone); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{base: wednesdayNoon(t), start: time.Now()}
	door := &recordingDoor{pulses: make(chan DoorInfo, 1024)}
	x := &SiteExchange{Store: st, Door: door, Pending: protocol.NewPending(clock.now, fixtureDeadline), Now: clock.now, Log: slog.New(slog.DiscardHandler)}
	return &siteFixture{t: t, ctx: ctx, st: st, site: site, x: x, clock: clock, door: door}
}

func (f *siteFixture) accessPoint(name, reader string, edit func(*access.AccessPoint)) access.AccessPoint {
	f.t.Helper()
	ap := access.AccessPoint{Name: name, Reader: reader}
	if edit != nil {
		edit(&ap)
	}
	if err := f.st.CreateAccessPoint(f.ctx, "test", &ap); err != nil {
		f.t.Fatalf("create access point %s: %v", name, err)
	}
	return ap
}

func (f *siteFixture) user(first string) access.User {
	f.t.Helper()
	f.users++
	u := access.User{FirstName: first, LastName: "Tester", Email: fmt.Sprintf("user%d@example.com", f.users), Enabled: true}
	if err := f.st.CreateUser(f.ctx, "test", &u); err != nil {
		f.t.Fatalf("create user %s: %v", first, err)
	}
	return u
}

// profile makes a time profile open 09:00-17:00 on days.
func (f *siteFixture) profile(name string, days ...time.Weekday) access.TimeProfile {
	f.t.Helper()
	p := access.TimeProfile{Name: name, Windows: []access.Window{{Days: days, Start: 9 * 60, End: 17 * 60}}}
	if err := f.st.CreateTimeProfile(f.ctx, "test", &p); err != nil {
		f.t.Fatalf("create time profile %s: %v", name, err)
	}
	return p
}

func (f *siteFixture) permit(p access.Permission) {
	f.t.Helper()
	if err := f.st.CreatePermission(f.ctx, "test", &p); err != nil {
		f.t.Fatalf("create permission %+v: %v", p, err)
	}
}

// inviteCredential assigns a Smart credential to u, as the admin pages do,
// and returns it with its registration code.
func inviteCredential(ctx context.Context, st *store.Store, u access.User) (access.Credential, string, error) {
	code := access.NewRegistrationCode()
	c, err := st.AssignCredential(ctx, "test", u.ID, code, time.Now().Add(24*time.Hour), func(c access.Credential, u access.User) (store.Mail, error) {
		return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "Your Smart credential", Message: "{}"}, nil
	})
	return c, code, err
}

// holder is a registered credential and the device keys behind it.
type holder struct {
	cred access.Credential
	user access.User
	keys softkey.Keys
}

// registerHolder assigns a credential to u and registers fresh device keys
// with its code, as `postern key register` does through the key API.
func registerHolder(ctx context.Context, st *store.Store, u access.User) (holder, error) {
	_, code, err := inviteCredential(ctx, st, u)
	if err != nil {
		return holder{}, fmt.Errorf("assign credential: %w", err)
	}
	keys, err := softkey.NewKeys()
	if err != nil {
		return holder{}, err
	}
	tap, err := protocol.MarshalPublicKey(&keys.Tap.PublicKey)
	if err != nil {
		return holder{}, err
	}
	uv, err := protocol.MarshalPublicKey(&keys.UV.PublicKey)
	if err != nil {
		return holder{}, err
	}
	c, _, err := st.RegisterCredential(ctx, access.Registration{Code: code, TapKey: tap, UVKey: uv, DeviceInfo: "test key"})
	if err != nil {
		return holder{}, fmt.Errorf("register credential: %w", err)
	}
	return holder{cred: c, user: u, keys: keys}, nil
}

// invite assigns a Smart credential and returns it with its code, not yet
// registered.
func (f *siteFixture) invite(u access.User) (access.Credential, string) {
	f.t.Helper()
	c, code, err := inviteCredential(f.ctx, f.st, u)
	if err != nil {
		f.t.Fatalf("assign credential: %v", err)
	}
	return c, code
}

// register assigns a credential to u and registers fresh device keys.
func (f *siteFixture) register(u access.User) holder {
	f.t.Helper()
	h, err := registerHolder(f.ctx, f.st, u)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// keyFor is the honest key of h: strict, knowing only this site.
func (f *siteFixture) keyFor(h holder) KeyCredential {
	uv := h.keys.UV
	return KeyCredential{
		ID:     protocol.CredentialID(h.cred.ID),
		Tap:    h.keys.Tap,
		UV:     func() (*ecdsa.PrivateKey, error) { return uv, nil },
		Sites:  map[protocol.SiteID]*ecdsa.PublicKey{protocol.SiteID(f.site.ID): &f.site.Key.PublicKey},
		Strict: true,
	}
}

// keySide plays the key on its end of the link and returns the result it
// read, or why it has none.
type keySide func(ctx context.Context, l Link) (protocol.Result, error)

func honest(k KeyCredential, unlocked bool) keySide {
	return func(ctx context.Context, l Link) (protocol.Result, error) {
		out, err := PresentKey(ctx, l, k, unlocked)
		return out.Result, err
	}
}

// answering is a hand-made key: it answers the challenge with what respond
// makes of it, then reads the result, if the reader sends one.
func answering(respond func(ch *protocol.Challenge) ([]byte, *protocol.Session, error)) keySide {
	return func(ctx context.Context, l Link) (protocol.Result, error) {
		raw, err := l.Recv(ctx)
		if err != nil {
			return protocol.Result{}, err
		}
		ch, err := protocol.ParseChallenge(raw)
		if err != nil {
			return protocol.Result{}, err
		}
		resp, sess, err := respond(ch)
		if err != nil {
			return protocol.Result{}, err
		}
		if err := l.Send(ctx, resp); err != nil {
			return protocol.Result{}, err
		}
		msg, err := l.Recv(ctx)
		if err != nil {
			return protocol.Result{}, err
		}
		if sess == nil {
			return protocol.Result{}, fmt.Errorf("the reader answered a response it should have refused (%d bytes)", len(msg))
		}
		return protocol.OpenResult(sess, msg)
	}
}

// presentation is what one exchange left behind.
type presentation struct {
	err    error           // Exchange's own error: the link or the store, never a decision
	result protocol.Result // what the key read
	keyErr error           // why the key read no result
	events []access.Event  // events the exchange wrote, oldest first
}

// present runs one exchange at ap: the site's half here, key on the other
// end of a Pipe.
func (f *siteFixture) present(ap access.AccessPoint, rssi int, key keySide) presentation {
	f.t.Helper()
	before, err := f.st.LastEventID(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(f.ctx, guard)
	defer cancel()
	readerEnd, keyEnd := Pipe()
	type keyDone struct {
		res protocol.Result
		err error
	}
	done := make(chan keyDone, 1)
	go func() {
		defer keyEnd.Close()
		res, err := key(ctx, keyEnd)
		done <- keyDone{res, err}
	}()
	var link Link = readerEnd
	if f.readerLink != nil {
		link = f.readerLink(readerEnd)
	}
	var p presentation
	p.err = f.x.Exchange(ctx, ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader}, Candidate{Addr: "40:00:00:00:00:01", RSSI: rssi}, link)
	readerEnd.Close() // as the reader loop does once Exchange returns
	kd := recv(f.t, done, "the key to finish")
	p.result, p.keyErr = kd.res, kd.err
	p.events, err = f.st.EventsAfter(f.ctx, before, store.MaxLimit)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// only returns the one event an exchange wrote.
func (p presentation) only(t *testing.T) access.Event {
	t.Helper()
	if len(p.events) != 1 {
		t.Fatalf("the exchange wrote %d events (%+v), want 1", len(p.events), p.events)
	}
	return p.events[0]
}

// checkEvent checks what every event of a presentation carries: the access
// point, the credential, the user when known, the RSSI and a positive
// latency.
func checkEvent(t *testing.T, e access.Event, kind, reason string, ap access.AccessPoint, cred string, userID int64, rssi int) {
	t.Helper()
	if e.Kind != kind || e.Reason != reason {
		t.Errorf("got event %s %q, want %s %q (detail %q)", e.Kind, e.Reason, kind, reason, e.Detail)
	}
	if e.AccessPointID != ap.ID {
		t.Errorf("event access point %d, want %d", e.AccessPointID, ap.ID)
	}
	if e.CredentialID != cred {
		t.Errorf("event credential %q, want %q", e.CredentialID, cred)
	}
	if e.UserID != userID {
		t.Errorf("event user %d, want %d", e.UserID, userID)
	}
	if e.RSSI != rssi {
		t.Errorf("event RSSI %d, want %d", e.RSSI, rssi)
	}
	if e.Latency <= 0 {
		t.Errorf("event latency %v, want a positive latency", e.Latency)
	}
	if want := "reader:" + ap.Reader; e.Actor != want {
		t.Errorf("event actor %q, want %q", e.Actor, want)
	}
}

// pulses drains the door pulses asked for so far.
func (f *siteFixture) pulses() []DoorInfo {
	var out []DoorInfo
	for {
		select {
		case p := <-f.door.pulses:
			out = append(out, p)
		default:
			return out
		}
	}
}

// sendHook is a reader-side Link that calls before ahead of each message
// the reader sends (1 for the challenge, 2 for the result).
type sendHook struct {
	Link
	n      int
	before func(n int)
}

func (l *sendHook) Send(ctx context.Context, msg []byte) error {
	l.n++
	l.before(l.n)
	return l.Link.Send(ctx, msg)
}

// recvHook is a key-side Link that calls after on each message the key
// receives, and may rewrite it (a man in the middle).
type recvHook struct {
	Link
	n     int
	after func(n int, msg []byte) []byte
}

func (l *recvHook) Recv(ctx context.Context) ([]byte, error) {
	m, err := l.Link.Recv(ctx)
	if err != nil {
		return m, err
	}
	l.n++
	return l.after(l.n, m), nil
}

// sendTap is a key-side Link that keeps a copy of what the key sends, as an
// eavesdropper on the air would.
type sendTap struct {
	Link
	mu   sync.Mutex
	sent [][]byte
}

func (l *sendTap) Send(ctx context.Context, msg []byte) error {
	l.mu.Lock()
	l.sent = append(l.sent, bytes.Clone(msg))
	l.mu.Unlock()
	return l.Link.Send(ctx, msg)
}

func (l *sendTap) messages() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent
}

// grantedEvents counts the access.granted events; -1 if the store fails.
// It is safe to call from the key's goroutine.
func (f *siteFixture) grantedEvents() int {
	evs, _, err := f.st.Events(f.ctx, access.EventFilter{Kind: "access.granted", Limit: store.MaxLimit})
	if err != nil {
		return -1
	}
	return len(evs)
}

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
	name := strings.Repeat("a", 59) + "é door"
	ap := f.accessPoint(name, "sim:front", nil)
	ann := f.register(f.user("Ann"))
	p := f.present(ap, -50, honest(f.keyFor(ann), false))
	if p.err != nil || p.keyErr != nil {
		t.Fatalf("exchange: %v; key: %v", p.err, p.keyErr)
	}
	if want := "No permission for " + strings.Repeat("a", 59); p.result.Message != want {
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

// ---- the reader loop with the site's exchange, over the simulated air

// runSiteReader runs a Reader with ex on the air until the test ends.
func runSiteReader(t *testing.T, a *Air, cfg ReaderConfig, ex Exchanger, rec *recorder) {
	t.Helper()
	r, err := NewReader(a.Radio(), cfg, ReaderOptions{Exchanger: ex, Hooks: rec.hooks()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := recv(t, done, "the reader to stop"); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	b, _ := ParseBinding(cfg.Binding)
	if err := a.WaitReader(guardCtx(t), b.Reader); err != nil {
		t.Fatal(err)
	}
}

// presentOverAir is a key joining the air at a reader and presenting.
func presentOverAir(ctx context.Context, addr string, p Presence, k KeyCredential) (KeyOutcome, error) {
	ap, err := DialAir(ctx, addr, p)
	if err != nil {
		return KeyOutcome{}, err
	}
	defer ap.Close()
	l, err := ap.Link(ctx)
	if err != nil {
		return KeyOutcome{}, err
	}
	return PresentKey(ctx, l, k, false)
}

// crowd registers n holders with a permission at ap through one group.
func (f *siteFixture) crowd(n int, ap access.AccessPoint) []holder {
	f.t.Helper()
	g := access.Group{Name: "Staff"}
	if err := f.st.CreateGroup(f.ctx, "test", &g); err != nil {
		f.t.Fatal(err)
	}
	f.permit(access.Permission{GroupID: g.ID, AccessPointID: ap.ID})
	hs := make([]holder, n)
	for i := range hs {
		u := f.user(fmt.Sprintf("Staff%03d", i))
		if err := f.st.SetUserGroups(f.ctx, "test", u.ID, []int64{g.ID}); err != nil {
			f.t.Fatal(err)
		}
		hs[i] = f.register(u)
	}
	return hs
}

func TestSiteReaderSilentKeyDoesNotStopOthers(t *testing.T) {
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "sim:front", nil)
	const honestKeys = 20
	holders := f.crowd(honestKeys, ap)
	a, addr := startAir(t, AirOptions{})
	rec := newRecorder()
	// Two slots and a limit far beyond the test: if the silent key could
	// stall the reader, the honest keys would all wait behind it.
	runSiteReader(t, a, ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader, MaxConcurrent: 2, ExchangeTimeout: time.Hour}, f.x, rec)
	ctx := guardCtx(t)

	silent, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -40})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if _, err := silent.Link(ctx); err != nil {
		t.Fatalf("the silent key was not taken up: %v", err)
	}
	// It never reads the challenge nor answers.

	type res struct {
		i   int
		out KeyOutcome
		err error
	}
	results := make(chan res, honestKeys)
	for i, h := range holders {
		go func() {
			out, err := presentOverAir(ctx, addr, Presence{Reader: "front", RSSI: -50}, f.keyFor(h))
			results <- res{i, out, err}
		}()
	}
	for range honestKeys {
		r := recv(t, results, "the honest keys' results")
		if r.err != nil || !r.out.Result.Granted {
			t.Errorf("key %d: %+v, %v; want granted", r.i, r.out.Result, r.err)
		}
	}
	for range honestKeys {
		o := recv(t, rec.finished, "the honest exchanges to finish")
		if o.addr == silent.Addr() {
			t.Fatalf("the silent key's exchange ended (%v) before the honest ones", o.err)
		}
		if o.err != nil {
			t.Errorf("exchange with %s: %v", o.addr, o.err)
		}
	}
	if n := f.grantedEvents(); n != honestKeys {
		t.Errorf("%d access.granted events, want %d", n, honestKeys)
	}
}

func TestSiteReaderHundredKeys(t *testing.T) {
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "sim:front", nil)
	const keys = 100
	holders := f.crowd(keys, ap)
	a, addr := startAir(t, AirOptions{})
	rec := newRecorder()
	m := NewManager(ManagerOptions{Radios: map[string]Radio{RadioSim: a.Radio()}, Exchanger: f.x, Hooks: rec.hooks()})
	t.Cleanup(func() { m.Close() })
	// The hard limit is a guard only: a crowd of a hundred on two shared
	// cores must not be cut off for being slow.
	if err := m.Sync([]ReaderConfig{{ID: ap.ID, Name: ap.Name, Binding: ap.Reader, ExchangeTimeout: 2 * guard}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*guard)
	defer cancel()
	if err := a.WaitReader(ctx, "front"); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, keys)
	for i, h := range holders {
		wg.Go(func() {
			out, err := presentOverAir(ctx, addr, Presence{Reader: "front", RSSI: -45 - i%15}, f.keyFor(h))
			switch {
			case err != nil:
				errs <- fmt.Errorf("key %d: %w", i, err)
			case !out.Result.Granted:
				errs <- fmt.Errorf("key %d: got %v, want granted", i, out.Result.Reason)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	evs, _, err := f.st.Events(f.ctx, access.EventFilter{Kind: "access.granted", AccessPointID: ap.ID, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	perCred := map[string]int{}
	for _, e := range evs {
		perCred[e.CredentialID]++
		if e.Latency <= 0 || e.UserID == 0 || e.RSSI == 0 {
			t.Errorf("event %+v lacks its latency, user or RSSI", e)
		}
	}
	if len(evs) != keys || len(perCred) != keys {
		t.Errorf("%d access.granted events for %d credentials, want %d for %d", len(evs), len(perCred), keys, keys)
	}
}

func TestSiteReaderWeakSignal(t *testing.T) {
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "sim:front", nil) // direct: -60 dBm
	hs := f.crowd(1, ap)
	a, addr := startAir(t, AirOptions{})
	rec := newRecorder()
	runSiteReader(t, a, ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader, Mode: ap.Mode, RSSIThreshold: ap.RSSIThreshold}, f.x, rec)
	ctx := guardCtx(t)

	far, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -90})
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	if s := recv(t, rec.skipped, "the weak key to be skipped"); s.addr != far.Addr() || s.why != SkipWeakSignal {
		t.Fatalf("got skip %+v, want %s skipped for weak signal", s, far.Addr())
	}
	// The key gives up on its own: nobody takes it up.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := far.Link(short); !errors.Is(err, ErrNotTakenUp) {
		t.Fatalf("the weak key: got %v, want ErrNotTakenUp", err)
	}
	select {
	case o := <-rec.finished:
		t.Fatalf("an exchange ran (%+v) for a key below the threshold", o)
	default:
	}
	evs, _, err := f.st.Events(f.ctx, access.EventFilter{Kind: "access.", Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 {
		t.Errorf("got events %+v for a key never taken up, want none", evs)
	}

	// The same reader takes a key in range up.
	out, err := presentOverAir(ctx, addr, Presence{Reader: "front", RSSI: -50}, f.keyFor(hs[0]))
	if err != nil || !out.Result.Granted {
		t.Fatalf("a key in range: %+v, %v; want granted", out.Result, err)
	}
}
