package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"postern/store"
)

// backupFlags are backup's and restore's flags.
type backupFlags struct {
	data, file, passphraseFile string
	encrypt                    bool
}

func (f *backupFlags) register(fs *flag.FlagSet, fileFlag, fileUsage string) {
	fs.StringVar(&f.data, "data", "./postern-data", "data folder")
	fs.StringVar(&f.file, fileFlag, "", fileUsage)
	fs.StringVar(&f.passphraseFile, "passphrase-file", "", "file whose first line is the backup's passphrase")
}

// backupCmd writes a backup of the data folder to a new file, while serve
// runs on it or not.
func backupCmd(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(std.err)
	var f backupFlags
	f.register(fs, "out", "the backup file to write (it must not exist yet)")
	fs.BoolVar(&f.encrypt, "encrypt", false, "encrypt with a passphrase asked for on the terminal, or read from the first line of standard input")
	if err := parseFlags(fs, args); err != nil {
		return exitQuiet(2)
	}
	if f.file == "" {
		return errors.New("backup: --out is required")
	}
	pass, err := f.passphrase(ctx, std, f.encrypt)
	if err != nil {
		return err
	}
	m, err := writeBackupFile(f.file, func(w io.Writer) (store.Manifest, error) {
		return store.BackupFolder(ctx, f.data, w, store.BackupOptions{Passphrase: pass, Version: versionString()})
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(std.out, "backup of %s written to %s\n%s\n", siteLabel(m), f.file, manifestSummary(m, pass != ""))
	return nil
}

// writeBackupFile writes a backup to path through a private temporary
// file beside it, so a failed or interrupted backup never leaves a file
// that looks whole.
func writeBackupFile(path string, write func(io.Writer) (store.Manifest, error)) (store.Manifest, error) {
	if _, err := os.Lstat(path); err == nil {
		return store.Manifest{}, fmt.Errorf("%s already exists", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".postern-backup-*")
	if err != nil {
		return store.Manifest{}, err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	m, err := write(w)
	if err == nil {
		err = w.Flush()
	}
	if err := errors.Join(err, tmp.Sync(), tmp.Close()); err != nil {
		return m, err
	}
	// A link, not a rename: a file that appeared meanwhile is not replaced.
	return m, os.Link(tmp.Name(), path)
}

// restoreCmd restores a backup into an empty data folder.
func restoreCmd(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(std.err)
	var f backupFlags
	f.register(fs, "in", "the backup file to restore")
	if err := parseFlags(fs, args); err != nil {
		return exitQuiet(2)
	}
	if f.file == "" {
		return errors.New("restore: --in is required")
	}
	pass, err := f.passphrase(ctx, std, false)
	if err != nil {
		return err
	}
	m, err := restoreFile(ctx, f.data, f.file, pass)
	if errors.Is(err, store.ErrBackupPassphrase) {
		if pass, err = f.passphrase(ctx, std, true); err != nil {
			return err
		}
		m, err = restoreFile(ctx, f.data, f.file, pass)
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(std.out, "restored %s into %s\n%s\nStart it with: postern serve --data %s\n", siteLabel(m), f.data, manifestSummary(m, pass != ""), f.data)
	return nil
}

func restoreFile(ctx context.Context, dir, path, pass string) (store.Manifest, error) {
	in, err := os.Open(path)
	if err != nil {
		return store.Manifest{}, err
	}
	defer in.Close()
	return store.Restore(ctx, dir, in, pass)
}

// passphrase reads the passphrase from --passphrase-file, or, when ask is
// set, from the terminal (twice, when it encrypts) or stdin's first line.
// Without either it is empty: no encryption.
func (f *backupFlags) passphrase(ctx context.Context, std stdio, ask bool) (string, error) {
	switch {
	case f.passphraseFile != "":
		b, err := os.ReadFile(f.passphraseFile)
		if err != nil {
			return "", fmt.Errorf("--passphrase-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimRight(line, "\r"); line == "" {
			return "", errors.New("--passphrase-file: the first line is empty")
		}
		return line, nil
	case !ask:
		return "", nil
	}
	fd, ok := terminal(std.in)
	if !ok {
		line, err := readLine(ctx, std.in)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if err != nil || line == "" {
			return "", errors.New("give the passphrase on standard input")
		}
		return line, nil
	}
	pass, err := askSecret(ctx, fd, std.err, "Backup passphrase: ")
	if err != nil || !f.encrypt {
		return pass, err
	}
	again, err := askSecret(ctx, fd, std.err, "Again: ")
	if err != nil {
		return "", err
	}
	if again != pass || pass == "" {
		return "", errors.New("the passphrases differ or are empty")
	}
	return pass, nil
}

func siteLabel(m store.Manifest) string {
	if m.SiteName == "" {
		return "a site with no identity yet"
	}
	return fmt.Sprintf("site %q (%s)", m.SiteName, m.SiteID)
}

// manifestSummary is a backup's manifest in one line for people.
func manifestSummary(m store.Manifest, encrypted bool) string {
	enc := "not encrypted"
	if encrypted {
		enc = "encrypted"
	}
	return fmt.Sprintf("taken %s, schema %d, %d users, %d credentials, %d access points, %d events, database %d bytes, %s",
		m.CreatedAt.Format("2006-01-02 15:04:05 UTC"), m.SchemaVersion, m.Counts["users"], m.Counts["credentials"], m.Counts["access_points"], m.Counts["events"], m.Database.Size, enc)
}
