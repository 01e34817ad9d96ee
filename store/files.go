package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The database holds the site's signing key, the SMTP password, password
// and token hashes and everyone's events: only the account that runs
// Postern may read it. The data folder is 0700 and the files in it 0600.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// PrivateDir makes dir, the data folder, exist and be private to this
// account: it is created 0700, and an existing folder that others may
// enter loses their access. changed reports that an existing folder was
// tightened, and was its mode before. A folder that cannot be tightened
// (another account owns it) is an error that says what to run.
func PrivateDir(dir string) (was fs.FileMode, changed bool, err error) {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return 0, false, fmt.Errorf("create data folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return 0, false, fmt.Errorf("data folder: %w", err)
	}
	if !fi.IsDir() {
		return 0, false, fmt.Errorf("data folder %s is not a folder", dir)
	}
	was = fi.Mode().Perm()
	if was&0o077 == 0 {
		return was, false, nil
	}
	if err := os.Chmod(dir, was&^0o077); err != nil {
		return was, false, fmt.Errorf("the data folder %s is open to other accounts (mode %04o) and could not be made private: %w; run chmod 700 %s as its owner", dir, was, err, dir)
	}
	return was, true, nil
}

// privateFiles creates the database file 0600 if it is missing, and takes
// group and other access away from it and its -wal and -shm files if they
// have it. SQLite gives the files it creates beside a database the
// database's own mode, so the WAL and shared-memory files follow.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			if err := os.Chmod(p, m&^0o077); err != nil {
				return fmt.Errorf("store: %s is readable by other accounts (mode %04o) and could not be made private: %w", p, m, err)
			}
		}
	}
	return nil
}
