package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"postern/access"
	"postern/store"
)

// scheduleFlags are serve's scheduled backup flags. When --backup-dir is
// set they win over the schedule on the settings page.
type scheduleFlags struct {
	store.BackupSchedule
	passphraseFile string
}

func (f *scheduleFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.Dir, "backup-dir", "", "write backups on a schedule into this absolute folder (overrides the settings page)")
	fs.DurationVar(&f.Every, "backup-every", 24*time.Hour, "how often to write a scheduled backup")
	fs.IntVar(&f.Keep, "backup-keep", store.DefaultBackupKeep, "how many scheduled backups to keep")
	fs.StringVar(&f.passphraseFile, "backup-passphrase-file", "", "encrypt scheduled backups with the first line of this file")
}

// check validates the flags and reads the passphrase.
func (f *scheduleFlags) check() (passphrase string, err error) {
	if err := f.Validate(); err != nil {
		return "", fmt.Errorf("--backup-dir, --backup-every, --backup-keep: %w", err)
	}
	if f.passphraseFile == "" {
		return "", nil
	}
	return (&backupFlags{passphraseFile: f.passphraseFile}).passphrase(context.Background(), stdio{}, false)
}

// backupRetry is how soon a failed scheduled backup is tried again, and
// how often a schedule set on the page is read again.
const backupRetry = time.Minute

// runBackups writes a backup whenever the newest in the schedule's folder
// is older than its interval, until ctx ends. The schedule is the flags'
// when they set one, else the settings page's, read again every minute.
func runBackups(ctx context.Context, st *store.Store, flags store.BackupSchedule, opt store.BackupOptions, now func() time.Time, log *slog.Logger) {
	for {
		wait := backupRetry
		sched, err := effectiveSchedule(ctx, st, flags)
		if err == nil && sched.On() {
			wait, err = backupIfDue(ctx, st, sched, opt, now)
		}
		if err != nil && ctx.Err() == nil {
			log.Error("scheduled backup failed", "dir", sched.Dir, "err", err)
			if err := st.AppendEvent(ctx, &access.Event{Kind: "backup.failed", Actor: "system", Reason: "error", Detail: err.Error()}); err != nil {
				log.Error("logging a failed backup", "err", err)
			}
			wait = backupRetry
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(wait, backupRetry)):
		}
	}
}

func effectiveSchedule(ctx context.Context, st *store.Store, flags store.BackupSchedule) (store.BackupSchedule, error) {
	if flags.On() {
		return flags, nil
	}
	return st.BackupScheduleSetting(ctx)
}

// backupIfDue writes a backup if the newest is an interval old, and says
// how long until the next is due.
func backupIfDue(ctx context.Context, st *store.Store, sched store.BackupSchedule, opt store.BackupOptions, now func() time.Time) (time.Duration, error) {
	files, err := store.BackupFiles(sched.Dir)
	if err != nil {
		return 0, err
	}
	if len(files) > 0 {
		if wait := files[0].Taken.Add(sched.Every).Sub(now()); wait > 0 {
			return wait, nil
		}
	}
	if _, err := st.BackupInto(ctx, sched.Dir, sched.Keep, opt); err != nil {
		return 0, err
	}
	return sched.Every, nil
}
