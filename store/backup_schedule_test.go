package store_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// TestBackupIntoKeepsTheNewest writes five scheduled backups with keep 2
// into a folder that holds other files too: the two newest stay, and
// nothing the schedule did not write is touched.
func TestBackupIntoKeepsTheNewest(t *testing.T) {
	s := openStore(t)
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	others := []string{"notes.txt", "postern-not-a-time.postern"}
	for _, n := range others {
		os.WriteFile(filepath.Join(dir, n), []byte("mine"), 0o600)
	}
	at := testNow
	for range 5 {
		at = at.Add(time.Hour)
		s.SetClock(func() time.Time { return at })
		if _, err := s.BackupInto(t.Context(), dir, 2, store.BackupOptions{}); err != nil {
			t.Fatalf("backup: %v", err)
		}
	}
	files, err := store.BackupFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	want := []string{"postern-20260311T150000Z.postern", "postern-20260311T140000Z.postern"}
	if !slices.Equal(names, want) {
		t.Errorf("backups kept: got %v, want %v", names, want)
	}
	for _, n := range others {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
	checkMode(t, filepath.Join(dir, want[0]), 0o600)
	// The newest restores.
	in, err := os.Open(filepath.Join(dir, want[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := store.Restore(t.Context(), filepath.Join(t.TempDir(), "r"), in, ""); err != nil {
		t.Errorf("restore the newest: %v", err)
	}
	evs, _, err := s.Events(t.Context(), access.EventFilter{Kind: "backup.created"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 5 {
		t.Errorf("got %d backup.created events, want 5", len(evs))
	}
}

func TestBackupScheduleSetting(t *testing.T) {
	tests := []struct {
		name      string
		set       store.BackupSchedule
		wantField string
	}{
		{"off", store.BackupSchedule{}, ""},
		{"daily", store.BackupSchedule{Dir: "/var/backups/postern", Every: 24 * time.Hour, Keep: 7}, ""},
		{"a relative folder", store.BackupSchedule{Dir: "backups", Every: time.Hour, Keep: 7}, "backup_dir"},
		{"too often", store.BackupSchedule{Dir: "/b", Every: time.Second, Keep: 7}, "backup_every"},
		{"keep none", store.BackupSchedule{Dir: "/b", Every: time.Hour, Keep: 0}, "backup_keep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			err := s.SetBackupScheduleSetting(t.Context(), actor, tt.set)
			if tt.wantField != "" {
				ves, ok := access.AsValidationErrors(err)
				if !ok || ves[0].Field != tt.wantField {
					t.Fatalf("got %v, want an error on %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.BackupScheduleSetting(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := tt.set
			if want.Keep == 0 {
				want.Keep = store.DefaultBackupKeep
			}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}
