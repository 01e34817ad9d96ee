package main

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
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
