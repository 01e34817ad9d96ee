package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
	return s.DoorInputsOf(ctx, aps)
}

// DoorInputsOf is DoorInputs for the access points aps only: a page that
// shows a few doors of a thousand reads what those few need.
func (s *Store) DoorInputsOf(ctx context.Context, aps []access.AccessPoint) ([]access.DoorInputs, error) {
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
var doorContactKinds = []string{"door.opened", "door.closed", "door.forced", "door.held_open"}

// DoorContacts returns the newest contact event (opened, closed, forced
// open, held open too long) of each of the access points ids that has one:
// what the dashboard shows of each door.
func (s *Store) DoorContacts(ctx context.Context, ids []int64) (map[int64]access.Event, error) {
	evs, err := queryAll(ctx, s.read, "read door contacts", scanEvent,
		eventSelect+` WHERE id IN (SELECT `+newestOfKinds("a.value", doorContactKinds)+` FROM json_each(?) a)`, jsonIDs(ids))
	if err != nil {
		return nil, err
	}
	out := make(map[int64]access.Event, len(evs))
	for _, e := range evs {
		out[e.AccessPointID] = e
	}
	return out, nil
}

// newestOfKinds is an SQL expression for the id of the newest event of
// any of kinds at the access point ap (an SQL expression), NULL for none.
// Each kind is one seek down the (access_point_id, kind, id) index: asked
// as "the newest of these kinds", SQLite walks the door's events newest
// first until one matches, which at a door whose events are all decisions
// is every event it ever had.
func newestOfKinds(ap string, kinds []string) string {
	var b strings.Builder
	b.WriteString("nullif(max(0")
	for _, k := range kinds {
		fmt.Fprintf(&b, ", ifnull((SELECT max(id) FROM events WHERE access_point_id = %s AND kind = '%s'), 0)", ap, k)
	}
	b.WriteString("), 0)")
	return b.String()
}
