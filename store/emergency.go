package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"postern/access"
)

// Emergency returns the lockdown or evacuation in force, or one with Mode
// access.SiteNormal when there is none.
func (s *Store) Emergency(ctx context.Context) (access.Emergency, error) {
	return currentEmergency(ctx, s.read)
}

func currentEmergency(ctx context.Context, q querier) (access.Emergency, error) {
	var e access.Emergency
	var started int64
	err := q.QueryRowContext(ctx, `SELECT id, mode, started_at, started_by FROM emergencies WHERE ended_at IS NULL`).Scan(&e.ID, &e.Mode, &started, &e.StartedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return access.Emergency{Mode: access.SiteNormal}, nil
	}
	if err != nil {
		return e, fmt.Errorf("store: read the site's emergency state: %w", err)
	}
	e.StartedAt = fromMS(sql.NullInt64{Int64: started, Valid: true})
	return e, nil
}

// SiteMode returns the site's emergency state: what every decision and
// door state reads.
func (s *Store) SiteMode(ctx context.Context) (access.SiteMode, error) {
	e, err := s.Emergency(ctx)
	return e.Mode, err
}

// StartEmergency starts a lockdown or an evacuation for the whole site and
// logs who started it. One already in force is ended first, in the same
// transaction: a fire during a lockdown needs the exits open with one
// click, not two.
func (s *Store) StartEmergency(ctx context.Context, actor string, mode access.SiteMode) (access.Emergency, error) {
	if mode != access.SiteLockdown && mode != access.SiteEvacuation {
		return access.Emergency{}, access.Invalid("mode", "must be lockdown or evacuation")
	}
	now := s.now()
	e := access.Emergency{Mode: mode, StartedAt: now, StartedBy: actor}
	err := s.tx(ctx, "start "+string(mode), func(tx *sql.Tx) error {
		cur, err := currentEmergency(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Mode == mode {
			e = cur
			return nil // already in force: one click too many changes nothing
		}
		if cur.Mode != access.SiteNormal {
			if err := s.endEmergency(ctx, tx, actor, cur); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO emergencies (mode, started_at, started_by) VALUES (?, ?, ?)`, mode, now.UnixMilli(), actor)
		if err != nil {
			return fmt.Errorf("store: start %s: %w", mode, err)
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: start %s: %w", mode, err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "site." + string(mode) + "_started", Actor: actor, Detail: emergencyWords(mode) + " started"})
	})
	return e, err
}

// EndEmergency ends the lockdown or evacuation in force and logs who ended
// it; access.ErrNotFound when there is none.
func (s *Store) EndEmergency(ctx context.Context, actor string) (access.Emergency, error) {
	var cur access.Emergency
	err := s.tx(ctx, "end emergency", func(tx *sql.Tx) error {
		var err error
		if cur, err = currentEmergency(ctx, tx); err != nil {
			return err
		}
		if cur.Mode == access.SiteNormal {
			return access.ErrNotFound
		}
		return s.endEmergency(ctx, tx, actor, cur)
	})
	if err == nil {
		cur.EndedAt, cur.EndedBy = s.now(), actor
	}
	return cur, err
}

func (s *Store) endEmergency(ctx context.Context, tx *sql.Tx, actor string, cur access.Emergency) error {
	if _, err := tx.ExecContext(ctx, `UPDATE emergencies SET ended_at = ?, ended_by = ? WHERE id = ?`, s.now().UnixMilli(), actor, cur.ID); err != nil {
		return fmt.Errorf("store: end %s: %w", cur.Mode, err)
	}
	return s.insertEvent(ctx, tx, &access.Event{Kind: "site." + string(cur.Mode) + "_ended", Actor: actor,
		Detail: emergencyWords(cur.Mode) + " ended; started by " + cur.StartedBy})
}

func emergencyWords(m access.SiteMode) string {
	if m == access.SiteEvacuation {
		return "Evacuation"
	}
	return "Lockdown"
}
