package ble

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// The reader loop with the site's exchange, over the simulated air.

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
	runAirReader(t, a, ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader, MaxConcurrent: 2, ExchangeTimeout: time.Hour}, f.x, rec)
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
	runAirReader(t, a, ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader, Mode: ap.Mode, RSSIThreshold: ap.RSSIThreshold}, f.x, rec)
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
