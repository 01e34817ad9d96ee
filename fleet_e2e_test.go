package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"postern/fleet/fleettest"
	"postern/store"
)

// The test in this file runs a site as a building with remote readers
// would: a hub (`postern serve`) and three `postern reader` processes,
// each behind a TCP proxy the test can cut, each with its own simulated
// air that soft keys present on.

// remoteReader is a running `postern reader`.
type remoteReader struct {
	t     *testing.T
	name  string
	data  string
	air   string
	token string
	proxy *fleettest.Proxy
	cmd   *exec.Cmd

	mu  sync.Mutex
	out bytes.Buffer
}

func (r *remoteReader) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// start runs the reader and waits until its radios run.
func (r *remoteReader) start() {
	r.t.Helper()
	r.mu.Lock()
	r.out.Reset()
	r.mu.Unlock()
	r.cmd = exec.Command(binary, "reader", "--hub", r.proxy.Addr(), "--enrol", r.token, "--data", r.data, "--radio", "sim", "--air", r.air, "--log-level", "debug")
	w := writerFunc(func(p []byte) (int, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.out.Write(p)
	})
	r.cmd.Stdout, r.cmd.Stderr = w, w
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(r.output(), "postern reader is running") {
		if time.Now().After(deadline) || r.cmd.ProcessState != nil {
			r.t.Fatalf("reader %s did not start:\n%s", r.name, r.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the reader with SIGKILL, as a power cut would.
func (r *remoteReader) kill() {
	r.cmd.Process.Kill()
	r.cmd.Wait()
}

func (r *remoteReader) stop() {
	if r.cmd == nil || r.cmd.ProcessState != nil {
		return
	}
	r.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			r.t.Errorf("reader %s did not exit cleanly: %v\n%s", r.name, err, r.output())
		}
	case <-time.After(20 * time.Second):
		r.cmd.Process.Kill()
		r.t.Errorf("reader %s did not stop on SIGINT\n%s", r.name, r.output())
	}
}

// query runs a read-only query on the reader's own database while it runs.
func (r *remoteReader) query(q string, args ...any) int64 {
	r.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(r.data, store.FileName)+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		r.t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		r.t.Fatalf("reader %s: %s: %v", r.name, q, err)
	}
	return n
}

// revoked reports whether the reader's copy of the policy has credential
// id revoked.
func (r *remoteReader) revoked(id string) bool {
	return r.query(`SELECT count(*) FROM credentials WHERE lower(hex(id)) = ? AND status = 'revoked'`, id) == 1
}

// presentAt presents k at the reader and returns the exit code.
func (s *e2eSite) presentAt(k e2eKey, r *remoteReader, door string) int {
	// A version 2 key's secrets are sealed under its passphrase.
	_, _, code := postern(s.t, "", "key", "--state", k.state, "present", "--air", r.air, "--reader", door, "--pin-file", s.pin)
	return code
}

// hubEventsAt counts the hub's access events at an access point.
func (s *e2eSite) hubEventsAt(apID int64) int {
	s.t.Helper()
	n := 0
	before := ""
	for {
		var page struct {
			Events []e2eEvent
			Next   *string
		}
		q := fmt.Sprintf("/api/v1/events?limit=500&access_point=%d%s", apID, before)
		if got := api(s.t, s.a.url, s.token, "GET", q, nil, &page); got != 200 {
			s.t.Fatalf("GET %s: %d", q, got)
		}
		for _, e := range page.Events {
			if strings.HasPrefix(e.Kind, "access.") {
				n++
			}
		}
		if page.Next == nil {
			return n
		}
		before = "&before=" + *page.Next
	}
}

func TestRemoteReadersEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four processes for a minute")
	}
	hubData := t.TempDir()
	leaf := freeAddr(t)
	hub := startAppliance(t, hubData, "--fleet-listen", leaf)
	s := newE2ESite(t, hub)

	ann, bob, cat := s.user("Ann", "Lee"), s.user("Bob", "Ray"), s.user("Cat", "Ng")
	names := []string{"door1", "door2", "door3"}
	readers := make([]*remoteReader, len(names))
	aps := make([]int64, len(names))
	for i, name := range names {
		aps[i] = s.accessPoint("Door "+name[4:], name+"/sim:"+name)
		for _, u := range []int64{ann, bob, cat} {
			s.permit(map[string]any{"user_id": u, "access_point_id": aps[i]})
		}
	}
	annKey, bobKey, catKey := s.register(ann, "ann"), s.register(bob, "bob"), s.register(cat, "cat")

	for i, name := range names {
		var created struct {
			ID    int64
			Token string
		}
		s.call("POST", "/api/v1/readers", map[string]string{"name": name}, &created, 201)
		p, err := fleettest.NewProxy(leaf)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		readers[i] = &remoteReader{t: t, name: name, data: t.TempDir(), air: freeAddr(t), token: created.Token, proxy: p}
		readers[i].start()
		t.Cleanup(readers[i].stop)
	}

	// Online: every key opens every door.
	for i, r := range readers {
		for _, k := range []e2eKey{annKey, bobKey, catKey} {
			if code := s.presentAt(k, r, names[i]); code != 0 {
				t.Fatalf("%s at %s: exit %d, want granted\n%s", k.state, names[i], code, r.output())
			}
		}
	}

	// Bob is revoked while every link is up.
	s.call("POST", "/api/v1/credentials/"+bobKey.credID+"/revoke", nil, nil, 200)
	for _, r := range readers {
		waitFor(t, 10*time.Second, r.name+" has Bob's revocation", func() bool { return r.revoked(bobKey.credID) })
	}

	// Every link is cut: Ann still opens from the copy; Bob stays refused.
	for _, r := range readers {
		r.proxy.Cut()
	}
	for i, r := range readers {
		if code := s.presentAt(annKey, r, names[i]); code != 0 {
			t.Errorf("Ann at %s during the cut: exit %d, want granted from the reader's copy", names[i], code)
		}
		if code := s.presentAt(bobKey, r, names[i]); code != 1 {
			t.Errorf("Bob at %s during the cut: exit %d, want denied (revoked before the cut)", names[i], code)
		}
	}
	// Cat is revoked during the cut: the readers cannot know yet.
	s.call("POST", "/api/v1/credentials/"+catKey.credID+"/revoke", nil, nil, 200)
	for i, r := range readers {
		if code := s.presentAt(catKey, r, names[i]); code != 0 {
			t.Errorf("Cat at %s during the cut: exit %d, want still granted", names[i], code)
		}
	}
	for _, r := range readers {
		r.proxy.Heal()
	}
	healed := time.Now()
	for _, r := range readers {
		// The functional bound of the design: within 2 s of the link
		// coming back.
		waitFor(t, 2*time.Second-time.Since(healed), r.name+" has Cat's revocation within 2 s of healing", func() bool { return r.revoked(catKey.credID) })
	}
	t.Logf("Cat's revocation reached all three readers %v after healing", time.Since(healed))
	for i, r := range readers {
		if code := s.presentAt(catKey, r, names[i]); code != 1 {
			t.Errorf("Cat at %s after healing: exit %d, want denied", names[i], code)
		}
	}

	// A storm of presentations at every door, through a kill -9 of a
	// reader and then of the hub.
	var stop atomic.Bool
	var wg sync.WaitGroup
	// A key told it is let in was let in by a decision already on the
	// reader's disk: the hub must end up with at least that many.
	told := make([]atomic.Int64, len(readers))
	for i, r := range readers {
		wg.Go(func() {
			for !stop.Load() {
				if s.presentAt(annKey, r, names[i]) == 0 {
					told[i].Add(1)
				}
			}
		})
	}
	time.Sleep(3 * time.Second)
	readers[1].kill()
	readers[1].start()
	time.Sleep(2 * time.Second)
	hub.cmd.Process.Kill()
	hub.cmd.Wait()
	time.Sleep(time.Second)
	hub = startAppliance(t, hubData, "--fleet-listen", leaf)
	s.a = hub
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()

	// Every event each reader logged reaches the hub, once.
	for i, r := range readers {
		deadline := time.Now().Add(60 * time.Second)
		for {
			hubN, local := int64(s.hubEventsAt(aps[i])), r.query(`SELECT count(*) FROM events WHERE uid IS NOT NULL`)
			if hubN >= local {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the hub has %d of its %d events after a minute\n%s\nhub:\n%s", r.name, hubN, local, r.output(), hub.output())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	time.Sleep(time.Second)
	for i, r := range readers {
		local := r.query(`SELECT count(*) FROM events WHERE uid IS NOT NULL`)
		got := int64(s.hubEventsAt(aps[i]))
		if got != local {
			t.Errorf("%s: the hub has %d events, the reader logged %d", r.name, got, local)
		}
		if got < told[i].Load() {
			t.Errorf("%s: the hub has %d events, fewer than the %d grants keys were told of in the storm", r.name, got, told[i].Load())
		}
		t.Logf("%s: %d events at the reader, the same at the hub; %d grants told in the storm", r.name, local, told[i].Load())
	}
}

// waitFor polls cond every 20 ms up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
