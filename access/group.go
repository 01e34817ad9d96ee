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

// Validate checks a group before it is stored.
func (g Group) Validate() error {
	if g.Name == "" {
		return Invalid("name", "is required")
	}
	if len(g.Name) > 100 {
		return Invalid("name", "must be at most 100 characters")
	}
	if len(g.Description) > 1000 {
		return Invalid("description", "must be at most 1000 characters")
	}
	return nil
}
