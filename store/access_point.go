package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"postern/access"
)

const accessPointColumns = `id, name, reader, mode, rssi_threshold, rssi_offset, require_unlock, unlock_ms, state, created_at, updated_at,
	exit_door, ifnull(unlock_profile_id, 0), first_person_in, unlocked_until, held_open_ms, door_io, unlock_window_ms, deadline_ms,
	phone_open, phone_networks, phone_passkey, direction`

func scanAccessPoint(sc scanner) (access.AccessPoint, error) {
	var a access.AccessPoint
	var unlock, heldOpen, window, deadline int64
	var created, updated, until sql.NullInt64
	var io string
	err := sc.Scan(&a.ID, &a.Name, &a.Reader, &a.Mode, &a.RSSIThreshold, &a.RSSIOffset, &a.RequireUnlock, &unlock, &a.State, &created, &updated,
		&a.Exit, &a.UnlockProfileID, &a.FirstPersonIn, &until, &heldOpen, &io, &window, &deadline,
		&a.PhoneOpen, &a.PhoneNetworks, &a.PhonePasskey, &a.Direction)
	if err != nil {
		return a, err
	}
	a.UnlockDuration = time.Duration(unlock) * time.Millisecond
	a.HeldOpenLimit = time.Duration(heldOpen) * time.Millisecond
	a.UnlockWindow = time.Duration(window) * time.Millisecond
	a.ResponseDeadline = time.Duration(deadline) * time.Millisecond
	a.CreatedAt, a.UpdatedAt, a.UnlockedUntil = fromMS(created), fromMS(updated), fromMS(until)
	a.IO, err = decodeDoorIO(io)
	return a, err
}

// doorIOJSON is how an access point's GPIO lines are stored: one JSON
// column, since they are read and written together and never queried.
type doorIOJSON struct {
	Relay          string `json:"relay,omitempty"`
	RelayActiveLow bool   `json:"relay_active_low,omitempty"`
	FailSafe       bool   `json:"fail_safe,omitempty"`
	Contact        string `json:"contact,omitempty"`
	ContactOpenLow bool   `json:"contact_open_low,omitempty"`
	Exit           string `json:"exit,omitempty"`
	ExitPressedLow bool   `json:"exit_pressed_low,omitempty"`
	ExitUnlocks    bool   `json:"exit_unlocks,omitempty"`
	DebounceMS     int64  `json:"debounce_ms,omitempty"`
}

func encodeDoorIO(io access.DoorIO) string {
	b, _ := json.Marshal(doorIOJSON{io.Relay, io.RelayActiveLow, io.FailSafe, io.Contact, io.ContactOpenLow, io.Exit, io.ExitPressedLow, io.ExitUnlocks, io.Debounce.Milliseconds()})
	return string(b)
}

func decodeDoorIO(s string) (access.DoorIO, error) {
	var j doorIOJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return access.DoorIO{}, fmt.Errorf("door lines: %w", err)
	}
	io := access.DoorIO{Relay: j.Relay, RelayActiveLow: j.RelayActiveLow, FailSafe: j.FailSafe, Contact: j.Contact, ContactOpenLow: j.ContactOpenLow,
		Exit: j.Exit, ExitPressedLow: j.ExitPressedLow, ExitUnlocks: j.ExitUnlocks, Debounce: time.Duration(j.DebounceMS) * time.Millisecond}
	if io.Debounce == 0 {
		io.Debounce = access.DefaultDebounce
	}
	return io, nil
}

// CreateAccessPoint stores a new access point.
func (s *Store) CreateAccessPoint(ctx context.Context, actor string, a *access.AccessPoint) error {
	a.Normalize()
	if err := a.Validate(); err != nil {
		return err
	}
	now := s.now()
	a.CreatedAt, a.UpdatedAt = now, now
	return s.tx(ctx, "create access point", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO access_points (name, reader, mode, rssi_threshold, rssi_offset, require_unlock, unlock_ms, state, created_at, updated_at,
			exit_door, unlock_profile_id, first_person_in, held_open_ms, door_io, unlock_window_ms, deadline_ms, phone_open, phone_networks, phone_passkey, direction)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Name, a.Reader, a.Mode, a.RSSIThreshold, a.RSSIOffset, a.RequireUnlock, a.UnlockDuration.Milliseconds(), a.State, now.UnixMilli(), now.UnixMilli(),
			a.Exit, nullID(a.UnlockProfileID), a.FirstPersonIn, a.HeldOpenLimit.Milliseconds(), encodeDoorIO(a.IO), a.UnlockWindow.Milliseconds(), a.ResponseDeadline.Milliseconds(),
			a.PhoneOpen, a.PhoneNetworks, a.PhonePasskey, a.Direction)
		if err != nil {
			return clashErr(ctx, tx, "create access point", err, "access point", "access_points", 0, unique{"name", "name", a.Name}, unique{"reader", "reader", a.Reader})
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create access point: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "access_point.created", Actor: actor, AccessPointID: a.ID, Detail: a.Name + " on " + a.Reader})
	})
}

// UpdateAccessPoint saves changes to an access point.
func (s *Store) UpdateAccessPoint(ctx context.Context, actor string, a *access.AccessPoint) error {
	a.Normalize()
	if err := a.Validate(); err != nil {
		return err
	}
	a.UpdatedAt = s.now()
	return s.tx(ctx, "update access point", func(tx *sql.Tx) error {
		// unlocked_until is not written here: "unlock now" has its own
		// call, so saving the form does not undo one made meanwhile.
		res, err := tx.ExecContext(ctx, `UPDATE access_points SET name = ?, reader = ?, mode = ?, rssi_threshold = ?, rssi_offset = ?, require_unlock = ?, unlock_ms = ?, state = ?, updated_at = ?,
			exit_door = ?, unlock_profile_id = ?, first_person_in = ?, held_open_ms = ?, door_io = ?, unlock_window_ms = ?, deadline_ms = ?,
			phone_open = ?, phone_networks = ?, phone_passkey = ?, direction = ? WHERE id = ?`,
			a.Name, a.Reader, a.Mode, a.RSSIThreshold, a.RSSIOffset, a.RequireUnlock, a.UnlockDuration.Milliseconds(), a.State, a.UpdatedAt.UnixMilli(),
			a.Exit, nullID(a.UnlockProfileID), a.FirstPersonIn, a.HeldOpenLimit.Milliseconds(), encodeDoorIO(a.IO), a.UnlockWindow.Milliseconds(), a.ResponseDeadline.Milliseconds(),
			a.PhoneOpen, a.PhoneNetworks, a.PhonePasskey, a.Direction, a.ID)
		if err != nil {
			return clashErr(ctx, tx, "update access point", err, "access point", "access_points", a.ID, unique{"name", "name", a.Name}, unique{"reader", "reader", a.Reader})
		}
		if err := affected("update access point", res); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "access_point.updated", Actor: actor, AccessPointID: a.ID, Detail: a.Name + " (" + string(a.State) + ")"})
	})
}

// CalibrateAccessPoint sets an access point's RSSI offset as measured at
// the door, and logs how (detail: the phone's signal and the samples).
func (s *Store) CalibrateAccessPoint(ctx context.Context, actor string, id int64, offset int, detail string) (access.AccessPoint, error) {
	var a access.AccessPoint
	err := s.tx(ctx, "calibrate access point", func(tx *sql.Tx) error {
		var err error
		if a, err = scanAccessPoint(tx.QueryRowContext(ctx, `SELECT `+accessPointColumns+` FROM access_points WHERE id = ?`, id)); err != nil {
			return notFound("calibrate access point", err)
		}
		a.RSSIOffset = offset
		if err := a.Validate(); err != nil {
			return err
		}
		a.UpdatedAt = s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE access_points SET rssi_offset = ?, updated_at = ? WHERE id = ?`, offset, a.UpdatedAt.UnixMilli(), id); err != nil {
			return fmt.Errorf("store: calibrate access point: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "access_point.calibrated", Actor: actor, AccessPointID: id, Detail: detail})
	})
	return a, err
}

// DeleteAccessPoint removes an access point and its permissions.
func (s *Store) DeleteAccessPoint(ctx context.Context, actor string, id int64) error {
	return s.tx(ctx, "delete access point", func(tx *sql.Tx) error {
		var name string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM access_points WHERE id = ?`, id).Scan(&name); err != nil {
			return notFound("delete access point", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_points WHERE id = ?`, id); err != nil {
			return fmt.Errorf("store: delete access point: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "access_point.deleted", Actor: actor, AccessPointID: id, Detail: name})
	})
}

// AccessPointByID returns one access point.
// Once the policy is loaded it answers from there: the reader asks for its
// access point on every presentation.
func (s *Store) AccessPointByID(ctx context.Context, id int64) (access.AccessPoint, error) {
	if p := s.policy.Load(); p != nil {
		if a, ok := p.AccessPoint(id); ok {
			return a, nil
		}
	}
	a, err := scanAccessPoint(s.read.QueryRowContext(ctx, `SELECT `+accessPointColumns+` FROM access_points WHERE id = ?`, id))
	return a, notFound("read access point", err)
}

// AccessPointByReader returns the access point bound to a reader.
func (s *Store) AccessPointByReader(ctx context.Context, reader string) (access.AccessPoint, error) {
	a, err := scanAccessPoint(s.read.QueryRowContext(ctx, `SELECT `+accessPointColumns+` FROM access_points WHERE reader = ?`, reader))
	return a, notFound("read access point by reader", err)
}

// AccessPoints returns a page of access points sorted by name.
func (s *Store) AccessPoints(ctx context.Context, o ListOptions) (Page[access.AccessPoint], error) {
	limit := o.limit()
	c, _ := decodeCursor(o.After)
	aps, err := queryAll(ctx, s.read, "list access points", scanAccessPoint, `SELECT `+accessPointColumns+` FROM access_points WHERE (name, id) > (?, ?) ORDER BY name, id LIMIT ?`, c.A, c.ID, limit+1)
	if err != nil {
		return Page[access.AccessPoint]{}, err
	}
	return paginate(aps, limit, func(a access.AccessPoint) nameCursor { return nameCursor{A: a.Name, ID: a.ID} }), nil
}

// AllAccessPoints returns every access point, sorted by name; the reader
// manager uses it to bind readers. Once the policy is loaded it answers
// from there, with a slice shared by every caller: never write to it.
func (s *Store) AllAccessPoints(ctx context.Context) ([]access.AccessPoint, error) {
	if p := s.policy.Load(); p != nil {
		return p.AccessPoints(), nil
	}
	var all []access.AccessPoint
	o := ListOptions{Limit: MaxLimit}
	for {
		p, err := s.AccessPoints(ctx, o)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all, nil
		}
		o.After = p.Next
	}
}
