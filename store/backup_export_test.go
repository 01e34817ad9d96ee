package store

import "io"

// WithWorkFactor returns o with scrypt's cost lowered, so tests that
// encrypt do not spend a second and 256 MiB on each backup.
func WithWorkFactor(o BackupOptions, logN int) BackupOptions {
	o.workFactor = logN
	return o
}

// WriteArchive writes the database at dbPath, described by m, as a backup
// with m's digest of the file as it is now: a test's way to make a backup
// whose manifest and database agree byte for byte but not in content.
func WriteArchive(w io.Writer, m Manifest, dbPath string) error {
	d, err := digest(dbPath)
	if err != nil {
		return err
	}
	m.Database = d
	return writeArchive(w, m, dbPath, BackupOptions{})
}
