package ble

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
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

// The site fixture the exchange tests share: a real store with a site,
// users, access points and registered keys, and keys honest or hostile.

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

// fixtureHelloWait is how long the fixture's reader waits for a version 2
// hello before it challenges as version 1. A Pipe delivers at once, so
// the wait only costs each version 1 presentation its length.
const fixtureHelloWait = 20 * time.Millisecond

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
	// phone, when set, is the address a web key opens from over the
	// network: presentations are then "open from this phone".
	phone string
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
	x := &SiteExchange{Store: st, Door: door, Pending: protocol.NewPending(clock.now, fixtureDeadline), Now: clock.now, Log: slog.New(slog.DiscardHandler),
		Deadline: fixtureDeadline, HelloWait: fixtureHelloWait}
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
	c := Candidate{Addr: "40:00:00:00:00:01", RSSI: rssi}
	if f.phone != "" {
		c = Candidate{Addr: f.phone, Phone: true}
	}
	p.err = f.x.Exchange(ctx, ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader}, c, link)
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
