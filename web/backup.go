package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

func (h *handler) backupRoutes(g *echo.Group) {
	g.GET("/settings/backup", h.backupShow)
	g.POST("/settings/backup/download", h.backupDownload)
	g.POST("/settings/backup/schedule", h.backupScheduleSave)
}

type backupView struct {
	Dir, Every, Keep string
	// FromFlags: serve's --backup-dir sets the schedule, and the page's
	// own is not used while it does.
	FromFlags bool
	On        bool
	Files     []backupFileRow
	FilesErr  string
	Errors    fieldErrors
}

type backupFileRow struct {
	Name, Taken, Size string
}

func (h *handler) backupView(c echo.Context) (backupView, error) {
	ctx := c.Request().Context()
	sched, err := h.store.BackupScheduleSetting(ctx)
	if err != nil {
		return backupView{}, err
	}
	v := backupView{Errors: fieldErrors{}}
	if h.backupFlags.On() {
		sched, v.FromFlags = h.backupFlags, true
	}
	v.Dir, v.Keep, v.On = sched.Dir, strconv.Itoa(sched.Keep), sched.On()
	v.Every = "24"
	if sched.Every > 0 {
		v.Every = strconv.FormatFloat(sched.Every.Hours(), 'f', -1, 64)
	}
	if sched.On() {
		files, err := store.BackupFiles(sched.Dir)
		if err != nil {
			v.FilesErr = err.Error()
		}
		loc := h.location(ctx)
		for _, f := range files {
			v.Files = append(v.Files, backupFileRow{Name: f.Name, Taken: formatTime(f.Taken, loc), Size: byteSize(f.Size)})
		}
	}
	return v, nil
}

func (h *handler) backupShow(c echo.Context) error {
	v, err := h.backupView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, backupPage(pageFor(c, "Backup"), v))
}

// backupDownload streams a backup of the running site to the browser.
// Nothing is written until the copy is taken, so a failure before it is
// an ordinary error page rather than a broken download.
func (h *handler) backupDownload(c echo.Context) error {
	ctx := c.Request().Context()
	pass, again := c.FormValue("passphrase"), c.FormValue("passphrase_again")
	if pass != again {
		v, err := h.backupView(c)
		if err != nil {
			return err
		}
		v.Errors["passphrase"] = "the two passphrases differ"
		return render(c, http.StatusUnprocessableEntity, backupPage(pageFor(c, "Backup"), v))
	}
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("postern-%s-%s.postern", hexID(site.ID)[:8], h.now().UTC().Format("20060102T150405Z"))
	w := &lazyAttachment{c: c, name: name}
	m, err := h.store.Backup(ctx, w, store.BackupOptions{Passphrase: pass, Version: h.version})
	if err != nil {
		if w.started {
			// The browser has part of a file; all that is left is to
			// cut it short, which the restore refuses.
			h.log.Error("backup download failed mid-way", "err", err)
			return nil
		}
		return err
	}
	detail := fmt.Sprintf("%d bytes of database, %d users, %d events", m.Database.Size, m.Counts["users"], m.Counts["events"])
	if pass != "" {
		detail += ", encrypted"
	}
	return h.store.AppendEvent(ctx, &access.Event{Kind: "backup.downloaded", Actor: actor(c), Detail: detail})
}

// lazyAttachment sends the download's headers with its first bytes.
type lazyAttachment struct {
	c       echo.Context
	name    string
	started bool
}

func (a *lazyAttachment) Write(p []byte) (int, error) {
	if !a.started {
		a.started = true
		hd := a.c.Response().Header()
		hd.Set(echo.HeaderContentType, "application/octet-stream")
		hd.Set(echo.HeaderContentDisposition, `attachment; filename="`+a.name+`"`)
		hd.Set("Cache-Control", "no-store")
		a.c.Response().WriteHeader(http.StatusOK)
	}
	return a.c.Response().Write(p)
}

func (h *handler) backupScheduleSave(c echo.Context) error {
	v, err := h.backupView(c)
	if err != nil {
		return err
	}
	if v.FromFlags {
		return errBadRequest("serve's --backup-dir sets the schedule; change it there")
	}
	v.Dir, v.Every, v.Keep = strings.TrimSpace(c.FormValue("backup_dir")), strings.TrimSpace(c.FormValue("backup_every")), strings.TrimSpace(c.FormValue("backup_keep"))
	// An empty folder turns the schedule off, whatever the other fields say.
	var sched store.BackupSchedule
	if v.Dir != "" {
		sched.Dir = v.Dir
		hours, err := strconv.ParseFloat(v.Every, 64)
		if err != nil || hours <= 0 || hours > 24*366 {
			v.Errors["backup_every"] = "must be a number of hours, such as 24 or 0.5"
		}
		sched.Every = time.Duration(hours * float64(time.Hour))
		if sched.Keep, err = strconv.Atoi(v.Keep); err != nil {
			v.Errors["backup_keep"] = "must be a whole number"
		}
	}
	if len(v.Errors) == 0 {
		err := h.store.SetBackupScheduleSetting(c.Request().Context(), actor(c), sched)
		if !addFieldErrors(v.Errors, err) && err != nil {
			return err
		}
	}
	if len(v.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, backupPage(pageFor(c, "Backup"), v))
	}
	return redirect(c, "/settings/backup?flash=saved")
}

// byteSize is a file size for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
