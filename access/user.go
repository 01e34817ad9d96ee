package access

import (
	"net/mail"
	"strings"
	"time"
)

// User is a person who may be given credentials.
type User struct {
	ID         int64
	FirstName  string
	LastName   string
	Email      string
	Enabled    bool
	ValidFrom  time.Time // zero: no start
	ValidUntil time.Time // zero: no end
	// LockdownExempt: the user's credentials still open doors during a
	// lockdown (security staff, first responders).
	LockdownExempt bool
	// AllowedOffline lets the user in at a remote reader whose copy of
	// the policy is past its offline lease (security staff, say), when
	// everyone else is refused.
	AllowedOffline bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// LastUsedAt is when one of the user's credentials was last presented
	// at a reader; zero: never. The store keeps it; saving a user leaves it.
	LastUsedAt time.Time
}

// Name is the user's full name as shown in lists.
func (u User) Name() string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// Standing is why u is refused at every door at now, whatever their
// permissions: ReasonUserDisabled, ReasonNotYetValid or ReasonExpired; or
// ReasonGranted when nothing about u alone refuses them.
func (u User) Standing(now time.Time) Reason {
	switch {
	case !u.Enabled:
		return ReasonUserDisabled
	case !u.ValidFrom.IsZero() && now.Before(u.ValidFrom):
		return ReasonNotYetValid
	case !u.ValidUntil.IsZero() && !now.Before(u.ValidUntil):
		return ReasonExpired
	}
	return ReasonGranted
}

// Normalize trims the user's text fields so that stored values compare
// the way an admin reads them.
func (u *User) Normalize() {
	u.FirstName = strings.TrimSpace(u.FirstName)
	u.LastName = strings.TrimSpace(u.LastName)
	u.Email = strings.TrimSpace(u.Email)
}

// Validate checks a user before it is stored. It returns every field's
// error at once, as ValidationErrors.
func (u User) Validate() error {
	var errs ValidationErrors
	if u.FirstName == "" && u.LastName == "" {
		errs.Add("first_name", "a first or last name is required")
	}
	if len(u.FirstName) > 100 {
		errs.Add("first_name", "must be at most 100 characters")
	}
	if len(u.LastName) > 100 {
		errs.Add("last_name", "must be at most 100 characters")
	}
	errs.addText("first_name", CheckLine(u.FirstName))
	errs.addText("last_name", CheckLine(u.LastName))
	if u.Email != "" {
		if err := ValidateEmail(u.Email); err != nil {
			errs.Add("email", "%s", err.Error())
		}
	}
	if !u.ValidFrom.IsZero() && !u.ValidUntil.IsZero() && !u.ValidUntil.After(u.ValidFrom) {
		errs.Add("valid_until", "must be after valid from")
	}
	return errs.Err()
}

// ValidateEmail accepts a bare address such as ann@example.com and nothing
// else: no display name, no list, no line breaks.
func ValidateEmail(s string) error {
	if len(s) > 254 || strings.ContainsAny(s, "\r\n<> ,;") {
		return &ValidationError{Message: "is not a valid email address"}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return &ValidationError{Message: "is not a valid email address"}
	}
	return nil
}
