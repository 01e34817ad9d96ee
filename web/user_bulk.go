package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

// bulkActions are what the users list can do to the users ticked on it,
// each with how its confirmation and its result read.
var bulkActions = map[string]struct{ ask, yes, done string }{
	"add_group":    {"Add %s to %s?", "Add %s", "Added %d to the group."},
	"remove_group": {"Remove %s from %s?", "Remove %s", "Removed %d from the group."},
	"disable":      {"Disable %s? They are refused at every door until enabled again.", "Disable %s", "Disabled %d."},
	"invite":       {"Send a Smart credential invitation to %s? Those without an email or with a credential already are left out.", "Invite %s", "Invited %d."},
	"revoke":       {"Revoke every Smart credential of %s? They are refused at every reader at once.", "Revoke the credentials of %s", "Revoked %d credentials."},
}

type bulkView struct {
	Action  string
	Group   access.Group
	Users   []access.User
	Message string
	Yes     string // the confirming button
}

func people(n int) string {
	if n == 1 {
		return "1 user"
	}
	return strconv.Itoa(n) + " users"
}

// readBulk reads a bulk action's form: the action, its group and the
// ticked users.
func (h *handler) readBulk(c echo.Context) (bulkView, error) {
	var v bulkView
	form, err := c.FormParams()
	if err != nil {
		return v, errBadRequest("the form could not be read")
	}
	v.Action = form.Get("action")
	act, ok := bulkActions[v.Action]
	if !ok {
		return v, errBadRequest("choose what to do with the users")
	}
	var ids []int64
	for _, s := range form["user"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return v, errBadRequest("%q is not a user id", s)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return v, errBadRequest("tick the users to change first")
	}
	if len(ids) > store.MaxLimit {
		return v, errBadRequest("at most %d users at once", store.MaxLimit)
	}
	ctx := c.Request().Context()
	if v.Action == "add_group" || v.Action == "remove_group" {
		gid, err := strconv.ParseInt(form.Get("group"), 10, 64)
		if err != nil {
			return v, errBadRequest("choose a group")
		}
		if v.Group, err = h.store.GroupByID(ctx, gid); err != nil {
			return v, err
		}
	}
	if v.Users, err = h.store.UsersByIDs(ctx, ids); err != nil {
		return v, err
	}
	v.Yes = fmt.Sprintf(act.yes, people(len(v.Users)))
	if v.Group.ID != 0 {
		v.Message = fmt.Sprintf(act.ask, people(len(v.Users)), v.Group.Name)
	} else {
		v.Message = fmt.Sprintf(act.ask, people(len(v.Users)))
	}
	return v, nil
}

// userBulk asks to confirm a bulk action, naming how many users it
// touches; the confirmed form does it.
func (h *handler) userBulk(c echo.Context) error {
	v, err := h.readBulk(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return render(c, http.StatusOK, userBulkConfirmPage(pageFor(c, "Confirm"), v))
	}
	ctx := c.Request().Context()
	ids := make([]int64, len(v.Users))
	for i, u := range v.Users {
		ids[i] = u.ID
	}
	n := 0
	switch v.Action {
	case "add_group":
		n, err = h.store.AddGroupMembers(ctx, actor(c), v.Group.ID, ids)
	case "remove_group":
		n, err = h.store.RemoveGroupMembers(ctx, actor(c), v.Group.ID, ids)
	case "disable":
		n, err = h.store.DisableUsers(ctx, actor(c), ids)
	case "invite":
		n, err = h.bulkInvite(c, v.Users)
	case "revoke":
		n, err = h.bulkRevoke(c, v.Users)
	}
	if err != nil {
		return err
	}
	return redirect(c, "/users?"+url.Values{"done": {v.Action}, "n": {strconv.Itoa(n)}}.Encode())
}

// bulkInvite assigns a Smart credential to each user with an email and
// none invited or active.
func (h *handler) bulkInvite(c echo.Context, users []access.User) (int, error) {
	n := 0
	for _, u := range users {
		if u.Email == "" {
			continue
		}
		has, err := h.hasCredential(c, u.ID)
		if err != nil {
			return n, err
		}
		if has {
			continue
		}
		if _, _, err := h.assign(c, u.ID, byEmail); err != nil && !errors.Is(err, store.ErrNoEmail) {
			return n, err
		}
		n++
	}
	return n, nil
}

func (h *handler) hasCredential(c echo.Context, userID int64) (bool, error) {
	creds, err := h.store.UserCredentials(c.Request().Context(), userID)
	for _, cr := range creds {
		if cr.Status == access.CredentialInvited || cr.Status == access.CredentialActive {
			return true, err
		}
	}
	return false, err
}

// bulkRevoke revokes every invited or active credential of the users.
func (h *handler) bulkRevoke(c echo.Context, users []access.User) (int, error) {
	ctx := c.Request().Context()
	n := 0
	for _, u := range users {
		creds, err := h.store.UserCredentials(ctx, u.ID)
		if err != nil {
			return n, err
		}
		for _, cr := range creds {
			if cr.Status != access.CredentialInvited && cr.Status != access.CredentialActive {
				continue
			}
			if err := h.store.RevokeCredential(ctx, actor(c), cr.ID); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// bulkDone is the users page's line after a bulk action: built from the
// action's fixed text and a number, so a link cannot put words there.
func bulkDone(c echo.Context) string {
	act, ok := bulkActions[c.QueryParam("done")]
	n, err := strconv.Atoi(c.QueryParam("n"))
	if !ok || err != nil || n < 0 {
		return ""
	}
	return fmt.Sprintf(act.done, n)
}
