package store

import (
	"context"
	"time"

	"postern/access"
)

// PresentationInputs gathers what a decision needs for one credential at
// an access point: the credential (nil when this site does not know it), its
// user and the grants reaching the user there. It is the reader's hot path,
// so it reads the in-memory policy, not the database.
func (s *Store) PresentationInputs(ctx context.Context, id access.CredentialID, ap access.AccessPoint) (access.Request, error) {
	r := access.Request{AccessPoint: ap}
	site, err := s.SiteMode(ctx)
	if err != nil {
		return r, err
	}
	p, err := s.Policy(ctx)
	if err != nil {
		return r, err
	}
	r = p.Request(id, ap)
	r.Site = site
	return r, nil
}

// SiteLocation returns the site's time zone setting, or time.Local.
func (s *Store) SiteLocation(ctx context.Context) *time.Location {
	if p := s.policy.Load(); p != nil {
		return p.Location()
	}
	return siteLocation(ctx, s.read)
}
