package main

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// TestServeOpensTheReaderPortOnlyOnceAReaderIsAdded checks that a single
// appliance stays as simple as before remote readers: no NATS server, no
// port, no files, until an admin adds a reader; then the hub starts by
// itself, with nothing to configure.
func TestServeOpensTheReaderPortOnlyOnceAReaderIsAdded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the appliance")
	}
	data := t.TempDir()
	leaf := freeAddr(t)
	s := newE2ESite(t, startAppliance(t, data, "--fleet-listen", leaf))
	open := func() bool {
		c, err := net.DialTimeout("tcp", leaf, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	// Longer than the hub's look for readers, every 2 s.
	time.Sleep(3 * time.Second)
	if open() {
		t.Fatal("an appliance with no remote reader listens on the reader port")
	}
	if _, err := os.Stat(fleetDir(data)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an appliance with no remote reader has %s: %v", filepath.Base(fleetDir(data)), err)
	}
	s.call("POST", "/api/v1/readers", map[string]string{"name": "door1"}, nil, 201)
	waitFor(t, 30*time.Second, "the reader port opens once a reader is added", open)
}

// TestKeepPublicURL: the hub keeps its public URL in the settings its
// remote readers follow, writing only when it changed, and with no event:
// it is the process's configuration, not an administrator's act. A hub
// queues each write for its readers.
func TestKeepPublicURL(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.EnablePolicyOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url string
		queued    int // the policy changes queued by this start
	}{
		{"first start", "https://doors.example.com", 1},
		{"same URL again", "https://doors.example.com", 0},
		{"moved", "https://entry.example.org", 1},
	}
	for _, tt := range tests {
		before, err := st.PolicyOutbox(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := keepPublicURL(ctx, st, tt.url); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got, _ := st.Setting(ctx, store.SettingPublicURL, ""); got != tt.url {
			t.Errorf("%s: the kept URL: got %q, want %q", tt.name, got, tt.url)
		}
		after, err := st.PolicyOutbox(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(after) - len(before); got != tt.queued {
			t.Errorf("%s: %d policy changes queued, want %d", tt.name, got, tt.queued)
		}
	}
	if evs, _, err := st.Events(ctx, access.EventFilter{Kind: "setting.", Limit: 10}); err != nil || len(evs) != 0 {
		t.Errorf("events for keeping the public URL: got %d, %v, want none", len(evs), err)
	}
}
