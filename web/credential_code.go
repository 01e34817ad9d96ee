package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"postern/access"
	"postern/store"
)

// A registration code is shown at most once, and never as the answer to the
// POST that made it: reloading that answer would post again, making a
// second credential and sending a second email. The POST puts the code on
// a shelf in memory under a random ticket and redirects to the ticket's
// page; the first GET takes it off the shelf, and any later one (a reload,
// the back button) says it was shown already. The code never touches the
// disk, and a ticket works only for the session that made it.

// codeShelfLife is how long a code waits for its one view.
const codeShelfLife = 10 * time.Minute

// shelvedCode is a code waiting for its one view.
type shelvedCode struct {
	session string // the CSRF token of the admin session that made it
	userID  int64
	code    string
	expires time.Time // when the code stops working
	printed bool      // no email was sent: the page is for handing over
	until   time.Time // when the shelf forgets it
}

// codeShelf holds codes between their POST and their one GET.
type codeShelf struct {
	mu    sync.Mutex
	codes map[string]shelvedCode
	now   func() time.Time
}

func newCodeShelf(now func() time.Time) *codeShelf {
	return &codeShelf{codes: map[string]shelvedCode{}, now: now}
}

// put shelves c and returns its ticket.
func (s *codeShelf) put(c shelvedCode) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for t, old := range s.codes {
		if !now.Before(old.until) {
			delete(s.codes, t)
		}
	}
	c.until = now.Add(codeShelfLife)
	ticket := rand.Text()
	s.codes[ticket] = c
	return ticket
}

// take returns the code under ticket and forgets it, if it is there for
// this session and user and not too old.
func (s *codeShelf) take(ticket, session string, userID int64) (shelvedCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[ticket]
	if !ok || c.session != session || c.userID != userID {
		return shelvedCode{}, false
	}
	delete(s.codes, ticket)
	return c, s.now().Before(c.until)
}

// delivery is how a new code reaches its holder.
type delivery int

const (
	byEmail         delivery = iota // emailed only
	byEmailAndShown                 // emailed, and shown once to the admin
	byPrint                         // shown once to print or read out; no email
)

// readDelivery reads the choice of a credential form: the button pressed
// (delivery=print) or the "also show me the code" box.
func readDelivery(c echo.Context) delivery {
	switch {
	case c.FormValue("delivery") == "print":
		return byPrint
	case checked(c, "show_code"):
		return byEmailAndShown
	}
	return byEmail
}

// codeDone answers the POST that made a code: the user's page with a
// flash when the code was only emailed, else the code's one-time view.
func (h *handler) codeDone(c echo.Context, u access.User, code string, how delivery, flash string) error {
	if how == byEmail {
		return redirect(c, "/users/"+strconv.FormatInt(u.ID, 10)+"?flash="+flash)
	}
	sess, _ := c.Get(ctxSession).(store.Session)
	ticket := h.codes.put(shelvedCode{session: sess.CSRF, userID: u.ID, code: code,
		expires: h.now().Add(h.codeLifetime(c.Request().Context())), printed: how == byPrint})
	return redirect(c, "/users/"+strconv.FormatInt(u.ID, 10)+"/codes/"+ticket)
}

type codeView struct {
	User    access.User
	Code    string
	Expires string
	Link    string
	Printed bool
	QR      templ.SafeURL // the link as a QR code, a data: URL; empty if it cannot be drawn
}

// codeShow is the one view of a new code.
func (h *handler) codeShow(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := h.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	// Neither this page nor the one saying it is gone may be kept by the
	// browser: the back button must not bring the code back.
	c.Response().Header().Set("Cache-Control", "no-store")
	sess, _ := c.Get(ctxSession).(store.Session)
	shelved, ok := h.codes.take(c.Param("ticket"), sess.CSRF, id)
	if !ok {
		return render(c, http.StatusGone, codeGonePage(pageFor(c, "Registration code"), u))
	}
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	v := codeView{User: u, Code: shelved.code, Link: RegistrationLink(h.publicURL, shelved.code, siteFingerprint(site)),
		Expires: formatTime(shelved.expires, h.location(ctx)), Printed: shelved.printed}
	v.QR = qrDataURL(v.Link)
	return render(c, http.StatusOK, codePage(pageFor(c, "Registration code"), v))
}

// qrDataURL draws s as a QR code in a data: URL (the page's
// Content-Security-Policy allows data: images), or "" if it cannot. It is
// safe as a URL: it is base64 of a PNG this drew, nothing from outside.
func qrDataURL(s string) templ.SafeURL {
	png, err := qrcode.Encode(s, qrcode.Medium, 256)
	if err != nil {
		return ""
	}
	return templ.SafeURL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}
