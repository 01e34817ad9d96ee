package access

// Permission lets a user, or every member of a group, through an access
// point, optionally only within a time profile.
type Permission struct {
	ID            int64
	UserID        int64 // exactly one of UserID and GroupID is set
	GroupID       int64
	AccessPointID int64
	TimeProfileID int64 // 0: at any time

	// Names filled by list queries for display.
	UserName        string
	GroupName       string
	AccessPointName string
	TimeProfileName string
}

// Validate checks a permission before it is stored. It returns every
// field's error at once, as ValidationErrors.
func (p Permission) Validate() error {
	var errs ValidationErrors
	if (p.UserID == 0) == (p.GroupID == 0) {
		errs.Add("user_id", "give either a user or a group")
	}
	if p.AccessPointID == 0 {
		errs.Add("access_point_id", "is required")
	}
	return errs.Err()
}

// Grant is one permission that reaches a user at an access point, with the
// time profile that limits it (nil: at any time).
type Grant struct {
	PermissionID int64
	Profile      *TimeProfile
}
