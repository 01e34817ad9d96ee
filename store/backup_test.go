package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"postern/access"
	"postern/store"
)

// fastOptions encrypt with a cheap scrypt, for tests.
func fastOptions(passphrase string) store.BackupOptions {
	return store.WithWorkFactor(store.BackupOptions{Passphrase: passphrase, Version: "test"}, 10)
}

// backupOf returns a backup of a small site, and the site.
func backupOf(t *testing.T, passphrase string) ([]byte, access.Site, store.Manifest) {
	t.Helper()
	s := openStore(t)
	site, err := s.Site(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	createUser(t, s, "Ann", "Archer", "ann@example.com")
	createUser(t, s, "Bob", "Baker", "bob@example.com")
	createAccessPoint(t, s, "Front door", "sim:front")
	var buf bytes.Buffer
	m, err := s.Backup(t.Context(), &buf, fastOptions(passphrase))
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return buf.Bytes(), site, m
}

func TestBackupRestoreKeepsTheSite(t *testing.T) {
	for _, pass := range []string{"", "correct horse battery staple"} {
		t.Run("passphrase="+pass, func(t *testing.T) {
			file, site, m := backupOf(t, pass)
			if m.Format != store.BackupFormat || m.SchemaVersion != store.SchemaVersion() || m.Counts["users"] != 2 || m.Counts["access_points"] != 1 || m.PosternVersion != "test" {
				t.Errorf("manifest = %+v", m)
			}
			if _, ok := m.Counts["users_fts_data"]; ok {
				t.Errorf("manifest counts the full-text index's own tables: %v", m.Counts)
			}
			dir := filepath.Join(t.TempDir(), "restored")
			got, err := store.Restore(t.Context(), dir, bytes.NewReader(file), pass)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if got.SiteID != m.SiteID || got.Database != m.Database {
				t.Errorf("restore read manifest %+v, want %+v", got, m)
			}
			s, err := store.Open(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			restored, err := s.Site(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if restored.ID != site.ID || !restored.Key.Equal(site.Key) {
				t.Errorf("restored site %x has another identity or key than %x", restored.ID, site.ID)
			}
			users, err := s.Users(t.Context(), store.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(users.Items) != 2 {
				t.Errorf("restored %d users, want 2", len(users.Items))
			}
			checkMode(t, dir, 0o700)
			for _, name := range []string{store.FileName, store.FileName + "-wal"} {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					checkMode(t, filepath.Join(dir, name), 0o600)
				}
			}
		})
	}
}

func TestRestoreRefuses(t *testing.T) {
	plain, _, _ := backupOf(t, "")
	secret, _, _ := backupOf(t, "right")
	flipped := bytes.Clone(plain)
	flipped[len(flipped)/2] ^= 0xff
	flippedSecret := bytes.Clone(secret)
	flippedSecret[len(flippedSecret)-40] ^= 0x01

	tests := []struct {
		name       string
		file       []byte
		passphrase string
		notEmpty   bool
		want       error
	}{
		{"wrong passphrase", secret, "wrong", false, store.ErrWrongPassphrase},
		{"no passphrase for an encrypted file", secret, "", false, store.ErrBackupPassphrase},
		{"a flipped byte", flipped, "", false, store.ErrBackupDamaged},
		{"a flipped byte under encryption", flippedSecret, "right", false, store.ErrBackupDamaged},
		{"cut short", plain[:len(plain)*3/4], "", false, store.ErrBackupDamaged},
		{"cut short under encryption", secret[:len(secret)-100], "right", false, store.ErrBackupDamaged},
		{"not a backup", []byte("hello, world\n"), "", false, store.ErrBackupDamaged},
		{"empty", nil, "", false, store.ErrBackupDamaged},
		{"a folder that is not empty", plain, "", true, store.ErrRestoreNotEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if tt.notEmpty {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep me"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := store.Restore(t.Context(), dir, bytes.NewReader(tt.file), tt.passphrase)
			if !errors.Is(err, tt.want) {
				t.Fatalf("restore: got %v, want %v", err, tt.want)
			}
			entries, _ := os.ReadDir(dir)
			switch {
			case tt.notEmpty && (len(entries) != 1 || entries[0].Name() != "notes.txt"):
				t.Errorf("a refused restore changed the folder: %v", entries)
			case !tt.notEmpty && entries != nil:
				t.Errorf("a refused restore left %v behind", entries)
			}
		})
	}
}

// TestRestoreRefusesANewerSchema backs up a database a later Postern has
// migrated (its user_version is past this one's) and restores it.
func TestRestoreRefusesANewerSchema(t *testing.T) {
	dir := t.TempDir()
	s := openSiteIn(t, dir)
	s.Close()
	setUserVersion(t, filepath.Join(dir, store.FileName), store.SchemaVersion()+1)
	var buf bytes.Buffer
	m, err := store.BackupFolder(t.Context(), dir, &buf, store.BackupOptions{})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if m.SchemaVersion != store.SchemaVersion()+1 {
		t.Fatalf("manifest schema %d, want %d", m.SchemaVersion, store.SchemaVersion()+1)
	}
	// The copy was made inside the data folder and is gone.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), store.FileName) {
			t.Errorf("the backup left %s in the data folder", e.Name())
		}
	}
	target := filepath.Join(t.TempDir(), "data")
	_, err = store.Restore(t.Context(), target, &buf, "")
	if !errors.Is(err, store.ErrBackupNewer) {
		t.Fatalf("restore: got %v, want %v", err, store.ErrBackupNewer)
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused restore left the folder behind: %v", err)
	}
}

// openSiteIn opens a store in dir that has its site identity; the caller
// closes it.
func openSiteIn(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Site(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func setUserVersion(t *testing.T, path string, v int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA user_version = ` + strconv.Itoa(v)); err != nil {
		t.Fatal(err)
	}
}

func TestBackupFolderWithoutADatabase(t *testing.T) {
	_, err := store.BackupFolder(t.Context(), t.TempDir(), &bytes.Buffer{}, store.BackupOptions{})
	if !errors.Is(err, store.ErrNoDatabase) {
		t.Fatalf("got %v, want %v", err, store.ErrNoDatabase)
	}
}

// TestBackupWhileWriting takes a backup while events are written as fast
// as the store takes them: the copy is one consistent snapshot, so its
// counts match its rows (Restore checks) and it holds a prefix of the
// events.
func TestBackupWhileWriting(t *testing.T) {
	s := openStore(t)
	if _, err := s.Site(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var written int
	wg.Go(func() {
		for ctx.Err() == nil {
			if err := s.AppendEvent(context.Background(), &access.Event{Kind: "access.granted", Actor: "key"}); err != nil {
				t.Error(err)
				return
			}
			written++
		}
	})
	var backups [][]byte
	for range 3 {
		var buf bytes.Buffer
		if _, err := s.Backup(t.Context(), &buf, store.BackupOptions{}); err != nil {
			t.Fatalf("backup: %v", err)
		}
		backups = append(backups, buf.Bytes())
	}
	stop()
	wg.Wait()
	var last int64 = -1
	for i, b := range backups {
		m, err := store.Restore(t.Context(), filepath.Join(t.TempDir(), "r"), bytes.NewReader(b), "")
		if err != nil {
			t.Fatalf("restore %d: %v", i, err)
		}
		if n := m.Counts["events"]; n < last || n > int64(written) {
			t.Errorf("backup %d holds %d events: after %d, of %d written", i, n, last, written)
		} else {
			last = n
		}
	}
}

// TestRestoreChecksTheDatabase gives restore archives whose digest matches
// their database but whose database is not what the manifest says, or is
// not sound.
func TestRestoreChecksTheDatabase(t *testing.T) {
	dir := t.TempDir()
	s := openSiteIn(t, dir)
	for i := range 300 {
		createUser(t, s, "User", strconv.Itoa(i), "u"+strconv.Itoa(i)+"@example.com")
	}
	var buf bytes.Buffer
	m, err := s.Backup(t.Context(), &buf, store.BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A plain single-file copy to damage.
	restored := filepath.Join(t.TempDir(), "r")
	if _, err := store.Restore(t.Context(), restored, &buf, ""); err != nil {
		t.Fatal(err)
	}
	clean := filepath.Join(t.TempDir(), "clean.db")
	copyDB(t, filepath.Join(restored, store.FileName), clean)
	usersPage := rootPageOffset(t, clean, "users")

	miscounted := m
	miscounted.Counts = map[string]int64{"users": 299}
	otherSite := m
	otherSite.SiteID = "00112233445566778899aabbccddeeff"
	tests := []struct {
		name   string
		m      store.Manifest
		damage bool
	}{
		{"row counts differ", miscounted, false},
		{"another site", otherSite, false},
		{"a damaged page", m, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "db")
			copyDB(t, clean, db)
			if tt.damage {
				b, err := os.ReadFile(db)
				if err != nil {
					t.Fatal(err)
				}
				// Garble the header of the users table's first page: a
				// page certainly in use, wherever the schema puts it.
				for i := usersPage; i < usersPage+12; i++ {
					b[i] ^= 0x5a
				}
				os.WriteFile(db, b, 0o600)
			}
			var archive bytes.Buffer
			if err := store.WriteArchive(&archive, tt.m, db); err != nil {
				t.Fatal(err)
			}
			_, err := store.Restore(t.Context(), filepath.Join(t.TempDir(), "data"), &archive, "")
			if !errors.Is(err, store.ErrBackupDamaged) {
				t.Fatalf("restore: got %v, want %v", err, store.ErrBackupDamaged)
			}
			t.Log(err)
		})
	}
}

// rootPageOffset is where in the database file at path the first page of
// table starts.
func rootPageOffset(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var size, root int
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&root); err != nil {
		t.Fatal(err)
	}
	return (root - 1) * size
}

func copyDB(t *testing.T, from, to string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+from)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`VACUUM INTO ?`, to); err != nil {
		t.Fatal(err)
	}
}
