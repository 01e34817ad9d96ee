package web_test

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postern/store"
	"postern/web"
)

// TestBackupDownload downloads a backup from the page, plain and
// encrypted, and restores each: the restored site is this one.
func TestBackupDownload(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	env.create(t, "users", `{"first_name":"Ann","last_name":"Lee","email":"ann@example.com"}`)
	site, err := env.s.Site(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"", "a long passphrase"} {
		w := env.post("/settings/backup/download", url.Values{"passphrase": {pass}, "passphrase_again": {pass}})
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Disposition"), `attachment; filename="postern-`) {
			t.Fatalf("download: got %d %q, want 200 and an attachment", w.Code, w.Header().Get("Content-Disposition"))
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("a backup may be cached: Cache-Control %q", w.Header().Get("Cache-Control"))
		}
		m, err := store.Restore(t.Context(), filepath.Join(t.TempDir(), "r"), bytes.NewReader(w.Body.Bytes()), pass)
		if err != nil {
			t.Fatalf("restore the download (passphrase %q): %v", pass, err)
		}
		if m.Counts["users"] != 1 || m.SiteID != hex.EncodeToString(site.ID[:]) {
			t.Errorf("restored %+v, want this site with its one user", m)
		}
	}
	var downloads int
	for _, e := range env.events(t) {
		if e.Kind == "backup.downloaded" && e.Actor == "admin:"+adminEmail {
			downloads++
		}
	}
	if downloads != 2 {
		t.Errorf("got %d backup.downloaded events by the admin, want 2", downloads)
	}
}

func TestBackupPage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := newLoggedInEnv(t)
	env.runPages(t, []scenario{
		{name: "linked from settings", method: "GET", url: "/settings", wantStatus: http.StatusOK, wantTestIDs: map[string]string{"backup-link": "backup"}},
		{name: "no schedule", method: "GET", url: "/settings/backup", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"backup-download-form": "", "backup-schedule-form": ""}, wantFields: map[string]string{"backup_dir": "", "backup_keep": "7"}},
		{name: "passphrases differ", method: "POST", url: "/settings/backup/download", body: url.Values{"passphrase": {"one"}, "passphrase_again": {"two"}}.Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-passphrase": "differ"}},
		{name: "relative folder", method: "POST", url: "/settings/backup/schedule", body: url.Values{"backup_dir": {"backups"}, "backup_every": {"24"}, "backup_keep": {"7"}}.Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-backup_dir": "absolute"}},
		{name: "every is not a number", method: "POST", url: "/settings/backup/schedule", body: url.Values{"backup_dir": {dir}, "backup_every": {"daily"}, "backup_keep": {"7"}}.Encode(),
			wantStatus: http.StatusUnprocessableEntity, wantTestIDs: map[string]string{"error-backup_every": "hours"}},
		{name: "save", method: "POST", url: "/settings/backup/schedule", body: url.Values{"backup_dir": {dir}, "backup_every": {"12"}, "backup_keep": {"3"}}.Encode(),
			wantStatus: http.StatusSeeOther, wantLocation: "/settings/backup?flash=saved"},
		{name: "saved", method: "GET", url: "/settings/backup", wantStatus: http.StatusOK,
			wantFields: map[string]string{"backup_dir": dir, "backup_every": "12", "backup_keep": "3"}, wantTestIDs: map[string]string{"backup-files-none": "within a minute"}},
	})
	got, err := env.s.BackupScheduleSetting(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.BackupSchedule{Dir: dir, Every: 12 * time.Hour, Keep: 3}); got != want {
		t.Errorf("stored schedule %+v, want %+v", got, want)
	}
	if _, err := env.s.BackupInto(t.Context(), dir, 3, store.BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	env.runPages(t, []scenario{
		{name: "lists the backup", method: "GET", url: "/settings/backup", wantStatus: http.StatusOK, wantTestIDs: map[string]string{"backup-file": "postern-20260311T100000Z.postern"}},
	})
}

// TestBackupPageFlags: a schedule from serve's flags is shown, and the
// page cannot change it.
func TestBackupPageFlags(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, func(c *web.Config) {
		c.BackupFlags = store.BackupSchedule{Dir: "/var/backups/postern", Every: 6 * time.Hour, Keep: 5}
	})
	env.runPages(t, []scenario{
		{name: "shown", method: "GET", url: "/settings/backup", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"backup-schedule-flags": "every 6 hours into /var/backups/postern, keeping the newest 5"}, wantNotContains: []string{`data-testid="backup-schedule-form"`}},
		{name: "not changed here", method: "POST", url: "/settings/backup/schedule", body: url.Values{"backup_dir": {"/tmp/x"}, "backup_every": {"1"}, "backup_keep": {"1"}}.Encode(),
			wantStatus: http.StatusBadRequest},
	})
}

// TestBackupNeedsASignedInAdmin: without a session the page and the
// download are refused.
func TestBackupNeedsASignedInAdmin(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/settings/backup", nil),
		httptest.NewRequest("POST", "/settings/backup/download", nil),
	} {
		w := env.serve(r)
		if w.Code == http.StatusOK || w.Header().Get("Content-Disposition") != "" {
			t.Errorf("%s %s without a session: got %d %q", r.Method, r.URL, w.Code, w.Header().Get("Content-Disposition"))
		}
	}
}
