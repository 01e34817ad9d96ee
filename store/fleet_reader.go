package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"postern/access"
)

// FleetReader is a remote reader as the hub knows it: its name (the prefix
// of the bindings of the access points it serves, "back-door/hci0"),
// whether it has enrolled, and what it last reported.
type FleetReader struct {
	ID            int64
	Name          string
	CreatedAt     time.Time
	TokenExpires  time.Time // zero: no enrolment token outstanding
	EnrolledAt    time.Time // zero: not enrolled yet
	LastSeen      time.Time
	PolicySeq     uint64 // the policy stream sequence it has applied
	PolicyLag     uint64 // how many sequences behind the hub it was
	EventsWaiting int    // events it holds that the hub has not
	Version       string
}

// FleetStatus is what a reader reports about itself.
type FleetStatus struct {
	At            time.Time
	PolicySeq     uint64
	PolicyLag     uint64
	EventsWaiting int
	Version       string
}

var fleetNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

// ErrEnrolment refuses an enrolment token that is wrong, spent or expired,
// saying no more than that.
var ErrEnrolment = errors.New("the enrolment token is not valid: create a new one on the hub's Readers page")

const fleetReaderColumns = `id, name, created_at, token_expires, enrolled_at, last_seen, policy_seq, policy_lag, events_waiting, version`

func scanFleetReader(sc scanner) (FleetReader, error) {
	var r FleetReader
	var created int64
	var expires, enrolled, seen sql.NullInt64
	var seq, lag int64
	err := sc.Scan(&r.ID, &r.Name, &created, &expires, &enrolled, &seen, &seq, &lag, &r.EventsWaiting, &r.Version)
	r.CreatedAt, r.TokenExpires, r.EnrolledAt, r.LastSeen = time.UnixMilli(created), fromMS(expires), fromMS(enrolled), fromMS(seen)
	r.PolicySeq, r.PolicyLag = uint64(seq), uint64(lag)
	return r, err
}

// CreateFleetReader adds a remote reader with its one-time enrolment
// token, valid until expires.
func (s *Store) CreateFleetReader(ctx context.Context, actor, name, token string, expires time.Time) (FleetReader, error) {
	if !fleetNamePattern.MatchString(name) {
		return FleetReader{}, access.Invalid("name", "must be 1 to 31 lower-case letters, digits or -, starting with a letter or digit")
	}
	now := s.now()
	r := FleetReader{Name: name, CreatedAt: now, TokenExpires: expires}
	err := s.tx(ctx, "create remote reader", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO fleet_readers (name, token_hash, token_expires, created_at) VALUES (?, ?, ?, ?)`,
			name, hashToken(token), expires.UnixMilli(), now.UnixMilli())
		if err != nil {
			return constraintErr("create remote reader", err, "a reader named "+name)
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create remote reader: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "reader.created", Actor: actor, Detail: name})
	})
	return r, err
}

// NewFleetReaderToken gives a reader a new enrolment token: for a board
// replaced or wiped. Its current credentials stop working when the token
// is used.
func (s *Store) NewFleetReaderToken(ctx context.Context, actor string, id int64, token string, expires time.Time) error {
	return s.tx(ctx, "new enrolment token", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE fleet_readers SET token_hash = ?, token_expires = ? WHERE id = ?`, hashToken(token), expires.UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("store: new enrolment token: %w", err)
		}
		if err := affected("new enrolment token", res); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "reader.token", Actor: actor, Detail: fmt.Sprintf("reader %d", id)})
	})
}

// EnrolFleetReader spends a reader's enrolment token and sets the secret
// it will authenticate with from now on. Any failure is ErrEnrolment.
func (s *Store) EnrolFleetReader(ctx context.Context, id int64, token, secret string) (FleetReader, error) {
	var r FleetReader
	now := s.now()
	err := s.tx(ctx, "enrol remote reader", func(tx *sql.Tx) error {
		var hash []byte
		var expires sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT token_hash, token_expires FROM fleet_readers WHERE id = ?`, id).Scan(&hash, &expires); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrEnrolment
			}
			return fmt.Errorf("store: enrol remote reader: %w", err)
		}
		if hash == nil || subtle.ConstantTimeCompare(hash, hashToken(token)) != 1 || !expires.Valid || expires.Int64 <= now.UnixMilli() {
			return ErrEnrolment
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fleet_readers SET token_hash = NULL, token_expires = NULL, secret_hash = ?, enrolled_at = ? WHERE id = ?`,
			hashToken(secret), now.UnixMilli(), id); err != nil {
			return fmt.Errorf("store: enrol remote reader: %w", err)
		}
		var err error
		if r, err = scanFleetReader(tx.QueryRowContext(ctx, `SELECT `+fleetReaderColumns+` FROM fleet_readers WHERE id = ?`, id)); err != nil {
			return fmt.Errorf("store: enrol remote reader: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "reader.enrolled", Actor: "reader:" + r.Name, Detail: r.Name})
	})
	return r, err
}

// FleetReaderBySecret returns the enrolled reader id whose secret this is,
// or access.ErrNotFound.
func (s *Store) FleetReaderBySecret(ctx context.Context, id int64, secret string) (FleetReader, error) {
	var hash []byte
	r, err := scanFleetReader(s.read.QueryRowContext(ctx, `SELECT `+fleetReaderColumns+` FROM fleet_readers WHERE id = ?`, id))
	if err != nil {
		return r, notFound("read remote reader", err)
	}
	if err := s.read.QueryRowContext(ctx, `SELECT secret_hash FROM fleet_readers WHERE id = ?`, id).Scan(&hash); err != nil {
		return r, notFound("read remote reader", err)
	}
	if hash == nil || subtle.ConstantTimeCompare(hash, hashToken(secret)) != 1 {
		return FleetReader{}, access.ErrNotFound
	}
	return r, nil
}

// FleetReaderByID returns one remote reader.
func (s *Store) FleetReaderByID(ctx context.Context, id int64) (FleetReader, error) {
	r, err := scanFleetReader(s.read.QueryRowContext(ctx, `SELECT `+fleetReaderColumns+` FROM fleet_readers WHERE id = ?`, id))
	return r, notFound("read remote reader", err)
}

// FleetReaders returns every remote reader by name; a site has a few.
func (s *Store) FleetReaders(ctx context.Context) ([]FleetReader, error) {
	return queryAll(ctx, s.read, "list remote readers", scanFleetReader, `SELECT `+fleetReaderColumns+` FROM fleet_readers ORDER BY name`)
}

// CountFleetReaders returns how many remote readers the site has.
func (s *Store) CountFleetReaders(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM fleet_readers`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count remote readers: %w", err)
	}
	return n, nil
}

// SetFleetStatus records what a reader reported.
func (s *Store) SetFleetStatus(ctx context.Context, id int64, st FleetStatus) error {
	_, err := s.db.ExecContext(ctx, `UPDATE fleet_readers SET last_seen = ?, policy_seq = ?, policy_lag = ?, events_waiting = ?, version = ? WHERE id = ?`,
		st.At.UnixMilli(), int64(st.PolicySeq), int64(st.PolicyLag), st.EventsWaiting, st.Version, id)
	if err != nil {
		return fmt.Errorf("store: record reader status: %w", err)
	}
	return nil
}

// DeleteFleetReader removes a remote reader: its credentials stop working.
// The access points bound to it stay, with no reader running them.
func (s *Store) DeleteFleetReader(ctx context.Context, actor string, id int64) error {
	return s.tx(ctx, "delete remote reader", func(tx *sql.Tx) error {
		var name string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM fleet_readers WHERE id = ?`, id).Scan(&name); err != nil {
			return notFound("delete remote reader", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM fleet_readers WHERE id = ?`, id); err != nil {
			return fmt.Errorf("store: delete remote reader: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "reader.deleted", Actor: actor, Detail: name})
	})
}

// maxEventUID bounds an imported event's id; readers make 32 hex digits.
const maxEventUID = 64

// ImportEvents stores events made at remote readers, each once: an event
// whose uid is already here is skipped. A granted event also marks its
// credential used, as a decision here would. It returns how many were new.
func (s *Store) ImportEvents(ctx context.Context, evs []access.Event) (int, error) {
	n := 0
	err := s.tx(ctx, "import events", func(tx *sql.Tx) error {
		for i := range evs {
			e := &evs[i]
			if e.UID == "" || len(e.UID) > maxEventUID {
				return fmt.Errorf("store: import events: an event with no uid or one of %d bytes", len(e.UID))
			}
			// A reader is trusted to decide, not to fill the hub's log:
			// its fields are bounded as the appliance's own are.
			e.Clip()
			res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO events (at, kind, reason, actor, user_id, access_point_id, credential_id, rssi, latency_us, detail, uid, protocol)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.At.UnixMilli(), e.Kind, e.Reason, e.Actor, nullID(e.UserID), nullID(e.AccessPointID), e.CredentialID, e.RSSI, e.Latency.Microseconds(), e.Detail, e.UID, e.Protocol)
			if err != nil {
				return fmt.Errorf("store: import events: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			n++
			if e.Kind == "access.granted" && e.CredentialID != "" {
				id, err := access.ParseCredentialID(e.CredentialID)
				if err != nil {
					continue
				}
				if _, err := tx.ExecContext(ctx, `UPDATE credentials SET last_used_at = max(ifnull(last_used_at, 0), ?) WHERE id = ?`, e.At.UnixMilli(), id[:]); err != nil {
					return fmt.Errorf("store: import events: %w", err)
				}
			}
		}
		return nil
	})
	return n, err
}

// CountEventsAfter returns how many events have ids above after: what a
// reader has not yet handed to its event stream.
func (s *Store) CountEventsAfter(ctx context.Context, after int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE id > ?`, after).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count events: %w", err)
	}
	return n, nil
}

// FleetTokenValid reports whether token is reader id's live enrolment
// token, without spending it.
func (s *Store) FleetTokenValid(ctx context.Context, id int64, token string) bool {
	var hash []byte
	var expires sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT token_hash, token_expires FROM fleet_readers WHERE id = ?`, id).Scan(&hash, &expires); err != nil {
		return false
	}
	return hash != nil && subtle.ConstantTimeCompare(hash, hashToken(token)) == 1 && expires.Valid && expires.Int64 > s.now().UnixMilli()
}
