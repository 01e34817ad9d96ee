package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

func (h *handler) exportRoutes(g *echo.Group) {
	g.GET("/events/export.csv", h.eventExport)
	g.GET("/users/export.csv", h.userExport)
}

// exportFlush is how much CSV is buffered before it goes to the browser,
// which is also how often the write deadline moves on: an export of a
// million events outlasts the server's write timeout, so as for a live
// stream each write gets its own.
const exportFlush = 64 << 10

// csvExport writes a CSV download as it is produced: rows go out as the
// store reads them, never all held at once.
type csvExport struct {
	*csv.Writer
	buf *bufio.Writer
}

// startCSV sends the headers of a CSV download named name. total, the
// rows to come, lets the page show the export's progress. The export
// holds turn while it works and passes it at each flush.
func startCSV(c echo.Context, turn *pageTurn, name string, total int, header []string) *csvExport {
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hd.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	hd.Set("X-Total-Count", strconv.Itoa(total))
	hd.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	buf := bufio.NewWriterSize(flushWriter{c.Request().Context(), c.Response(), http.NewResponseController(c.Response()), turn}, exportFlush)
	x := &csvExport{Writer: csv.NewWriter(buf), buf: buf}
	x.Write(header)
	return x
}

// flushWriter sends each full buffer to the browser at once, each with a
// new write deadline. It passes the page turn meanwhile: other pages go
// ahead while a slow browser reads, and the export then waits for the
// page budget like any page.
type flushWriter struct {
	ctx  context.Context
	w    http.ResponseWriter
	rc   *http.ResponseController
	turn *pageTurn
}

func (f flushWriter) Write(p []byte) (n int, err error) {
	err = f.turn.pass(f.ctx, func() error {
		// Not every writer has deadlines (a test's recorder has none);
		// the server's do.
		_ = f.rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
		if n, err = f.w.Write(p); err != nil {
			return err
		}
		return f.rc.Flush()
	})
	return n, err
}

// end sends what is buffered.
func (x *csvExport) end() error {
	x.Flush()
	if err := x.Error(); err != nil {
		return err
	}
	return x.buf.Flush()
}

// cell makes text safe to open in a spreadsheet: one that starts like a
// formula is read as text (OWASP's CSV injection advice), since names and
// reasons come from people and keys.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// eventExport downloads the events the filter matches as CSV, oldest
// first.
func (h *handler) eventExport(c echo.Context) error {
	f, _, err := h.readEventFilter(c, true)
	if err != nil {
		return err
	}
	f.Before, f.Limit = 0, 0
	ctx := c.Request().Context()
	turn, err := h.takeTurn(ctx)
	if err != nil {
		return err
	}
	defer turn.end()
	total, err := h.store.CountEvents(ctx, f)
	if err != nil {
		return err
	}
	loc := h.location(ctx)
	x := startCSV(c, turn, "events-"+h.now().In(loc).Format("2006-01-02")+".csv", total,
		[]string{"id", "time", "kind", "reason", "user_id", "user", "access_point_id", "access_point", "credential_id", "rssi_dbm", "latency_ms", "actor", "detail"})
	row := make([]string, 13)
	err = h.store.EachEvent(ctx, f, func(e *access.Event) error {
		row[0] = strconv.FormatInt(e.ID, 10)
		row[1] = e.At.In(loc).Format(time.RFC3339)
		row[2], row[3] = e.Kind, cell(e.Reason)
		row[4], row[5] = optNum(e.UserID), cell(e.UserName)
		row[6], row[7] = optNum(e.AccessPointID), cell(e.AccessPointName)
		row[8] = cell(e.CredentialID)
		row[9] = optNum(int64(e.RSSI))
		row[10] = ""
		if e.Latency > 0 {
			row[10] = strconv.FormatFloat(float64(e.Latency.Microseconds())/1000, 'f', 3, 64)
		}
		row[11], row[12] = cell(e.Actor), cell(e.Detail)
		return x.Write(row)
	})
	return h.endExport(c, x, err)
}

// userExport downloads every user as CSV, in the columns the import reads.
func (h *handler) userExport(c echo.Context) error {
	ctx := c.Request().Context()
	turn, err := h.takeTurn(ctx)
	if err != nil {
		return err
	}
	defer turn.end()
	total, err := h.store.CountUsers(ctx)
	if err != nil {
		return err
	}
	loc := h.location(ctx)
	x := startCSV(c, turn, "users-"+h.now().In(loc).Format("2006-01-02")+".csv", total,
		[]string{"id", "first_name", "last_name", "email", "groups", "valid_from", "valid_until", "enabled"})
	row := make([]string, 8)
	err = h.store.EachUser(ctx, func(u *store.UserRow) error {
		row[0] = strconv.FormatInt(u.ID, 10)
		row[1], row[2], row[3] = cell(u.FirstName), cell(u.LastName), cell(u.Email)
		row[4] = cell(strings.Join(u.Groups, "; "))
		row[5] = formatDay(u.ValidFrom, loc)
		row[6] = ""
		if !u.ValidUntil.IsZero() {
			// Stored as the end of the last day; written as that day.
			row[6] = formatDay(u.ValidUntil.Add(-time.Nanosecond), loc)
		}
		row[7] = strconv.FormatBool(u.Enabled)
		return x.Write(row)
	})
	return h.endExport(c, x, err)
}

// endExport finishes a download. Once rows have gone out the status is
// sent, so a failure can only be logged and the download cut short, which
// the browser shows as failed.
func (h *handler) endExport(c echo.Context, x *csvExport, err error) error {
	if err == nil {
		err = x.end()
	}
	if err != nil {
		h.log.Warn("export cut short", "path", c.Request().URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

func optNum(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
