package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

// adminRoleSave changes another administrator's role. An owner does not
// demote themselves here, so the site is never left without one by a slip.
func (h *handler) adminRoleSave(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	role, err := access.ParseRole(c.FormValue("role"))
	if err != nil {
		return err
	}
	if id == c.Get(ctxSession).(store.Session).AdminID {
		return access.Conflict("you cannot change your own role: another owner can")
	}
	if err := h.store.SetAdminRole(c.Request().Context(), actor(c), id, role); err != nil {
		return err
	}
	return redirect(c, "/settings/admins?flash=role")
}

// apiTokenCreate makes an API token for the signed-in admin, with a role no
// higher than theirs, and shows it once.
func (h *handler) apiTokenCreate(c echo.Context) error {
	ctx := c.Request().Context()
	sess := c.Get(ctxSession).(store.Session)
	role, err := access.ParseRole(c.FormValue("role"))
	if err != nil {
		return err
	}
	var expires time.Time
	if days := strings.TrimSpace(c.FormValue("days")); days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3650 {
			return access.Invalid("days", "must be a number of days from 1 to 3650, or empty for no expiry")
		}
		expires = h.now().AddDate(0, 0, n)
	}
	token := NewAPIToken()
	if _, err := h.store.CreateAPITokenAs(ctx, actor(c), sess.AdminID, strings.TrimSpace(c.FormValue("name")), token, expires, role); err != nil {
		return err
	}
	v, err := h.adminsView(c)
	if err != nil {
		return err
	}
	v.NewToken = token
	return render(c, http.StatusCreated, adminsPage(pageFor(c, "Administrators and API tokens"), v))
}
