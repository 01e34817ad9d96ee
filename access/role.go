package access

// Role is what an administrator, or an API token, may do. Roles are
// ordered: each may do everything the ones below it may.
type Role string

// The roles, from least to most.
const (
	RoleViewer    Role = "viewer"    // reads everything but secrets and settings
	RoleReception Role = "reception" // also visitors, unlock now, emergencies
	RoleAdmin     Role = "admin"     // also people, doors, credentials
	RoleOwner     Role = "owner"     // also administrators and settings
)

// Roles are every role, from least to most.
var Roles = []Role{RoleViewer, RoleReception, RoleAdmin, RoleOwner}

// Rank orders roles: 1 for viewer up to 4 for owner, 0 for no role at all.
func (r Role) Rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.Rank() > 0 }

// AtLeast reports whether r may do what min may.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.Rank() >= min.Rank() }

// Lower returns the lesser of r and o: a token acts with no more than its
// maker may do now.
func (r Role) Lower(o Role) Role {
	if o.Rank() < r.Rank() {
		return o
	}
	return r
}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", Invalid("role", "must be one of viewer, reception, admin, owner")
	}
	return r, nil
}
