package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"postern/access"
)

// BackupSchedule is where and how often serve writes backups by itself.
// The zero schedule writes none.
type BackupSchedule struct {
	Dir   string        // an absolute folder; "" is off
	Every time.Duration // at least a minute
	Keep  int           // how many of its backups to keep there, newest first
}

// DefaultBackupKeep is how many scheduled backups are kept when nobody
// says.
const DefaultBackupKeep = 7

// The settings a schedule set on the page is stored under.
const (
	settingBackupDir   = "backup_dir"
	settingBackupEvery = "backup_every"
	settingBackupKeep  = "backup_keep"
)

// On reports whether the schedule writes backups.
func (b BackupSchedule) On() bool { return b.Dir != "" && b.Every > 0 }

// Validate checks a schedule that is on; an off one is always valid.
func (b BackupSchedule) Validate() error {
	var es access.ValidationErrors
	if b.Dir == "" {
		return nil
	}
	if !filepath.IsAbs(b.Dir) {
		es.Add("backup_dir", "must be an absolute folder such as /var/backups/postern")
	}
	if b.Every < time.Minute {
		es.Add("backup_every", "must be at least a minute")
	}
	if b.Keep < 1 || b.Keep > 1000 {
		es.Add("backup_keep", "must be from 1 to 1000")
	}
	return es.Err()
}

// BackupScheduleSetting returns the schedule set on the settings page.
func (s *Store) BackupScheduleSetting(ctx context.Context) (BackupSchedule, error) {
	var b BackupSchedule
	var every, keep string
	for _, kv := range []struct {
		key string
		v   *string
	}{{settingBackupDir, &b.Dir}, {settingBackupEvery, &every}, {settingBackupKeep, &keep}} {
		v, err := s.Setting(ctx, kv.key, "")
		if err != nil {
			return b, err
		}
		*kv.v = v
	}
	b.Every, _ = time.ParseDuration(every)
	if b.Keep, _ = strconv.Atoi(keep); b.Keep == 0 {
		b.Keep = DefaultBackupKeep
	}
	return b, nil
}

// SetBackupScheduleSetting stores the page's schedule; one with no folder
// turns scheduled backups off.
func (s *Store) SetBackupScheduleSetting(ctx context.Context, actor string, b BackupSchedule) error {
	if err := b.Validate(); err != nil {
		return err
	}
	for _, kv := range [][2]string{{settingBackupDir, b.Dir}, {settingBackupEvery, b.Every.String()}, {settingBackupKeep, strconv.Itoa(b.Keep)}} {
		if err := s.SetSetting(ctx, "", kv[0], kv[1]); err != nil {
			return err
		}
	}
	detail := "off"
	if b.On() {
		detail = fmt.Sprintf("every %s into %s, keeping %d", b.Every, b.Dir, b.Keep)
	}
	return s.AppendEvent(ctx, &access.Event{Kind: "backup.scheduled", Actor: actor, Detail: detail})
}

// BackupFile is one backup a schedule wrote.
type BackupFile struct {
	Name  string
	Size  int64
	Taken time.Time
}

// Scheduled backups are named by when they were taken, so names sort in
// time order and a folder shared with other files is never pruned of them.
const (
	backupPrefix = "postern-"
	backupSuffix = ".postern"
	backupStamp  = "20060102T150405Z"
)

// BackupFiles lists the backups a schedule wrote in dir, newest first.
func BackupFiles(dir string) ([]BackupFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: list backups: %w", err)
	}
	var files []BackupFile
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), backupPrefix)
		stamp, ok2 := strings.CutSuffix(stamp, backupSuffix)
		taken, err := time.Parse(backupStamp, stamp)
		if !ok || !ok2 || err != nil || !e.Type().IsRegular() {
			continue
		}
		f := BackupFile{Name: e.Name(), Taken: taken}
		if fi, err := e.Info(); err == nil {
			f.Size = fi.Size()
		}
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b BackupFile) int { return b.Taken.Compare(a.Taken) })
	return files, nil
}

// BackupInto writes a backup into the folder dir (made private if new),
// named by the time it is taken, then removes all but the newest keep of
// the backups there. It logs a backup.created event; a failure is the
// caller's to log.
func (s *Store) BackupInto(ctx context.Context, dir string, keep int, opt BackupOptions) (BackupFile, error) {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return BackupFile{}, fmt.Errorf("store: backup folder: %w", err)
	}
	now := s.now().UTC()
	f := BackupFile{Name: backupPrefix + now.Format(backupStamp) + backupSuffix, Taken: now.Truncate(time.Second)}
	path := filepath.Join(dir, f.Name)
	tmp, err := os.CreateTemp(dir, ".postern-backup-*")
	if err != nil {
		return f, fmt.Errorf("store: backup folder: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	m, err := s.Backup(ctx, w, opt)
	if err == nil {
		err = w.Flush()
	}
	if err := errors.Join(err, tmp.Sync(), tmp.Close()); err != nil {
		return f, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return f, fmt.Errorf("store: backup folder: %w", err)
	}
	if fi, err := os.Stat(path); err == nil {
		f.Size = fi.Size()
	}
	files, err := BackupFiles(dir)
	if err != nil {
		return f, err
	}
	var pruned int
	for _, old := range files[min(keep, len(files)):] {
		if err := os.Remove(filepath.Join(dir, old.Name)); err != nil {
			return f, fmt.Errorf("store: remove an old backup: %w", err)
		}
		pruned++
	}
	return f, s.AppendEvent(ctx, &access.Event{Kind: "backup.created", Actor: "system",
		Detail: fmt.Sprintf("%s (%d bytes, %d users, %d events); %d older removed", path, f.Size, m.Counts["users"], m.Counts["events"], pruned)})
}
