package main

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeBindsEveryListenerFirst: with a port taken, serve stops before
// it prints a setup link that would point at nothing.
func TestServeBindsEveryListenerFirst(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name, listen, air, wantErr string
	}{
		{"the air's port", freeAddr(t), taken.Addr().String(), "--air " + taken.Addr().String()},
		{"the web server's port", taken.Addr().String(), freeAddr(t), "--listen " + taken.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			out, errs, code := postern(t, "", "serve", "--data", data, "--listen", tt.listen, "--air", tt.air, "--radio", "sim")
			if code == 0 {
				t.Fatalf("serve exited 0 with a port taken:\n%s%s", out, errs)
			}
			if strings.Contains(out, "/setup?token=") || strings.Contains(errs, "/setup?token=") {
				t.Errorf("serve printed a setup link before it failed:\n%s", out)
			}
			if !strings.Contains(errs, "address already in use") || !strings.Contains(errs, tt.wantErr) {
				t.Errorf("stderr %q does not say which address is taken", errs)
			}
			if strings.Contains(errs, "postern is running") {
				t.Errorf("serve said it was running:\n%s", errs)
			}
		})
	}
}

// TestServeCapsConnectionsPerAddress: one address holds at most 64
// connections to the web server; more are closed at once, and another
// address is still served.
func TestServeCapsConnectionsPerAddress(t *testing.T) {
	a := startAppliance(t, t.TempDir())
	http.DefaultClient.CloseIdleConnections()
	addr := strings.TrimPrefix(a.url, "http://")
	const tries = 72
	var conns []net.Conn
	for range tries {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	// The server reads no request from these; it keeps each open for its
	// header timeout (10 s) unless it is over the cap.
	var wg sync.WaitGroup
	var mu sync.Mutex
	closed := 0
	for _, c := range conns {
		wg.Go(func() {
			if closedWithin(c, 3*time.Second) {
				mu.Lock()
				closed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if closed < tries-64 || closed > tries-60 {
		t.Errorf("got %d of %d connections closed at once, want those over the cap of 64", closed, tries)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	resp, err := client.Get(a.url + "/healthz")
	if err != nil {
		t.Fatalf("another address while one is over its cap: %v", err)
	}
	resp.Body.Close()
}

// TestAirHangsUpOnAKeyNotTakenUp: a key at a reader that never takes it up
// is not held for as long as it likes: the air hangs up after --air-idle.
func TestAirHangsUpOnAKeyNotTakenUp(t *testing.T) {
	data := t.TempDir()
	s := newE2ESite(t, startAppliance(t, data, "--air-idle", "1s"))
	s.accessPoint("Front door", "sim:front")
	ann := s.register(s.user("Ann", "Lee"), "ann")
	// Far too weak for a direct reader, and willing to wait a long time.
	out, errs, code := s.present(ann, "front", "--rssi", "-95", "--timeout", "60s")
	if code != 1 || !strings.Contains(errs, "No reader answered") || !strings.Contains(errs, "within 1s") {
		t.Errorf("got exit %d %q %q, want the air to hang up after 1s (exit 1, no reader answered)", code, out, errs)
	}
}
