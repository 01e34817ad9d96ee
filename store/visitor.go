package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"postern/access"
)

// Visitor is someone a host expects: a user whose validity is the visit's
// window, in the group of doors their profile names.
type Visitor struct {
	ID        int64
	User      access.User
	HostID    int64 // zero: the host was deleted
	HostName  string
	HostEmail string
	GroupID   int64 // zero: the profile was deleted
	GroupName string
	CreatedAt time.Time
	FirstInAt time.Time // zero: not in yet
}

// VisitorDraft is what reception types to register a visitor.
type VisitorDraft struct {
	FirstName, LastName, Email string
	HostID, GroupID            int64
	From, Until                time.Time
}

// CreateVisitor registers a visitor: a user valid only from From until
// Until, a member only of the profile's group, and who their host is.
func (s *Store) CreateVisitor(ctx context.Context, actor string, d VisitorDraft) (Visitor, error) {
	u := access.User{FirstName: d.FirstName, LastName: d.LastName, Email: d.Email, Enabled: true, ValidFrom: d.From, ValidUntil: d.Until}
	u.Normalize()
	var errs access.ValidationErrors
	errs.Merge(u.Validate())
	if u.Email == "" {
		errs.Add("email", "is needed to send the visitor their key")
	}
	if d.From.IsZero() || d.Until.IsZero() {
		errs.Add("until", "a visit needs a start and an end")
	}
	if d.HostID == 0 {
		errs.Add("host_id", "choose the person they visit")
	}
	if d.GroupID == 0 {
		errs.Add("group_id", "choose a visitor profile: the group whose doors they may open")
	}
	if err := errs.Err(); err != nil {
		return Visitor{}, err
	}
	now := s.now()
	var v Visitor
	err := s.tx(ctx, "register visitor", func(tx *sql.Tx) error {
		host, err := userByID(ctx, tx, d.HostID)
		if errors.Is(err, access.ErrNotFound) {
			return access.Invalid("host_id", "there is no such user")
		} else if err != nil {
			return err
		}
		var group string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM groups WHERE id = ?`, d.GroupID).Scan(&group); errors.Is(err, sql.ErrNoRows) {
			return access.Invalid("group_id", "there is no such group")
		} else if err != nil {
			return fmt.Errorf("store: register visitor: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO users (first_name, last_name, email, enabled, valid_from, valid_until, created_at, updated_at, lockdown_exempt) VALUES (?, ?, ?, 1, ?, ?, ?, ?, 0)`,
			u.FirstName, u.LastName, u.Email, ms(u.ValidFrom), ms(u.ValidUntil), now.UnixMilli(), now.UnixMilli())
		if err != nil {
			return fmt.Errorf("store: register visitor: %w", err)
		}
		if u.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: register visitor: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id) VALUES (?, ?)`, d.GroupID, u.ID); err != nil {
			return fmt.Errorf("store: register visitor: %w", err)
		}
		res, err = tx.ExecContext(ctx, `INSERT INTO visitors (user_id, host_user_id, group_id, created_at) VALUES (?, ?, ?, ?)`, u.ID, d.HostID, d.GroupID, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("store: register visitor: %w", err)
		}
		if v.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: register visitor: %w", err)
		}
		u.CreatedAt, u.UpdatedAt = now, now
		v = Visitor{ID: v.ID, User: u, HostID: host.ID, HostName: host.Name(), HostEmail: host.Email, GroupID: d.GroupID, GroupName: group, CreatedAt: now}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "visitor.registered", Actor: actor, UserID: u.ID,
			Detail: u.Name() + ", visiting " + host.Name() + " with " + group})
	})
	return v, err
}

const visitorQuery = `SELECT v.id, u.id, u.first_name, u.last_name, u.email, u.valid_from, u.valid_until,
	ifnull(h.id, 0), ifnull(h.first_name || ' ' || h.last_name, ''), ifnull(h.email, ''),
	ifnull(g.id, 0), ifnull(g.name, ''), v.created_at, v.first_in_at
	FROM visitors v JOIN users u ON u.id = v.user_id
	LEFT JOIN users h ON h.id = v.host_user_id LEFT JOIN groups g ON g.id = v.group_id`

func scanVisitor(sc scanner) (Visitor, error) {
	var v Visitor
	var from, until, in sql.NullInt64
	var created int64
	err := sc.Scan(&v.ID, &v.User.ID, &v.User.FirstName, &v.User.LastName, &v.User.Email, &from, &until,
		&v.HostID, &v.HostName, &v.HostEmail, &v.GroupID, &v.GroupName, &created, &in)
	v.User.ValidFrom, v.User.ValidUntil, v.FirstInAt = fromMS(from), fromMS(until), fromMS(in)
	v.User.Enabled = true
	v.CreatedAt = time.UnixMilli(created)
	return v, err
}

// Visitors returns the visits that end after since, soonest first: today's
// and those to come.
func (s *Store) Visitors(ctx context.Context, since time.Time) ([]Visitor, error) {
	return queryAll(ctx, s.read, "list visitors", scanVisitor, visitorQuery+` WHERE u.valid_until > ? ORDER BY u.valid_from, v.id LIMIT 1000`, since.UnixMilli())
}

// VisitorByUser returns the visit of a visitor's user.
func (s *Store) VisitorByUser(ctx context.Context, userID int64) (Visitor, error) {
	v, err := scanVisitor(s.read.QueryRowContext(ctx, visitorQuery+` WHERE v.user_id = ?`, userID))
	return v, notFound("read visitor", err)
}

const cursorVisitors = "cursor_visitors"

// VisitorCursor returns the id of the last event read for arrivals.
func (s *Store) VisitorCursor(ctx context.Context) (int64, error) {
	return s.cursor(ctx, cursorVisitors)
}

// Arrival is a visitor's first way in, with the email to their host.
type Arrival struct {
	VisitorID int64
	At        time.Time
	Mail      Mail
}

// QueueArrivals records visitors' first way in with their hosts' emails,
// and moves the arrivals cursor to cursor, in one transaction: a host
// hears once, and a crash before the commit tells them after the restart.
func (s *Store) QueueArrivals(ctx context.Context, arrivals []Arrival, cursor int64) error {
	return s.tx(ctx, "queue visitor arrivals", func(tx *sql.Tx) error {
		for _, a := range arrivals {
			res, err := tx.ExecContext(ctx, `UPDATE visitors SET first_in_at = ? WHERE id = ? AND first_in_at IS NULL`, a.At.UnixMilli(), a.VisitorID)
			if err != nil {
				return fmt.Errorf("store: record arrival: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue // told already
			}
			if a.Mail.Recipient == "" {
				continue
			}
			if _, err := s.insertMail(ctx, tx, "system", a.Mail); err != nil {
				return err
			}
		}
		return setSetting(ctx, tx, cursorVisitors, strconv.FormatInt(cursor, 10))
	})
}
