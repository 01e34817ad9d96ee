package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"postern/access"
)

// UnlockAccessPoint unlocks a door by hand until until ("unlock now"), or
// locks it again at once when until is not after now, and logs who did it.
func (s *Store) UnlockAccessPoint(ctx context.Context, actor string, id int64, until time.Time) (access.AccessPoint, error) {
	var a access.AccessPoint
	err := s.tx(ctx, "unlock access point", func(tx *sql.Tx) error {
		now := s.now()
		e := &access.Event{Kind: "access_point.unlocked", Actor: actor, AccessPointID: id}
		var stored sql.NullInt64
		if until.After(now) {
			stored = ms(until)
			e.Detail = "until " + until.UTC().Format(time.RFC3339)
		} else {
			e.Kind = "access_point.relocked"
		}
		res, err := tx.ExecContext(ctx, `UPDATE access_points SET unlocked_until = ? WHERE id = ?`, stored, id)
		if err != nil {
			return fmt.Errorf("store: unlock access point: %w", err)
		}
		if err := affected("unlock access point", res); err != nil {
			return err
		}
		if a, err = scanAccessPoint(tx.QueryRowContext(ctx, `SELECT `+accessPointColumns+` FROM access_points WHERE id = ?`, id)); err != nil {
			return fmt.Errorf("store: unlock access point: %w", err)
		}
		return s.insertEvent(ctx, tx, e)
	})
	return a, err
}

// LastGrantAt returns when someone was last let in at an access point, or
// the zero time.
func (s *Store) LastGrantAt(ctx context.Context, accessPointID int64) (time.Time, error) {
	var at sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT at FROM events WHERE access_point_id = ? AND kind = 'access.granted' ORDER BY id DESC LIMIT 1`, accessPointID).Scan(&at)
	if err != nil && err != sql.ErrNoRows {
		return time.Time{}, fmt.Errorf("store: read the last grant: %w", err)
	}
	return fromMS(at), nil
}

// DoorInputs gathers, for every access point, what its door state is
// computed from, all but the clock: the caller sets Now.
func (s *Store) DoorInputs(ctx context.Context) ([]access.DoorInputs, error) {
	aps, err := s.AllAccessPoints(ctx)
	if err != nil {
		return nil, err
	}
	site, err := s.SiteMode(ctx)
	if err != nil {
		return nil, err
	}
	loc := s.SiteLocation(ctx)
	profiles := map[int64]*access.TimeProfile{}
	out := make([]access.DoorInputs, len(aps))
	for i, ap := range aps {
		in := access.DoorInputs{AccessPoint: ap, Site: site, Location: loc}
		if id := ap.UnlockProfileID; id != 0 {
			p, ok := profiles[id]
			if !ok {
				tp, err := s.TimeProfileByID(ctx, id)
				if err != nil {
					return nil, err
				}
				p = &tp
				profiles[id] = p
			}
			in.Schedule = p
			if ap.FirstPersonIn {
				if in.LastGrant, err = s.LastGrantAt(ctx, ap.ID); err != nil {
					return nil, err
				}
			}
		}
		out[i] = in
	}
	return out, nil
}

// doorContactKinds are the events that say whether a door stands open.
const doorContactKinds = `'door.opened', 'door.closed', 'door.forced', 'door.held_open'`

// DoorContacts returns the newest contact event (opened, closed, forced
// open, held open too long) of every access point that has one: what the
// dashboard shows of each door.
func (s *Store) DoorContacts(ctx context.Context) (map[int64]access.Event, error) {
	evs, err := queryAll(ctx, s.read, "read door contacts", scanEvent, eventSelect+` WHERE id IN (
		SELECT (SELECT id FROM events e WHERE e.access_point_id = a.id AND e.kind IN (`+doorContactKinds+`) ORDER BY id DESC LIMIT 1) FROM access_points a)`)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]access.Event, len(evs))
	for _, e := range evs {
		out[e.AccessPointID] = e
	}
	return out, nil
}
