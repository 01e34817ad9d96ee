package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
)

func (h *handler) userRoutes(g *echo.Group) {
	g.GET("/users", h.userList)
	g.GET("/users/new", h.userNew)
	g.POST("/users", h.userCreate)
	g.GET("/users/:id", h.userShow)
	g.POST("/users/:id", h.userUpdate)
	g.POST("/users/:id/delete", h.userDelete)
	g.POST("/users/:id/groups", h.userGroupsSave)
	g.POST("/users/bulk", h.userBulk)
}

type userFormView struct {
	User       access.User
	ValidFrom  string
	ValidUntil string
	Errors     fieldErrors
	// SameEmail are the other users with this email address. A save that
	// would give a second person an address is refused once, naming them,
	// until the admin ticks that they share it (AskShared).
	SameEmail []access.User
	AskShared bool
	// Groups are the choices of the new-user form, ticked as posted.
	Groups []groupChoice
}

func (h *handler) userNew(c echo.Context) error {
	v := userFormView{User: access.User{Enabled: true}}
	var err error
	if v.Groups, err = h.groupChoices(c, nil); err != nil {
		return err
	}
	return render(c, http.StatusOK, userNewPage(pageFor(c, "New user"), v))
}

// groupChoices lists every group, those in member ticked.
func (h *handler) groupChoices(c echo.Context, member []int64) ([]groupChoice, error) {
	sc, err := h.siteChoices(c.Request().Context())
	if err != nil {
		return nil, err
	}
	var out []groupChoice
	for _, g := range sc.groups {
		out = append(out, groupChoice{g, slices.Contains(member, g.ID)})
	}
	return out, nil
}

// formGroupIDs reads the ticked "group" boxes of a form.
func formGroupIDs(c echo.Context) ([]int64, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, errBadRequest("the form could not be read")
	}
	var ids []int64
	for _, s := range form["group"] {
		gid, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errBadRequest("%q is not a group id", s)
		}
		ids = append(ids, gid)
	}
	return ids, nil
}

// readUserForm fills u from the posted form, collecting field errors.
func (h *handler) readUserForm(c echo.Context, u *access.User) userFormView {
	loc := h.location(c.Request().Context())
	u.FirstName = c.FormValue("first_name")
	u.LastName = c.FormValue("last_name")
	u.Email = c.FormValue("email")
	u.Enabled = checked(c, "enabled")
	u.LockdownExempt = checked(c, "lockdown_exempt")
	u.AllowedOffline = checked(c, "allowed_offline")
	v := userFormView{User: *u, ValidFrom: c.FormValue("valid_from"), ValidUntil: c.FormValue("valid_until"), Errors: fieldErrors{}}
	var ok bool
	if u.ValidFrom, ok = parseDay(v.ValidFrom, loc); !ok {
		v.Errors["valid_from"] = "is not a date"
	}
	until, ok := parseDay(v.ValidUntil, loc)
	if !ok {
		v.Errors["valid_until"] = "is not a date"
	} else if !until.IsZero() {
		// "Valid until 31 March" includes the 31st.
		until = until.AddDate(0, 0, 1)
	}
	u.ValidUntil = until
	addFieldErrors(v.Errors, validateDraft(*u))
	return v
}

// sharedEmail finds the other users with u's address. When the address is
// new to u (a new user, or a changed email) and the admin has not said it
// is shared, it reports that the save must wait for them to say so.
func (h *handler) sharedEmail(c echo.Context, v *userFormView, u access.User, before string) (wait bool, err error) {
	same, err := h.store.UsersByEmail(c.Request().Context(), u.Email)
	if err != nil {
		return false, err
	}
	for _, o := range same {
		if o.ID != u.ID {
			v.SameEmail = append(v.SameEmail, o)
		}
	}
	changed := !strings.EqualFold(strings.TrimSpace(u.Email), before)
	v.AskShared = len(v.SameEmail) > 0 && changed && !checked(c, "email_shared")
	return v.AskShared, nil
}

func (h *handler) userCreate(c echo.Context) error {
	var u access.User
	v := h.readUserForm(c, &u)
	groups, err := formGroupIDs(c)
	if err != nil {
		return err
	}
	if v.Groups, err = h.groupChoices(c, groups); err != nil {
		return err
	}
	// Named with the other problems, if any, so it is not one more round.
	wait, err := h.sharedEmail(c, &v, u, "")
	if err != nil {
		return err
	}
	if len(v.Errors) == 0 && !wait {
		err := h.store.CreateUserInGroups(c.Request().Context(), actor(c), &u, groups)
		if err == nil {
			return redirect(c, "/users/"+strconv.FormatInt(u.ID, 10)+"?flash=created")
		}
		if err := formError(err, v.Errors); err != nil {
			return err
		}
	}
	return render(c, http.StatusUnprocessableEntity, userNewPage(pageFor(c, "New user"), v))
}

type userShowView struct {
	State       string // as userState says it
	Form        userFormView
	Groups      []groupChoice
	Permissions []access.Permission
	ViaGroups   []access.Permission // permissions the user has through groups
	PermForm    permissionFormView
	Credentials credentialsView
	History     []access.Event // the user's newest events
}

// historyLimit is how many events a user's or door's page shows.
const historyLimit = 10

type groupChoice struct {
	Group  access.Group
	Member bool
}

func (h *handler) userShowView(c echo.Context, u access.User) (userShowView, error) {
	ctx := c.Request().Context()
	loc := h.location(ctx)
	v := userShowView{State: userState(u, h.now(), loc),
		Form: userFormView{User: u, ValidFrom: formatDay(u.ValidFrom, loc), ValidUntil: lastDay(u, loc), Errors: fieldErrors{}}}
	if _, err := h.sharedEmail(c, &v.Form, u, u.Email); err != nil {
		return v, err
	}
	mine, err := h.store.UserGroups(ctx, u.ID)
	if err != nil {
		return v, err
	}
	ids := make([]int64, len(mine))
	for i, g := range mine {
		ids[i] = g.ID
	}
	if v.Groups, err = h.groupChoices(c, ids); err != nil {
		return v, err
	}
	perms, err := h.store.Permissions(ctx, store.ListOptions{Limit: store.MaxLimit}, u.ID, 0)
	if err != nil {
		return v, err
	}
	v.Permissions = perms.Items
	for _, g := range mine {
		gp, err := h.store.GroupPermissions(ctx, g.ID)
		if err != nil {
			return v, err
		}
		v.ViaGroups = append(v.ViaGroups, gp...)
	}
	if v.PermForm, err = h.permissionChoices(c, permissionFormView{Permission: access.Permission{UserID: u.ID}, Errors: fieldErrors{}}); err != nil {
		return v, err
	}
	creds, err := h.store.UserCredentials(ctx, u.ID)
	if err != nil {
		return v, err
	}
	v.Credentials = credentialsView{UserID: u.ID, HasEmail: u.Email != "", Credentials: creds, Loc: loc, Warning: issueWarning(u, h.now(), loc)}
	v.History, _, err = h.store.Events(ctx, access.EventFilter{UserID: u.ID, Limit: historyLimit})
	return v, err
}

func (h *handler) userShow(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	u, err := h.store.UserByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v, err := h.userShowView(c, u)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, userShowPage(pageFor(c, u.Name()), v))
}

func (h *handler) userUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	u, err := h.store.UserByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	before := u.Email
	form := h.readUserForm(c, &u)
	wait, err := h.sharedEmail(c, &form, u, before)
	if err != nil {
		return err
	}
	if len(form.Errors) == 0 && !wait {
		err := h.store.UpdateUser(c.Request().Context(), actor(c), &u)
		if err == nil {
			return redirect(c, "/users/"+strconv.FormatInt(u.ID, 10)+"?flash=saved")
		}
		if err := formError(err, form.Errors); err != nil {
			return err
		}
	}
	v, err := h.userShowView(c, u)
	if err != nil {
		return err
	}
	v.Form = form
	return render(c, http.StatusUnprocessableEntity, userShowPage(pageFor(c, u.Name()), v))
}

func (h *handler) userDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteUser(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, "/users?flash=deleted")
}

func (h *handler) userGroupsSave(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	ids, err := formGroupIDs(c)
	if err != nil {
		return err
	}
	if err := h.store.SetUserGroups(c.Request().Context(), actor(c), id, ids); err != nil {
		return err
	}
	return redirect(c, "/users/"+strconv.FormatInt(id, 10)+"?flash=saved")
}
