package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"postern/access"
)

// AdminLink is a one-time emailed link that sets an administrator's
// password: "invite" makes the administrator, "reset" replaces a
// forgotten password.
type AdminLink struct {
	Kind      string
	Email     string
	Role      access.Role
	ExpiresAt time.Time
}

// CreateAdminLink stores a link under its token's hash and queues its
// email in the same transaction. An invitation to an address that already
// administers the site is refused; a new link replaces the address's
// earlier ones of its kind.
func (s *Store) CreateAdminLink(ctx context.Context, actor string, l AdminLink, token string, m Mail) error {
	if err := access.ValidateEmail(l.Email); err != nil {
		return access.Invalid("email", "%s", err.Error())
	}
	if _, err := access.ParseRole(string(l.Role)); err != nil {
		return err
	}
	return s.tx(ctx, "create "+l.Kind+" link", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admins WHERE email = ?`, l.Email).Scan(&n); err != nil {
			return fmt.Errorf("store: create %s link: %w", l.Kind, err)
		}
		if l.Kind == "invite" && n > 0 {
			return access.Conflict("%s is already an administrator", l.Email)
		}
		if l.Kind == "reset" && n == 0 {
			return access.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_links WHERE email = ? AND kind = ?`, l.Email, l.Kind); err != nil {
			return fmt.Errorf("store: create %s link: %w", l.Kind, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO admin_links (token_hash, kind, email, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			hashToken(token), l.Kind, l.Email, l.Role, s.now().UnixMilli(), l.ExpiresAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: create %s link: %w", l.Kind, err)
		}
		if _, err := s.insertMail(ctx, tx, actor, m); err != nil {
			return err
		}
		if l.Kind == "invite" {
			return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.invited", Actor: actor, Detail: l.Email + " as " + string(l.Role)})
		}
		return nil
	})
}

// AdminLinkByToken returns the live link a token opens.
func (s *Store) AdminLinkByToken(ctx context.Context, token string) (AdminLink, error) {
	return adminLinkByToken(ctx, s.read, token, s.now())
}

func adminLinkByToken(ctx context.Context, q querier, token string, now time.Time) (AdminLink, error) {
	var l AdminLink
	var exp int64
	err := q.QueryRowContext(ctx, `SELECT kind, email, role, expires_at FROM admin_links WHERE token_hash = ? AND expires_at > ?`,
		hashToken(token), now.UnixMilli()).Scan(&l.Kind, &l.Email, &l.Role, &exp)
	l.ExpiresAt = time.UnixMilli(exp)
	return l, notFound("read admin link", err)
}

// UseAdminLink spends a link: an invitation makes its administrator with
// the password, a reset sets the password and signs them out everywhere.
// The link works once.
func (s *Store) UseAdminLink(ctx context.Context, token, passwordHash string) (Admin, error) {
	var a Admin
	err := s.tx(ctx, "use admin link", func(tx *sql.Tx) error {
		l, err := adminLinkByToken(ctx, tx, token, s.now())
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_links WHERE token_hash = ?`, hashToken(token)); err != nil {
			return fmt.Errorf("store: use admin link: %w", err)
		}
		actor := "admin:" + l.Email
		if l.Kind == "invite" {
			a = Admin{Email: l.Email, PasswordHash: passwordHash, Role: l.Role, CreatedAt: s.now()}
			res, err := tx.ExecContext(ctx, `INSERT INTO admins (email, password_hash, created_at, role) VALUES (?, ?, ?, ?)`, l.Email, passwordHash, a.CreatedAt.UnixMilli(), l.Role)
			if err != nil {
				return constraintErr("accept invitation", err, "an administrator with that email")
			}
			if a.ID, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("store: accept invitation: %w", err)
			}
			return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.created", Actor: actor, Detail: l.Email + " accepted an invitation as " + string(l.Role)})
		}
		err = tx.QueryRowContext(ctx, `SELECT id, email, role FROM admins WHERE email = ?`, l.Email).Scan(&a.ID, &a.Email, &a.Role)
		if errors.Is(err, sql.ErrNoRows) {
			return access.ErrNotFound
		} else if err != nil {
			return fmt.Errorf("store: reset password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE admins SET password_hash = ? WHERE id = ?`, passwordHash, a.ID); err != nil {
			return fmt.Errorf("store: reset password: %w", err)
		}
		if _, err := endSessions(ctx, tx, a.ID, ""); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.password_reset", Actor: actor, Detail: "by emailed link; every session signed out"})
	})
	return a, err
}
