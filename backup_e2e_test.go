package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackupDuringAStormAndRestore takes an encrypted backup with
// `postern backup` while three keys keep presenting at the running site,
// restores it with `postern restore` into a new folder, starts the
// restored site and opens its doors with the same keys: the site key, the
// credentials, the permissions and the API token came back.
func TestBackupDuringAStormAndRestore(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	s := newE2ESite(t, a)
	front := s.accessPoint("Front door", "sim:front")
	var keys []e2eKey
	for _, name := range []string{"Ann", "Bob", "Cat"} {
		id := s.user(name, "Storm")
		s.permit(map[string]any{"user_id": id, "access_point_id": front})
		keys = append(keys, s.register(id, strings.ToLower(name)))
	}
	for _, k := range keys {
		if out, errs, code := s.present(k, "front", "--rssi", "-50"); code != 0 {
			t.Fatalf("before the storm: exit %d %q %q\n%s", code, out, errs, a.output())
		}
	}

	// The storm: each key presents again and again until told to stop.
	var stop atomic.Bool
	var granted, refused atomic.Int64
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Go(func() {
			for !stop.Load() {
				out, errs, code := postern(t, "", "key", "--state", k.state, "present", "--air", a.air, "--reader", "front", "--rssi", "-50", "--pin-file", s.pin)
				if code == 0 {
					granted.Add(1)
				} else {
					refused.Add(1)
					t.Errorf("a presentation in the storm: exit %d %q %q", code, out, errs)
				}
			}
		})
	}
	pass := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(pass, []byte("a long and private passphrase\n"), 0o600)
	backupFile := filepath.Join(t.TempDir(), "site.postern")
	waitGrants(t, &granted, &refused, 6)
	during := granted.Load()
	out, errs, code := postern(t, "a long and private passphrase\n", "backup", "--data", data, "--out", backupFile, "--encrypt")
	afterBackup := granted.Load()
	waitGrants(t, &granted, &refused, afterBackup+3)
	stop.Store(true)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "encrypted") || !strings.Contains(out, "3 users") {
		t.Fatalf("backup: exit %d %q %q", code, out, errs)
	}
	t.Logf("storm: %d grants, %d of them while the backup ran; backup: %s", granted.Load(), afterBackup-during, out)
	assertFileMode(t, backupFile, 0o600)

	// Refusals: a non-empty folder, no passphrase, the wrong one.
	other := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(other, []byte("not it\n"), 0o600)
	refusals := []struct {
		name string
		args []string
		want string
	}{
		{"into the running site's folder", []string{"--data", data, "--passphrase-file", pass}, "empty data folder"},
		{"without the passphrase", []string{"--data", filepath.Join(t.TempDir(), "a")}, "passphrase"},
		{"with the wrong passphrase", []string{"--data", filepath.Join(t.TempDir(), "b"), "--passphrase-file", other}, "does not open"},
	}
	for _, r := range refusals {
		out, errs, code := postern(t, "", append([]string{"restore", "--in", backupFile}, r.args...)...)
		if code == 0 || !strings.Contains(errs, r.want) {
			t.Errorf("restore %s: exit %d %q %q, want a refusal that says %q", r.name, code, out, errs, r.want)
		}
	}

	restored := filepath.Join(t.TempDir(), "restored")
	out, errs, code = postern(t, "", "restore", "--data", restored, "--in", backupFile, "--passphrase-file", pass)
	if code != 0 || !strings.Contains(out, "restored site") {
		t.Fatalf("restore: exit %d %q %q", code, out, errs)
	}
	assertFileMode(t, restored, 0o700)
	assertFileMode(t, filepath.Join(restored, "postern.db"), 0o600)
	a.stop()

	b := startAppliance(t, restored)
	if b.setupURL != "" {
		t.Errorf("the restored site asks for a first administrator: %s", b.setupURL)
	}
	r := &e2eSite{t: t, a: b, token: s.token, dir: s.dir, pin: s.pin}
	for _, k := range keys {
		// The key checks the challenge's signature against the site key it
		// pinned when it registered: a grant proves the key came back.
		if out, errs, code := r.present(k, "front", "--rssi", "-50"); code != 0 || out != "Access granted\n" {
			t.Errorf("%s at the restored site: exit %d %q %q\n%s", k.state, code, out, errs, b.output())
		}
	}
	grants := r.decisions(fmt.Sprintf("access_point_id=%d", front))
	if n := int64(len(grants)); n < 3+during+3 || n > 3+granted.Load()+3 {
		t.Errorf("the restored site logged %d decisions; want its 3 new ones after the %d to %d of the backup", n, 3+during, 3+granted.Load())
	}
}

// waitGrants waits until the storm has granted n times, or refused once.
func waitGrants(t *testing.T, granted, refused *atomic.Int64, n int64) {
	t.Helper()
	deadline := time.Now().Add(e2eGuard)
	for granted.Load() < n && refused.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the storm granted %d times in %v, want %d", granted.Load(), e2eGuard, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func assertFileMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", path, got, want)
	}
}

// TestScheduledBackupThroughServe: serve with --backup-dir writes its
// first backup at once, logs it as an event, and the file restores.
func TestScheduledBackupThroughServe(t *testing.T) {
	data, dir := t.TempDir(), filepath.Join(t.TempDir(), "backups")
	if _, errs, code := postern(t, "", "serve", "--data", data, "--backup-dir", "relative"); code == 0 || !strings.Contains(errs, "absolute") {
		t.Errorf("a relative --backup-dir: exit %d %q, want a refusal", code, errs)
	}
	a := startAppliance(t, data, "--backup-dir", dir, "--backup-every", "1h", "--backup-keep", "2")
	token := adminToken(t, data, "admin@office.example")
	deadline := time.Now().Add(e2eGuard)
	var events struct {
		Events []struct{ Kind, Detail string }
	}
	for len(events.Events) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no backup.created event\n%s", a.output())
		}
		time.Sleep(100 * time.Millisecond)
		api(t, a.url, token, "GET", "/api/v1/events?kind=backup.created", nil, &events)
	}
	files, err := os.ReadDir(dir)
	if err != nil || len(files) != 1 || !strings.HasPrefix(files[0].Name(), "postern-") {
		t.Fatalf("backup folder holds %v (%v), want one backup", files, err)
	}
	assertFileMode(t, dir, 0o700)
	assertFileMode(t, filepath.Join(dir, files[0].Name()), 0o600)
	if out, errs, code := postern(t, "", "restore", "--data", filepath.Join(t.TempDir(), "r"), "--in", filepath.Join(dir, files[0].Name())); code != 0 {
		t.Errorf("restore the scheduled backup: exit %d %q %q", code, out, errs)
	}
}
