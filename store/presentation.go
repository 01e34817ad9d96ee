package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"postern/access"
)

// PresentationInputs gathers what a decision at an access point needs for
// one credential at an access point: the credential (nil when this site
// does not know it), its user and the grants reaching the user there. It is the
// reader's hot path: every lookup is by primary key or index.
func (s *Store) PresentationInputs(ctx context.Context, id access.CredentialID, ap access.AccessPoint) (access.Request, error) {
	r := access.Request{AccessPoint: ap}
	accessPointID := ap.ID
	site, err := s.SiteMode(ctx)
	if err != nil {
		return r, err
	}
	r.Site = site
	c, err := credentialByID(ctx, s.read, id, s.now())
	if errors.Is(err, access.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	r.Credential = &c
	u, err := s.UserByID(ctx, c.UserID)
	if err != nil {
		return r, err
	}
	r.User = &u
	r.Grants, err = s.Grants(ctx, u.ID, accessPointID)
	return r, err
}

// RecordDecision appends a decision's event and, for a known credential,
// its last use, in one transaction. It returns once both are committed, so
// the reader tells the key and opens the door only for a decision that is on
// disk. The commit is made with synchronous=FULL: under WAL, NORMAL is safe
// against a crash of the process but may lose the last commits to a power
// cut, and a door decision must survive both.
func (s *Store) RecordDecision(ctx context.Context, e *access.Event, cred *access.CredentialID, at time.Time) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: record decision: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return fmt.Errorf("store: record decision: %w", err)
	}
	// Back to NORMAL for everything else, whatever happens here.
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = NORMAL`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: record decision: begin: %w", err)
	}
	if cred != nil {
		if err := touchCredential(ctx, tx, *cred, at); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: record decision: %w", err)
		}
	}
	if err := s.insertEvent(ctx, tx, e); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: record decision: commit: %w", err)
	}
	return nil
}

// SiteLocation returns the site's time zone setting, or time.Local.
func (s *Store) SiteLocation(ctx context.Context) *time.Location {
	name, err := s.Setting(ctx, "time_zone", "")
	if err != nil || name == "" {
		return time.Local
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.Local
	}
	return loc
}
