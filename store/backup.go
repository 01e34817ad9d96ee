package store

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
)

// BackupFormat is the version of the backup file's layout, described in
// docs/backup.md. A restore refuses a format it does not know.
const BackupFormat = 1

// The archive's entries, in this order.
const (
	manifestEntry = "manifest.json"
	databaseEntry = FileName
)

// Manifest says what a backup holds and where it came from. It is the
// archive's first entry, so a restore can refuse a file before it writes
// the database anywhere.
type Manifest struct {
	Format         int       `json:"format"`
	SchemaVersion  int       `json:"schema_version"`
	SiteID         string    `json:"site_id"` // hex; empty before the site has an identity
	SiteName       string    `json:"site_name"`
	CreatedAt      time.Time `json:"created_at"`
	PosternVersion string    `json:"postern_version"`
	// Counts is the number of rows in each table, which a restore checks
	// against the database it wrote.
	Counts   map[string]int64 `json:"counts"`
	Database DatabaseDigest   `json:"database"`
}

// DatabaseDigest is the size and SHA-256 of the database entry.
type DatabaseDigest struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// BackupOptions are the choices a backup is taken with.
type BackupOptions struct {
	// Passphrase, when set, encrypts the file with age's scrypt recipient:
	// `age -d` opens it as well as `postern restore` does.
	Passphrase string
	// Version is the Postern version, recorded in the manifest.
	Version string
	// workFactor overrides scrypt's cost (log2 N) so tests run fast; 0 is
	// age's default.
	workFactor int
}

// The refusals of a backup and a restore. Their text is what people read.
var (
	ErrBackupPassphrase = errors.New("this backup is encrypted: give its passphrase")
	ErrWrongPassphrase  = errors.New("the passphrase does not open this backup")
	ErrBackupDamaged    = errors.New("the backup is damaged or is not a Postern backup")
	ErrBackupNewer      = errors.New("the backup comes from a newer Postern: restore it with that version or a later one")
	ErrRestoreNotEmpty  = errors.New("restore only into an empty data folder")
	ErrNoDatabase       = errors.New("there is no Postern database in the data folder")
)

// Backup writes a consistent copy of the database to w while the site
// keeps working: VACUUM INTO reads one snapshot under WAL, so doors go on
// opening and their events go on being written while it runs.
func (s *Store) Backup(ctx context.Context, w io.Writer, opt BackupOptions) (Manifest, error) {
	return backup(ctx, s.read, filepath.Dir(s.path), w, opt, s.now())
}

// BackupFolder backs up the database in the data folder dir, whether or not
// serve is running on it, without migrating it: the copy is of the schema
// the running site uses.
func BackupFolder(ctx context.Context, dir string, w io.Writer, opt BackupOptions) (Manifest, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err != nil {
		return Manifest{}, fmt.Errorf("%w (%s)", ErrNoDatabase, dir)
	}
	db, err := sql.Open("sqlite", dsn(path, "&_pragma=busy_timeout(10000)"))
	if err != nil {
		return Manifest{}, fmt.Errorf("store: backup: %w", err)
	}
	defer db.Close()
	return backup(ctx, db, dir, w, opt, time.Now())
}

// dsn is the connection string of the file at path with extra parameters.
func dsn(path, params string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=foreign_keys(ON)" + params
}

// backup copies the database into a temporary folder inside dir, the data
// folder: the copy is as secret as the database, and as big, so it goes
// where only this account may read and where the database itself fits
// (often not a RAM-backed /tmp). It is gone when the backup is written.
func backup(ctx context.Context, db *sql.DB, dir string, w io.Writer, opt BackupOptions, now time.Time) (Manifest, error) {
	tmp, err := os.MkdirTemp(dir, ".postern-backup-")
	if err != nil {
		return Manifest{}, fmt.Errorf("store: backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	copyPath := filepath.Join(tmp, FileName)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, copyPath); err != nil {
		return Manifest{}, fmt.Errorf("store: backup: copy the database: %w", err)
	}
	m, err := describe(ctx, copyPath)
	if err != nil {
		return m, err
	}
	m.CreatedAt, m.PosternVersion = now.UTC().Truncate(time.Second), opt.Version
	if m.Database, err = digest(copyPath); err != nil {
		return m, err
	}
	return m, writeArchive(w, m, copyPath, opt)
}

// describe reads a manifest's schema version, site and counts from the
// database at path.
func describe(ctx context.Context, path string) (Manifest, error) {
	m := Manifest{Format: BackupFormat}
	db, err := sql.Open("sqlite", dsn(path, "&mode=ro"))
	if err != nil {
		return m, fmt.Errorf("store: backup: %w", err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&m.SchemaVersion); err != nil {
		return m, fmt.Errorf("store: backup: read the schema version: %w", err)
	}
	var id []byte
	err = db.QueryRowContext(ctx, `SELECT site_id, name FROM site WHERE one = 1`).Scan(&id, &m.SiteName)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("store: backup: read the site: %w", err)
	}
	m.SiteID = hex.EncodeToString(id)
	m.Counts, err = tableCounts(ctx, db)
	return m, err
}

// tableCounts counts the rows of every ordinary table (not SQLite's own,
// nor the full-text index's, which follow the users table).
func tableCounts(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	names, err := queryAll(ctx, db, "list tables", func(r scanner) (string, error) {
		var n string
		return n, r.Scan(&n)
	}, `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		// The names come from the database's own catalogue.
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "`+n+`"`).Scan(&c); err != nil {
			return nil, fmt.Errorf("store: count %s: %w", n, err)
		}
		counts[n] = c
	}
	return counts, nil
}

func digest(path string) (DatabaseDigest, error) {
	f, err := os.Open(path)
	if err != nil {
		return DatabaseDigest{}, fmt.Errorf("store: backup: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return DatabaseDigest{}, fmt.Errorf("store: backup: %w", err)
	}
	return DatabaseDigest{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// writeArchive writes the manifest and the database as a gzipped tar,
// encrypted with age when there is a passphrase.
func writeArchive(w io.Writer, m Manifest, dbPath string, opt BackupOptions) error {
	out := w
	var enc io.WriteCloser
	if opt.Passphrase != "" {
		r, err := age.NewScryptRecipient(opt.Passphrase)
		if err != nil {
			return fmt.Errorf("store: backup: %w", err)
		}
		if opt.workFactor != 0 {
			r.SetWorkFactor(opt.workFactor)
		}
		if enc, err = age.Encrypt(w, r); err != nil {
			return fmt.Errorf("store: backup: encrypt: %w", err)
		}
		out = enc
	}
	gz := gzip.NewWriter(out)
	tw := tar.NewWriter(gz)
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	mj = append(mj, '\n')
	if err := writeEntry(tw, manifestEntry, int64(len(mj)), m.CreatedAt, func(w io.Writer) error {
		_, err := w.Write(mj)
		return err
	}); err != nil {
		return err
	}
	if err := writeEntry(tw, databaseEntry, m.Database.Size, m.CreatedAt, func(w io.Writer) error {
		f, err := os.Open(dbPath)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}); err != nil {
		return err
	}
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		return fmt.Errorf("store: backup: write: %w", err)
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return fmt.Errorf("store: backup: encrypt: %w", err)
		}
	}
	return nil
}

func writeEntry(tw *tar.Writer, name string, size int64, mod time.Time, body func(io.Writer) error) error {
	hdr := &tar.Header{Name: name, Mode: int64(fileMode), Size: size, ModTime: mod, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("store: backup: write %s: %w", name, err)
	}
	if err := body(tw); err != nil {
		return fmt.Errorf("store: backup: write %s: %w", name, err)
	}
	return nil
}
