package fleet_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"postern/access"
	"postern/fleet"
	"postern/fleet/fleettest"
	"postern/store"
)

// site is a hub with one user, Ann, whose registered credential opens
// the door "Front" at reader door1.
type site struct {
	st    *store.Store
	hub   *fleet.Hub
	ann   access.User
	cred  access.CredentialID
	front access.AccessPoint
}

// testLog writes the fleet's log to the test's.
func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	return openStoreIn(t, t.TempDir())
}

func openStoreIn(t testing.TB, data string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// registeredCredential gives u an active credential with stand-in keys.
func registeredCredential(t testing.TB, st *store.Store, u access.User, code string) access.CredentialID {
	t.Helper()
	ctx := t.Context()
	mail := func(access.Credential, access.User) (store.Mail, error) {
		return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "key", Message: "{}"}, nil
	}
	c, err := st.AssignCredential(ctx, "test", u.ID, code, time.Now().Add(time.Hour), mail)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.RegisterCredential(ctx, access.Registration{Code: code, TapKey: []byte{4, 1}, UVKey: []byte{4, 2}}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func startSite(t testing.TB) *site {
	t.Helper()
	ctx := t.Context()
	s := &site{st: openStore(t)}
	if _, err := s.st.Site(ctx); err != nil {
		t.Fatal(err)
	}
	s.ann = access.User{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com", Enabled: true}
	if err := s.st.CreateUser(ctx, "test", &s.ann); err != nil {
		t.Fatal(err)
	}
	s.front = access.AccessPoint{Name: "Front", Reader: "door1/sim:front"}
	if err := s.st.CreateAccessPoint(ctx, "test", &s.front); err != nil {
		t.Fatal(err)
	}
	if err := s.st.CreatePermission(ctx, "test", &access.Permission{UserID: s.ann.ID, AccessPointID: s.front.ID}); err != nil {
		t.Fatal(err)
	}
	s.cred = registeredCredential(t, s.st, s.ann, "12341234123412341234123412341234")
	var err error
	s.hub, err = fleet.StartHub(ctx, fleet.HubConfig{Store: s.st, Dir: t.TempDir(), Listen: "127.0.0.1:0", Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.hub.Close() })
	return s
}

// addReader creates a reader on the hub and returns its enrolment token.
func (s *site) addReader(t testing.TB, name string) string {
	t.Helper()
	secret := fleet.NewTokenSecret()
	r, err := s.st.CreateFleetReader(t.Context(), "test", name, secret, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return fleet.FormatToken(r.ID, secret, s.hub.Fingerprint())
}

type reader struct {
	st    *store.Store
	data  string // the folder of st
	dir   string
	node  *fleet.Node
	proxy *fleettest.Proxy
}

// startReader enrols a reader through a proxy of its own and waits for
// its first copy of the policy.
func (s *site) startReader(t testing.TB, token string) *reader {
	t.Helper()
	p, err := fleettest.NewProxy(s.hub.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	r := &reader{data: t.TempDir(), dir: t.TempDir(), proxy: p}
	r.st = openStoreIn(t, r.data)
	r.node, err = fleet.StartNode(t.Context(), fleet.NodeConfig{Store: r.st, Dir: r.dir, Hub: p.Addr(), Token: token, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.node.Close)
	select {
	case <-r.node.Synced():
	case <-time.After(20 * time.Second):
		t.Fatal("the reader never got the policy")
	}
	return r
}

// decide is the reader's decision for a credential at an access point.
func (r *reader) decide(t testing.TB, cred access.CredentialID, ap access.AccessPoint) access.Decision {
	t.Helper()
	in, err := r.node.Store().PresentationInputs(t.Context(), cred, ap)
	if err != nil {
		t.Fatal(err)
	}
	in.Now = time.Now()
	return access.Decide(in)
}

// eventually polls cond every 10 ms up to limit and returns how long it
// took, failing the test if it never held.
func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// remoteEvents counts the hub's events that came from readers.
func remoteEvents(t testing.TB, st *store.Store) int {
	t.Helper()
	n := 0
	before := int64(0)
	for {
		evs, next, err := st.Events(t.Context(), access.EventFilter{Kind: "access.", Limit: 200, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.UID != "" {
				n++
			}
		}
		if next == 0 {
			return n
		}
		before = next
	}
}

func record(t testing.TB, r *reader, ap access.AccessPoint, n int) {
	t.Helper()
	for i := range n {
		e := &access.Event{Kind: "access.granted", Actor: "reader:" + ap.Reader, AccessPointID: ap.ID, Detail: fmt.Sprint(i)}
		if err := r.node.Store().RecordDecision(context.Background(), e, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// backGuard is how long a test waits for a reader's events to reach the
// hub once the reader is back: the hub restarts its source on the reader's
// first status from a new connection (every 2 s), well within it, rather
// than leave it to nats-server's source back-off (up to 2 minutes).
const backGuard = 10 * time.Second

func TestReaderFollowsThePolicyAndHandsInItsEventsAcrossACut(t *testing.T) {
	s := startSite(t)
	r := s.startReader(t, s.addReader(t, "door1"))
	ctx := t.Context()

	// Synced promises the site's identity; the rest of the first copy may
	// still be arriving on a loaded machine.
	eventually(t, 30*time.Second, "Ann is let in from the copied policy", func() bool { return r.decide(t, s.cred, s.front).Granted })
	if _, err := r.st.Site(ctx); err != nil {
		t.Fatal(err)
	}
	hubSite, _ := s.st.Site(ctx)
	if readerSite, _ := r.st.Site(ctx); readerSite.ID != hubSite.ID {
		t.Errorf("the reader's site is %x, want the hub's %x", readerSite.ID, hubSite.ID)
	}

	// A second credential, revoked before the cut.
	bob := access.User{FirstName: "Bob", LastName: "Ray", Email: "bob@example.com", Enabled: true}
	if err := s.st.CreateUser(ctx, "test", &bob); err != nil {
		t.Fatal(err)
	}
	if err := s.st.CreatePermission(ctx, "test", &access.Permission{UserID: bob.ID, AccessPointID: s.front.ID}); err != nil {
		t.Fatal(err)
	}
	bobCred := registeredCredential(t, s.st, bob, "55556666555566665555666655556666")
	eventually(t, 10*time.Second, "Bob's new credential reaches the reader", func() bool { return r.decide(t, bobCred, s.front).Granted })
	if err := s.st.RevokeCredential(ctx, "test", bobCred); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 10*time.Second, "a revocation reaches a connected reader", func() bool {
		return r.decide(t, bobCred, s.front).Reason == access.ReasonCredentialNotActive
	})
	t.Logf("revocation reached the connected reader in %v", took)

	record(t, r, s.front, 30)
	eventually(t, 20*time.Second, "30 events reach the hub", func() bool { return remoteEvents(t, s.st) == 30 })

	r.proxy.Cut()
	eventually(t, 5*time.Second, "the reader sees the link down", func() bool { return !r.node.Connected() })
	// Offline: Ann still opens from the cached policy; Bob stays refused.
	if d := r.decide(t, s.cred, s.front); !d.Granted {
		t.Errorf("Ann offline: got %v, want granted", d.Reason)
	}
	if d := r.decide(t, bobCred, s.front); d.Granted {
		t.Errorf("Bob offline: granted, want refused (revoked before the cut)")
	}
	if err := s.st.RevokeCredential(ctx, "test", s.cred); err != nil {
		t.Fatal(err)
	}
	record(t, r, s.front, 20)
	time.Sleep(300 * time.Millisecond)
	if d := r.decide(t, s.cred, s.front); !d.Granted {
		t.Errorf("Ann before the link heals: got %v, want still granted (the reader cannot know)", d.Reason)
	}
	r.proxy.Heal()
	took = eventually(t, 10*time.Second, "a revocation made during the cut reaches the reader after it heals", func() bool {
		return r.decide(t, s.cred, s.front).Reason == access.ReasonCredentialNotActive
	})
	t.Logf("revocation made during the cut applied %v after healing", took)
	took = eventually(t, backGuard, "all 50 events reach the hub", func() bool { return remoteEvents(t, s.st) >= 50 })
	t.Logf("the events recorded during the cut reached the hub %v after healing", took)
	time.Sleep(500 * time.Millisecond)
	if n := remoteEvents(t, s.st); n != 50 {
		t.Errorf("the hub has %d events from the reader, want exactly 50", n)
	}
	// Restarted on its own files, the reader finds its stream and the
	// hub's consumer as it left them, and goes on.
	r.node.Close()
	record(t, r, s.front, 5)
	var err error
	if r.node, err = fleet.StartNode(ctx, fleet.NodeConfig{Store: r.st, Dir: r.dir, Hub: r.proxy.Addr(), Log: testLog(t)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.node.Close)
	record(t, r, s.front, 5)
	// The hub's stream takes the reader's events by a JetStream source,
	// which nats-server retries with a growing back-off (5 s x 2 x fails,
	// at most 2 minutes); the hub restarts it as soon as it hears the
	// restarted reader, which it did not miss for long enough to call it
	// silent.
	took = eventually(t, backGuard, "all 60 events reach the hub", func() bool { return remoteEvents(t, s.st) >= 60 })
	t.Logf("the events of a reader restarted at once reached the hub in %v", took)
	time.Sleep(500 * time.Millisecond)
	if n := remoteEvents(t, s.st); n != 60 {
		t.Errorf("the hub has %d events from the reader, want exactly 60", n)
	}
	eventually(t, 10*time.Second, "the hub records the reader's status", func() bool {
		rs, err := s.st.FleetReaders(ctx)
		return err == nil && len(rs) == 1 && !rs[0].LastSeen.IsZero() && rs[0].PolicyLag == 0 && rs[0].EventsWaiting == 0
	})
}

func TestEnrolmentTokenIsSpentOnce(t *testing.T) {
	s := startSite(t)
	token := s.addReader(t, "door1")
	s.startReader(t, token)
	_, err := fleet.StartNode(t.Context(), fleet.NodeConfig{Store: openStore(t), Dir: t.TempDir(), Hub: s.hub.Addr(), Token: token, EnrolWait: 3 * time.Second})
	if err == nil {
		t.Fatal("a second board enrolled with a spent token")
	}
	bad := token[:len(token)-4] + "0000"
	if _, err := fleet.StartNode(t.Context(), fleet.NodeConfig{Store: openStore(t), Dir: t.TempDir(), Hub: s.hub.Addr(), Token: bad, EnrolWait: 3 * time.Second}); err == nil {
		t.Fatal("a reader enrolled pinning another key than the hub's")
	}
}

func TestOfflineLeaseRefusesAllButThoseAllowedOffline(t *testing.T) {
	s := startSite(t)
	ctx := t.Context()
	sam := access.User{FirstName: "Sam", LastName: "Guard", Email: "sam@example.com", Enabled: true, AllowedOffline: true}
	if err := s.st.CreateUser(ctx, "test", &sam); err != nil {
		t.Fatal(err)
	}
	if err := s.st.CreatePermission(ctx, "test", &access.Permission{UserID: sam.ID, AccessPointID: s.front.ID}); err != nil {
		t.Fatal(err)
	}
	samCred := registeredCredential(t, s.st, sam, "77778888777788887777888877778888")
	if err := s.st.SetSetting(ctx, "test", "offline_lease_days", "3"); err != nil {
		t.Fatal(err)
	}

	var offset atomic.Int64 // how far the reader's clock is ahead
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	p, err := fleettest.NewProxy(s.hub.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := &reader{st: openStore(t), dir: t.TempDir(), proxy: p}
	// A watchdog far shorter than a real one, so the cut below restarts
	// the reader's server a few times.
	r.node, err = fleet.StartNode(ctx, fleet.NodeConfig{Store: r.st, Dir: r.dir, Hub: p.Addr(), Token: s.addReader(t, "door1"),
		Log: testLog(t), Now: now, Watchdog: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.node.Close()
	<-r.node.Synced()
	eventually(t, 10*time.Second, "Sam's credential and the lease reach the reader", func() bool {
		v, _ := r.st.Setting(ctx, "offline_lease_days", "")
		return r.decide(t, samCred, s.front).Granted && v == "3"
	})

	p.Cut()
	eventually(t, 5*time.Second, "the reader sees the link down", func() bool { return !r.node.Connected() })
	tests := []struct {
		name     string
		ahead    time.Duration
		cred     access.CredentialID
		want     access.Reason
		wantOpen bool
	}{
		{"a day offline: Ann still opens", 24 * time.Hour, s.cred, access.ReasonGranted, true},
		{"past the lease: Ann is refused", 73 * time.Hour, s.cred, access.ReasonOfflineTooLong, false},
		{"past the lease: Sam, allowed offline, opens", 73 * time.Hour, samCred, access.ReasonGranted, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offset.Store(int64(tt.ahead))
			if d := r.decide(t, tt.cred, s.front); d.Granted != tt.wantOpen || d.Reason != tt.want {
				t.Errorf("got %v (%v), want %v", d.Granted, d.Reason, tt.want)
			}
		})
	}
	// Revoked during the cut, while the watchdog restarts the reader's
	// server: applied once the link is back, and the lease starts again.
	if err := s.st.RevokeCredential(ctx, "test", samCred); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	p.Heal()
	eventually(t, 30*time.Second, "the revocation after the watchdog's restarts", func() bool {
		return r.decide(t, samCred, s.front).Reason == access.ReasonCredentialNotActive
	})
	eventually(t, 10*time.Second, "a current reader lets Ann in again", func() bool { return r.decide(t, s.cred, s.front).Granted })
}
