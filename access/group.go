package access

import "strings"

// Group gathers users so that permissions can be given to many at once.
type Group struct {
	ID          int64
	Name        string
	Description string
	Members     int // filled by list queries
}

// Normalize trims the group's text fields.
func (g *Group) Normalize() {
	g.Name = strings.TrimSpace(g.Name)
	g.Description = strings.TrimSpace(g.Description)
}

// Validate checks a group before it is stored. It returns every field's
// error at once, as ValidationErrors.
func (g Group) Validate() error {
	var errs ValidationErrors
	if g.Name == "" {
		errs.Add("name", "is required")
	}
	if len(g.Name) > 100 {
		errs.Add("name", "must be at most 100 characters")
	}
	if len(g.Description) > 1000 {
		errs.Add("description", "must be at most 1000 characters")
	}
	errs.addText("name", CheckLine(g.Name))
	errs.addText("description", CheckLines(g.Description))
	return errs.Err()
}
