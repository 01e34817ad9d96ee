package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"postern/access"
)

// public marks a route anyone may reach: it checks who is asking itself,
// or needs no one (a sign-in form, a key's own API, health).
const public access.Role = "public"

const (
	viewer    = access.RoleViewer
	reception = access.RoleReception
	admin     = access.RoleAdmin
	owner     = access.RoleOwner
)

// permissions is the one table of who may use which route: the least role
// a signed-in admin, or an API token, needs for each method and path as
// echo registered it. A route missing here is refused to everyone, and a
// test fails until it is added. Finer rules inside a handler (a token is
// revoked by its maker or an owner) only narrow what this table allows.
var permissions = map[string]access.Role{
	// Before sign-in, and the key API (keys prove themselves per request).
	"GET /healthz":                   public,
	"GET /metrics":                   public, // its own address and token check
	"GET /assets/*":                  public,
	"GET /setup":                     public,
	"POST /setup":                    public,
	"GET /login":                     public,
	"POST /login":                    public,
	"GET /key/register":              public,
	"GET /api/v1/openapi.json":       public, // describes the API, not the site
	"GET /login/forgot":              public,
	"POST /login/forgot":             public, // answers alike for anyone; limited per address
	"GET /admin-link/:token":         public, // the emailed token is the proof
	"POST /admin-link/:token":        public,
	"GET /login/code":                public, // the password's challenge cookie is the proof
	"POST /login/code":               public,
	"GET /login/enrol":               public,
	"POST /login/enrol":              public,
	"POST /api/key/v1/register":      public,
	"POST /api/key/v1/share":         public,
	"POST /api/key/v2/register":      public,
	"POST /api/key/v2/share":         public,
	"POST /api/key/v2/migrate":       public,
	"POST /api/key/v2/shares/redeem": public,
	// The web key: a phone's browser, proved by its passkey and
	// registration code per request, never by an admin's session.
	"GET /key":                          public,
	"GET /key/sw.js":                    public,
	"GET /key/manifest.webmanifest":     public,
	"POST /api/key/web/register/begin":  public,
	"POST /api/key/web/register/finish": public,
	"POST /api/key/web/remove":          public,
	"POST /api/key/web/doors":           public,
	"GET /api/key/web/doors/:id":        public,
	"POST /api/key/web/open":            public,
	"POST /api/key/web/open/:exchange":  public,
	"POST /api/key/web/share":           public, // signed by the holder's passkey

	// Every signed-in admin: their own account.
	"GET /":                       viewer,
	"POST /logout":                viewer,
	"GET /settings/admins":        viewer,
	"POST /settings/password":     viewer,
	"POST /settings/sessions/end": viewer,
	// Their own second factor.
	"POST /settings/two-factor/start":          viewer,
	"POST /settings/two-factor":                viewer,
	"POST /settings/two-factor/disable":        viewer,
	"POST /settings/two-factor/recovery-codes": viewer,
	"POST /settings/tokens":                    viewer, // own, no higher than theirs
	"POST /settings/tokens/:id/revoke":         viewer, // own tokens; an owner's any

	// Reading the site.
	"GET /users":             viewer,
	"GET /users/new":         admin,
	"GET /users/:id":         viewer,
	"GET /groups":            viewer,
	"GET /groups/new":        admin,
	"GET /groups/:id":        viewer,
	"GET /access-points":     viewer,
	"GET /access-points/new": admin,
	"GET /access-points/:id": viewer,
	"GET /time-profiles":     viewer,
	"GET /time-profiles/new": admin,
	"GET /time-profiles/:id": viewer,
	"GET /permissions":       viewer,
	"GET /events":            viewer,
	"GET /events/stream":     viewer,
	// Exports and the roll call read what the role may read already; an
	// evacuation's list is for whoever is at hand.
	"GET /events/export.csv": viewer,
	"GET /users/export.csv":  viewer,
	"GET /roll-call":         viewer,
	"GET /alarms":            viewer,

	// Reception: the front desk opens a door now, and starts or ends an
	// emergency, since that is where one is noticed first.
	"POST /access-points/:id/unlock": reception,
	"POST /access-points/:id/lock":   reception,
	"POST /site/lockdown":            reception,
	"POST /site/evacuation":          reception,
	"POST /site/normal":              reception,
	"GET /visitors":                  viewer,
	"POST /visitors":                 reception,
	"GET /api/v1/visitors":           viewer,
	"POST /api/v1/visitors":          reception,

	// Admin: people, doors, credentials, and the mail they cause.
	"POST /users":                                admin,
	"POST /users/:id":                            admin,
	"POST /users/:id/delete":                     admin,
	"POST /users/:id/groups":                     admin,
	"POST /users/bulk":                           admin, // add/remove group, disable, invite, revoke
	"GET /users/import":                          admin,
	"POST /users/import":                         admin,
	"GET /users/import/:job":                     admin,
	"GET /users/import/:job/progress":            admin,
	"POST /users/import/:job/run":                admin,
	"POST /groups/:id/members":                   admin,
	"POST /groups/:id/members/remove":            admin,
	"POST /groups":                               admin,
	"POST /groups/:id":                           admin,
	"POST /groups/:id/delete":                    admin,
	"POST /access-points":                        admin,
	"POST /access-points/:id":                    admin,
	"POST /access-points/:id/delete":             admin,
	"POST /access-points/:id/calibrate":          admin,
	"POST /time-profiles":                        admin,
	"POST /time-profiles/:id":                    admin,
	"POST /time-profiles/:id/delete":             admin,
	"POST /permissions":                          admin,
	"POST /permissions/:id/delete":               admin,
	"POST /users/:id/credentials":                admin,
	"POST /credentials/:cid/revoke":              admin,
	"GET /users/:id/codes/:ticket":               admin, // a code, shown once to who made it
	"GET /permissions/user-choices":              admin, // the add-permission form's search
	"POST /credentials/:cid/reissue":             admin,
	"POST /credentials/:cid/resend":              admin,
	"POST /users/:id/credentials/import/preview": admin,
	"POST /users/:id/credentials/import":         admin,
	"POST /alarms/rules":                         admin,
	// Remote readers are doors: enrolling one hands out a secret.
	"GET /readers":               viewer,
	"POST /readers":              admin,
	"POST /readers/:id/token":    admin,
	"POST /readers/:id/delete":   admin,
	"POST /readers/lease":        admin,
	"GET /api/v1/readers":        viewer,
	"POST /api/v1/readers":       admin,
	"DELETE /api/v1/readers/:id": admin,
	// The outbox holds registration links: whoever reads it could take a
	// key meant for someone else.
	"GET /outbox":            admin,
	"POST /outbox/:id/retry": admin,
	// Shares this site sent: anyone may read them; withdrawing one takes
	// a key away, as revoking does.
	"GET /shares":                         viewer,
	"POST /shares/:token/withdraw":        admin,
	"GET /api/v1/shares":                  viewer,
	"POST /api/v1/shares/:token/withdraw": admin,

	// Owner: administrators, settings, and where event data goes.
	"GET /settings":                    owner,
	"POST /settings":                   owner,
	"POST /settings/test-email":        owner,
	"POST /settings/admins/:id/delete": owner,
	"POST /settings/admins/:id/role":   owner,
	// Turning off another's second factor lets their password alone in.
	"POST /settings/admins/:id/two-factor-off": owner,
	"POST /settings/admins/invite":             owner,
	"POST /settings/two-factor/roles":          owner,
	// The protocol version and the site key decide which keys open doors.
	"POST /settings/protocol":       owner,
	"POST /settings/site-key/roll":  owner,
	"GET /api/v1/settings/protocol": owner,
	"PUT /api/v1/settings/protocol": owner,
	"POST /api/v1/site/key/roll":    owner,
	"POST /webhooks":                owner,
	"POST /webhooks/:id/delete":     owner,
	// A backup holds the site key and every secret.
	"GET /settings/backup":           owner,
	"POST /settings/backup/schedule": owner,
	"POST /settings/backup/download": owner,

	// The JSON API, by the same rules.
	"GET /api/v1/users":                         viewer,
	"POST /api/v1/users":                        admin,
	"GET /api/v1/users/:id":                     viewer,
	"PATCH /api/v1/users/:id":                   admin,
	"DELETE /api/v1/users/:id":                  admin,
	"GET /api/v1/groups":                        viewer,
	"POST /api/v1/groups":                       admin,
	"GET /api/v1/groups/:id":                    viewer,
	"PATCH /api/v1/groups/:id":                  admin,
	"DELETE /api/v1/groups/:id":                 admin,
	"GET /api/v1/access-points":                 viewer,
	"POST /api/v1/access-points":                admin,
	"GET /api/v1/access-points/:id":             viewer,
	"PATCH /api/v1/access-points/:id":           admin,
	"DELETE /api/v1/access-points/:id":          admin,
	"POST /api/v1/access-points/:id/touch":      admin,
	"POST /api/v1/access-points/:id/calibrate":  admin,
	"POST /api/v1/access-points/:id/unlock":     reception,
	"POST /api/v1/access-points/:id/lock":       reception,
	"POST /api/v1/access-points/:id/door":       admin,
	"GET /api/v1/doors":                         viewer,
	"GET /api/v1/alarm-rules":                   viewer,
	"PUT /api/v1/alarm-rules":                   admin,
	"GET /api/v1/webhooks":                      owner,
	"POST /api/v1/webhooks":                     owner,
	"DELETE /api/v1/webhooks/:id":               owner,
	"GET /api/v1/site/mode":                     viewer,
	"POST /api/v1/site/mode":                    reception,
	"GET /api/v1/time-profiles":                 viewer,
	"POST /api/v1/time-profiles":                admin,
	"GET /api/v1/time-profiles/:id":             viewer,
	"PATCH /api/v1/time-profiles/:id":           admin,
	"DELETE /api/v1/time-profiles/:id":          admin,
	"GET /api/v1/permissions":                   viewer,
	"POST /api/v1/permissions":                  admin,
	"GET /api/v1/permissions/:id":               viewer,
	"PATCH /api/v1/permissions/:id":             admin,
	"DELETE /api/v1/permissions/:id":            admin,
	"GET /api/v1/events":                        viewer,
	"GET /api/v1/outbox":                        admin,
	"GET /api/v1/users/:id/credentials":         viewer,
	"POST /api/v1/users/:id/credentials":        admin,
	"GET /api/v1/credentials/:cid":              viewer,
	"POST /api/v1/credentials/:cid/revoke":      admin,
	"POST /api/v1/credentials/:cid/reissue":     admin,
	"POST /api/v1/users/:id/credentials/import": admin,
}

// PermissionFor returns the least role that may use a route, as echo names
// it ("GET", "/users/:id"), and whether the table has a rule for it.
func PermissionFor(method, path string) (access.Role, bool) {
	r, ok := permissions[method+" "+path]
	return r, ok
}

// IsPublic reports whether a role from PermissionFor needs no sign-in.
func IsPublic(r access.Role) bool { return r == public }

const ctxRole = "role"

// authorize lets a request through when the signed-in admin's or the
// token's role is at least what the table asks for its route.
func (h *handler) authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		need, ok := PermissionFor(c.Request().Method, c.Path())
		if !ok && !h.routes[c.Request().Method+" "+c.Path()] {
			return next(c) // no such route: echo answers 404 or 405
		}
		if !ok {
			h.log.Error("route has no permission rule: refused", "method", c.Request().Method, "path", c.Path())
			return echo.NewHTTPError(http.StatusForbidden, "nobody may use this yet: it has no permission rule")
		}
		if need == public {
			return next(c)
		}
		if !roleOf(c).AtLeast(need) {
			return echo.NewHTTPError(http.StatusForbidden, "your role ("+string(roleOf(c))+") may not do this: it needs "+string(need)+" or above")
		}
		return next(c)
	}
}

// roleOf is the role the request acts with: its session's or its token's.
func roleOf(c echo.Context) access.Role {
	r, _ := c.Get(ctxRole).(access.Role)
	return r
}

// can reports whether the request's role may use a route; pages use it to
// show only the links and buttons that would work.
func can(r access.Role, method, path string) bool {
	need, ok := PermissionFor(method, path)
	return ok && (need == public || r.AtLeast(need))
}
