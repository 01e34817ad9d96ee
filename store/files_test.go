package store_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"postern/access"
	"postern/store"
)

// TestDataFilesArePrivate: the database holds the site's signing key and
// the SMTP password, so its folder is 0700 and the database, its WAL and
// its shared-memory file 0600, whether Postern made them or found them.
func TestDataFilesArePrivate(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{"a new folder", func(t *testing.T, dir string) {}},
		{"a folder and a database left open to others", func(t *testing.T, dir string) {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{store.FileName, store.FileName + "-wal", store.FileName + "-shm"} {
				if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				// WriteFile's mode passes through the umask: set it outright.
				if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			tt.prepare(t, dir)
			s, err := store.Open(t.Context(), dir)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			// A write, so the WAL and the shared-memory file exist.
			if err := s.AppendEvent(t.Context(), &access.Event{Kind: "test.write"}); err != nil {
				t.Fatal(err)
			}
			checkMode(t, dir, 0o700)
			for _, name := range []string{store.FileName, store.FileName + "-wal", store.FileName + "-shm"} {
				checkMode(t, filepath.Join(dir, name), 0o600)
			}
		})
	}
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: got mode %04o, want %04o", filepath.Base(path), got, want)
	}
}

// TestPrivateDirReports: serve says when it tightened a folder, so the
// change is no surprise.
func TestPrivateDirReports(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o751); err != nil {
		t.Fatal(err)
	}
	was, changed, err := store.PrivateDir(dir)
	if err != nil || !changed || was != 0o751 {
		t.Errorf("got was %04o, changed %v, %v; want 0751, changed", was, changed, err)
	}
	if _, changed, err := store.PrivateDir(dir); err != nil || changed {
		t.Errorf("a private folder again: got changed %v, %v; want unchanged", changed, err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, _, err := store.PrivateDir(file); err == nil {
		t.Error("a file as the data folder: got no error")
	}
}
