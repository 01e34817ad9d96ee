package store

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"

	"filippo.io/age"
)

// maxManifest bounds the manifest a restore reads: a real one is a few
// hundred bytes.
const maxManifest = 1 << 20

// ageMagic starts every age file.
var ageMagic = []byte("age-encryption.org/")

// Restore writes the backup read from r into the data folder dir, which
// must be empty or not exist, and returns its manifest. Before the
// database takes its place it checks the manifest against the database:
// its format and schema (never newer than this Postern), its size and
// SHA-256, SQLite's integrity_check, its row counts and its site. Then it
// migrates the database to this Postern's schema. On any refusal the
// folder is left as it was found.
func Restore(ctx context.Context, dir string, r io.Reader, passphrase string) (m Manifest, err error) {
	created, err := emptyDir(dir)
	if err != nil {
		return m, err
	}
	if _, _, err := PrivateDir(dir); err != nil {
		return m, err
	}
	defer func() {
		if err != nil {
			cleanUp(dir, created)
		}
	}()
	tr, finish, err := openArchive(r, passphrase)
	if err != nil {
		return m, err
	}
	if m, err = readManifest(tr); err != nil {
		return m, err
	}
	staged := filepath.Join(dir, FileName+".restoring")
	if err := extractDatabase(tr, staged, m.Database); err != nil {
		return m, err
	}
	// Reading to the end checks what only the end can: gzip's checksum
	// and age's last chunk, so a cut-off file is refused.
	if h, err := tr.Next(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("an unexpected entry %q", h.Name)
		}
		return m, fmt.Errorf("%w: %v", ErrBackupDamaged, err)
	}
	if err := finish(); err != nil {
		return m, fmt.Errorf("%w: %v", ErrBackupDamaged, err)
	}
	if err := verifyDatabase(ctx, staged, m); err != nil {
		return m, err
	}
	path := filepath.Join(dir, FileName)
	if err := os.Rename(staged, path); err != nil {
		return m, fmt.Errorf("store: restore: %w", err)
	}
	// Open migrates an older schema and puts the file in WAL mode, as
	// serve would on its first start.
	st, err := Open(ctx, dir)
	if err != nil {
		return m, fmt.Errorf("store: restore: %w", err)
	}
	return m, st.Close()
}

// emptyDir reports whether dir does not exist yet (so a failed restore may
// remove it), and refuses a folder that holds anything.
func emptyDir(dir string) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("store: restore: %w", err)
	case len(entries) > 0:
		return false, fmt.Errorf("%w: %s holds %s", ErrRestoreNotEmpty, dir, entries[0].Name())
	}
	return false, nil
}

// cleanUp removes what a failed restore wrote into dir, and dir itself if
// the restore made it.
func cleanUp(dir string, created bool) {
	if created {
		os.RemoveAll(dir)
		return
	}
	for _, name := range []string{FileName + ".restoring", FileName, FileName + "-wal", FileName + "-shm"} {
		os.Remove(filepath.Join(dir, name))
	}
}

// openArchive opens the tar inside a backup, decrypting it first if it is
// encrypted. finish reads what is left of the compressed stream, which
// checks its checksums.
func openArchive(r io.Reader, passphrase string) (*tar.Reader, func() error, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(ageMagic))
	var plain io.Reader = br
	if bytes.Equal(head, ageMagic) {
		if passphrase == "" {
			return nil, nil, ErrBackupPassphrase
		}
		id, err := age.NewScryptIdentity(passphrase)
		if err != nil {
			return nil, nil, fmt.Errorf("store: restore: %w", err)
		}
		if plain, err = age.Decrypt(br, id); err != nil {
			var nm *age.NoIdentityMatchError
			if errors.As(err, &nm) {
				return nil, nil, ErrWrongPassphrase
			}
			return nil, nil, fmt.Errorf("%w: %v", ErrBackupDamaged, err)
		}
	}
	gz, err := gzip.NewReader(plain)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBackupDamaged, err)
	}
	gz.Multistream(false)
	finish := func() error {
		if _, err := io.Copy(io.Discard, gz); err != nil {
			return err
		}
		// Nothing may follow the compressed stream but the end.
		if n, _ := io.Copy(io.Discard, plain); n > 0 {
			return fmt.Errorf("%d bytes after the archive", n)
		}
		return nil
	}
	return tar.NewReader(gz), finish, nil
}

func readManifest(tr *tar.Reader) (Manifest, error) {
	var m Manifest
	h, err := tr.Next()
	if err != nil {
		return m, fmt.Errorf("%w: %v", ErrBackupDamaged, err)
	}
	if h.Name != manifestEntry || h.Size > maxManifest {
		return m, fmt.Errorf("%w: the first entry is %q, not the manifest", ErrBackupDamaged, h.Name)
	}
	if err := json.NewDecoder(io.LimitReader(tr, maxManifest)).Decode(&m); err != nil {
		return m, fmt.Errorf("%w: the manifest: %v", ErrBackupDamaged, err)
	}
	switch {
	case m.Format > BackupFormat:
		return m, fmt.Errorf("%w (file format %d; this Postern reads %d)", ErrBackupNewer, m.Format, BackupFormat)
	case m.Format < 1:
		return m, fmt.Errorf("%w: the manifest has no format", ErrBackupDamaged)
	case m.SchemaVersion > SchemaVersion():
		return m, fmt.Errorf("%w (schema %d; this Postern has %d)", ErrBackupNewer, m.SchemaVersion, SchemaVersion())
	}
	return m, nil
}

// extractDatabase writes the database entry to path, private from the
// start, and checks its size and SHA-256 against the manifest's.
func extractDatabase(tr *tar.Reader, path string, want DatabaseDigest) error {
	h, err := tr.Next()
	if err != nil {
		return fmt.Errorf("%w: no database: %v", ErrBackupDamaged, err)
	}
	if h.Name != databaseEntry || h.Size != want.Size {
		return fmt.Errorf("%w: the second entry is %q of %d bytes, not the database of %d", ErrBackupDamaged, h.Name, h.Size, want.Size)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	sum := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, sum), tr)
	if err := errors.Join(err, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("%w: %v", ErrBackupDamaged, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != want.SHA256 {
		return fmt.Errorf("%w: the database's SHA-256 is %s, the manifest says %s", ErrBackupDamaged, got, want.SHA256)
	}
	return nil
}

// verifyDatabase checks the database at path is sound and is the one the
// manifest describes.
func verifyDatabase(ctx context.Context, path string, m Manifest) error {
	got, err := describe(ctx, path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBackupDamaged, err)
	}
	db, err := sql.Open("sqlite", dsn(path, "&mode=ro"))
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer db.Close()
	problems, err := queryAll(ctx, db, "integrity check", func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBackupDamaged, err)
	}
	switch {
	case len(problems) != 1 || problems[0] != "ok":
		return fmt.Errorf("%w: integrity_check: %v", ErrBackupDamaged, problems)
	case got.SchemaVersion != m.SchemaVersion:
		return fmt.Errorf("%w: the database has schema %d, the manifest says %d", ErrBackupDamaged, got.SchemaVersion, m.SchemaVersion)
	case got.SiteID != m.SiteID:
		return fmt.Errorf("%w: the database is site %s, the manifest says %s", ErrBackupDamaged, got.SiteID, m.SiteID)
	case !maps.Equal(got.Counts, m.Counts):
		return fmt.Errorf("%w: the database's row counts differ from the manifest's", ErrBackupDamaged)
	}
	return nil
}
