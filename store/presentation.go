package store

import (
	"context"
	"time"

	"postern/access"
)

// PresentationInputs gathers what a decision needs for one credential at
// an access point: the credential (nil when this site does not know it), its
// user, the grants reaching the user there and the site's emergency state.
// It is the reader's hot path, so it reads the in-memory policy, not the
// database.
func (s *Store) PresentationInputs(ctx context.Context, id access.CredentialID, ap access.AccessPoint) (access.Request, error) {
	p, err := s.Policy(ctx)
	if err != nil {
		return access.Request{AccessPoint: ap}, err
	}
	return p.Request(id, ap), nil
}

// SiteLocation returns the site's time zone setting, or time.Local.
func (s *Store) SiteLocation(ctx context.Context) *time.Location {
	if p := s.policy.Load(); p != nil {
		return p.Location()
	}
	return siteLocation(ctx, s.read)
}
