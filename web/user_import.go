package web

import (
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/store"
)

// importMaxBytes bounds an uploaded CSV: 10,000 users take about 1 MB.
const importMaxBytes = 16 << 20

// importMaxLines bounds the lines of one import.
const importMaxLines = 100_000

func (h *handler) importRoutes(g, uploads *echo.Group) {
	g.GET("/users/import", h.importForm)
	uploads.POST("/users/import", h.userImportPreview)
	g.GET("/users/import/:job", h.importShow)
	g.POST("/users/import/:job/run", h.importRun)
	g.GET("/users/import/:job/progress", h.importProgress)
}

type importView struct {
	Job     store.ImportJob
	Refused []store.ImportRow // the lines refused and why
	Sample  []store.ImportRow // the first lines, as planned
	Error   string
}

func (h *handler) importForm(c echo.Context) error {
	return render(c, http.StatusOK, importFormPage(pageFor(c, "Import users"), ""))
}

// importColumns maps the header names a CSV may use to the fields read.
var importColumns = map[string]string{
	"first_name": "first_name", "firstname": "first_name", "first": "first_name", "given_name": "first_name",
	"last_name": "last_name", "lastname": "last_name", "last": "last_name", "surname": "last_name", "family_name": "last_name",
	"email": "email", "e_mail": "email", "email_address": "email",
	"groups": "groups", "group": "groups",
	"valid_from": "valid_from", "from": "valid_from", "start": "valid_from",
	"valid_until": "valid_until", "until": "valid_until", "end": "valid_until",
}

// readImportCSV reads a CSV of users with a header line. Columns it does
// not know are ignored, so an export of the users list reads back in.
func (h *handler) readImportCSV(c echo.Context, r io.Reader) ([]store.ImportRow, error) {
	loc := h.location(c.Request().Context())
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, errors.New("the file is empty or not CSV")
	}
	col := map[string]int{}
	for i, name := range header {
		key := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))))
		if f, ok := importColumns[key]; ok {
			col[f] = i
		}
	}
	if _, ok := col["email"]; !ok {
		if _, ok := col["last_name"]; !ok {
			return nil, errors.New("the first line must name the columns: first_name, last_name, email, groups, valid_from, valid_until")
		}
	}
	var rows []store.ImportRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d is not CSV: %v", line, err)
		}
		if len(rows) == importMaxLines {
			return nil, fmt.Errorf("the file has more than %d lines: split it", importMaxLines)
		}
		get := func(f string) string {
			if i, ok := col[f]; ok && i < len(rec) {
				return strings.TrimSpace(strings.TrimPrefix(rec[i], "'"))
			}
			return ""
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		row := store.ImportRow{Line: line, FirstName: get("first_name"), LastName: get("last_name"), Email: get("email")}
		for _, g := range strings.FieldsFunc(get("groups"), func(r rune) bool { return r == ';' || r == ',' || r == '|' }) {
			if g = strings.TrimSpace(g); g != "" {
				row.Groups = append(row.Groups, g)
			}
		}
		var ok bool
		if row.ValidFrom, ok = parseDay(get("valid_from"), loc); !ok {
			row.Reason = "valid_from: is not a date (2006-01-02)"
		}
		until, ok := parseDay(get("valid_until"), loc)
		if !ok {
			row.Reason = "valid_until: is not a date (2006-01-02)"
		} else if !until.IsZero() {
			row.ValidUntil = until.AddDate(0, 0, 1) // the last day is included
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, errors.New("the file has no users under its header line")
	}
	return rows, nil
}

// userImportPreview reads an uploaded CSV and stores it with its plan; the
// page it redirects to shows the plan, and running it is a second step.
func (h *handler) userImportPreview(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return render(c, http.StatusUnprocessableEntity, importFormPage(pageFor(c, "Import users"), "Choose a CSV file."))
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := h.readImportCSV(c, f)
	if err != nil {
		return render(c, http.StatusUnprocessableEntity, importFormPage(pageFor(c, "Import users"), err.Error()))
	}
	job := store.ImportJob{ID: newJobID(), FileName: fh.Filename, Invite: checked(c, "invite")}
	if err := h.store.CreateImport(c.Request().Context(), actor(c), &job, rows); err != nil {
		return err
	}
	return redirect(c, "/users/import/"+job.ID)
}

func newJobID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// importJob reads the import the URL names.
func (h *handler) importJob(c echo.Context) (store.ImportJob, error) {
	id := c.Param("job")
	if len(id) != 24 {
		return store.ImportJob{}, errBadRequest("%q is not an import", id)
	}
	return h.store.ImportByID(c.Request().Context(), id)
}

// importShow is an import's page: its preview, or its run's progress. A
// reload while it runs shows how far it has got; it neither restarts nor
// repeats it (and carries it on if the appliance restarted meanwhile).
func (h *handler) importShow(c echo.Context) error {
	job, err := h.importJob(c)
	if err != nil {
		return err
	}
	if job.Status == "running" {
		h.imports.ensure(job.ID, actor(c))
	}
	v := importView{Job: job}
	ctx := c.Request().Context()
	if v.Refused, err = h.store.ImportRows(ctx, job.ID, "refuse", 500); err != nil {
		return err
	}
	if v.Sample, err = h.store.ImportRows(ctx, job.ID, "", 20); err != nil {
		return err
	}
	return render(c, http.StatusOK, userImportPage(pageFor(c, "Import users"), v))
}

// importRun starts a previewed import. Posting it again (a reload that
// resubmits, a second tab) starts nothing more.
func (h *handler) importRun(c echo.Context) error {
	job, err := h.importJob(c)
	if err != nil {
		return err
	}
	err = h.store.StartImport(c.Request().Context(), actor(c), job.ID)
	switch {
	case err == nil || job.Status == "running":
		h.imports.ensure(job.ID, actor(c))
	case !errors.Is(err, store.ErrImportStarted):
		return err
	}
	return redirect(c, "/users/import/"+job.ID)
}

// importPoll is how often the progress stream looks at the import.
const importPoll = 250 * time.Millisecond

// importProgress streams an import's progress bar as Server-Sent Events
// until it is done; the last message says so ("done"), which closes the
// browser's stream.
func (h *handler) importProgress(c echo.Context) error {
	job, err := h.importJob(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	w := c.Response()
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(importPoll)
	defer tick.Stop()
	for {
		rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
		if err := sseComponent(w, "progress", importProgressBar(job)); err != nil {
			return nil
		}
		if job.Status == "done" {
			sseComponent(w, "done", importSummary(job))
			w.Flush()
			return nil
		}
		w.Flush()
		select {
		case <-ctx.Done():
			return nil
		case <-h.stop:
			return nil
		case <-tick.C:
		}
		if job, err = h.store.ImportByID(ctx, job.ID); err != nil {
			h.log.Warn("import progress", "err", err)
			return nil
		}
	}
}
