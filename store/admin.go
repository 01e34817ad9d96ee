package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"postern/access"
)

// Admin is a person who manages the site in the browser or through the API.
type Admin struct {
	ID           int64
	Email        string
	PasswordHash string
	Role         access.Role
	CreatedAt    time.Time
	TwoFactor    bool // signs in with a second factor; set by Admins only
}

// Session is a logged-in browser.
type Session struct {
	AdminID   int64
	Email     string
	Role      access.Role
	CSRF      string
	ExpiresAt time.Time
}

// ErrAdminExists is returned when the first-run setup is attempted again.
var ErrAdminExists = errors.New("an administrator already exists")

// hashToken is how session and API tokens are kept: a leak of the database
// does not hand out live tokens.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CountAdmins returns how many admins there are; zero means first run.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM admins`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count admins: %w", err)
	}
	return n, nil
}

// CreateAdmin adds an admin. With onlyFirst, it refuses when any admin
// exists, inside the same transaction, so two setup requests cannot both win.
func (s *Store) CreateAdmin(ctx context.Context, actor, email, passwordHash string, onlyFirst bool) (Admin, error) {
	return s.createAdmin(ctx, actor, email, passwordHash, access.RoleOwner, onlyFirst)
}

// CreateAdminAs adds an admin with a role; the first one must be an owner,
// or nobody could manage administrators.
func (s *Store) CreateAdminAs(ctx context.Context, actor, email, passwordHash string, role access.Role) (Admin, error) {
	return s.createAdmin(ctx, actor, email, passwordHash, role, false)
}

func (s *Store) createAdmin(ctx context.Context, actor, email, passwordHash string, role access.Role, onlyFirst bool) (Admin, error) {
	if err := access.ValidateEmail(email); err != nil {
		return Admin{}, access.Invalid("email", "%s", err.Error())
	}
	if _, err := access.ParseRole(string(role)); err != nil {
		return Admin{}, err
	}
	a := Admin{Email: email, PasswordHash: passwordHash, Role: role, CreatedAt: s.now()}
	err := s.tx(ctx, "create admin", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admins`).Scan(&n); err != nil {
			return fmt.Errorf("store: create admin: count admins: %w", err)
		}
		if onlyFirst && n > 0 {
			return ErrAdminExists
		}
		if n == 0 && role != access.RoleOwner {
			return ErrLastOwner
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO admins (email, password_hash, created_at, role) VALUES (?, ?, ?, ?)`, email, passwordHash, a.CreatedAt.UnixMilli(), role)
		if err != nil {
			return constraintErr("create admin", err, "an administrator with that email")
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create admin: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.created", Actor: actor, Detail: email})
	})
	return a, err
}

// AdminByEmail returns one admin.
func (s *Store) AdminByEmail(ctx context.Context, email string) (Admin, error) {
	a, err := scanAdmin(s.read.QueryRowContext(ctx, `SELECT `+adminColumns+` FROM admins WHERE email = ?`, email))
	return a, notFound("read admin by email", err)
}

// adminColumns are what scanAdmin reads, in its order.
const adminColumns = `id, email, password_hash, role, created_at`

func scanAdmin(sc scanner) (Admin, error) {
	var a Admin
	var created int64
	err := sc.Scan(&a.ID, &a.Email, &a.PasswordHash, &a.Role, &created)
	a.CreatedAt = time.UnixMilli(created)
	return a, err
}

// CreateSession stores a new browser session under the hash of token.
func (s *Store) CreateSession(ctx context.Context, token, csrf string, adminID int64, ttl time.Duration) error {
	now := s.now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, admin_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hashToken(token), adminID, csrf, now.UnixMilli(), now.Add(ttl).UnixMilli())
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	// Sweep expired sessions now and then; the index keeps it cheap.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, now.UnixMilli()); err != nil {
		return fmt.Errorf("store: create session: sweep expired sessions: %w", err)
	}
	return nil
}

// SessionByToken returns the live session for token.
func (s *Store) SessionByToken(ctx context.Context, token string) (Session, error) {
	var sess Session
	var exp int64
	err := s.read.QueryRowContext(ctx, `SELECT s.admin_id, a.email, a.role, s.csrf, s.expires_at FROM sessions s JOIN admins a ON a.id = s.admin_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, hashToken(token), s.now().UnixMilli()).Scan(&sess.AdminID, &sess.Email, &sess.Role, &sess.CSRF, &exp)
	sess.ExpiresAt = time.UnixMilli(exp)
	return sess, notFound("read session", err)
}

// DeleteSession logs a browser out.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Setting returns a site setting, or def when it is not set.
func (s *Store) Setting(ctx context.Context, key, def string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return def, nil
	case err != nil:
		return "", fmt.Errorf("store: read setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores a site setting.
func (s *Store) SetSetting(ctx context.Context, actor, key, value string) error {
	return s.tx(ctx, "set setting "+key, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
			return fmt.Errorf("store: set setting %s: %w", key, err)
		}
		if actor == "" {
			return nil
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "setting.changed", Actor: actor, Detail: key})
	})
}

// Admins returns every administrator, by email. The list is short: the
// people who run one site.
func (s *Store) Admins(ctx context.Context) ([]Admin, error) {
	return queryAll(ctx, s.read, "list admins", func(sc scanner) (Admin, error) {
		var a Admin
		var created int64
		err := sc.Scan(&a.ID, &a.Email, &a.Role, &created, &a.TwoFactor)
		a.CreatedAt = time.UnixMilli(created)
		return a, err
	}, `SELECT id, email, role, created_at, totp_secret != '' FROM admins ORDER BY email`)
}

// AdminByID returns one admin.
func (s *Store) AdminByID(ctx context.Context, id int64) (Admin, error) {
	a, err := scanAdmin(s.read.QueryRowContext(ctx, `SELECT `+adminColumns+` FROM admins WHERE id = ?`, id))
	return a, notFound("read admin", err)
}

// ErrLastAdmin refuses to remove the only administrator: nobody could
// manage the site, or make another, from the browser.
var ErrLastAdmin = access.Conflict("this is the only administrator: add another one before removing it")

// DeleteAdmin removes an administrator with their sessions, API tokens and
// remembered browsers; never the last one.
func (s *Store) DeleteAdmin(ctx context.Context, actor string, id int64) error {
	return s.tx(ctx, "remove admin", func(tx *sql.Tx) error {
		var email string
		var role access.Role
		if err := tx.QueryRowContext(ctx, `SELECT email, role FROM admins WHERE id = ?`, id).Scan(&email, &role); err != nil {
			return notFound("remove admin", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admins`).Scan(&n); err != nil {
			return fmt.Errorf("store: remove admin: count admins: %w", err)
		}
		if n <= 1 {
			return ErrLastAdmin
		}
		if err := keepAnOwner(ctx, tx, id, role, ""); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM admins WHERE id = ?`, id); err != nil {
			return fmt.Errorf("store: remove admin: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.removed", Actor: actor, Detail: email})
	})
}

// SetAdminPassword changes an admin's password and ends every session of
// theirs but the one holding keepSession (the browser that changed it;
// "" ends them all): whoever knew the old password is signed out.
func (s *Store) SetAdminPassword(ctx context.Context, actor string, adminID int64, passwordHash, keepSession string) error {
	return s.tx(ctx, "change password", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admins SET password_hash = ? WHERE id = ?`, passwordHash, adminID)
		if err != nil {
			return fmt.Errorf("store: change password: %w", err)
		}
		if err := affected("change password", res); err != nil {
			return err
		}
		if _, err := endSessions(ctx, tx, adminID, keepSession); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.password_changed", Actor: actor, Detail: "other sessions signed out"})
	})
}

// EndOtherSessions signs an admin out everywhere but the browser holding
// keepSession, and returns how many sessions it ended.
func (s *Store) EndOtherSessions(ctx context.Context, actor string, adminID int64, keepSession string) (int64, error) {
	var n int64
	err := s.tx(ctx, "end other sessions", func(tx *sql.Tx) error {
		var err error
		if n, err = endSessions(ctx, tx, adminID, keepSession); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.sessions_ended", Actor: actor, Detail: fmt.Sprintf("%d other sessions signed out", n)})
	})
	return n, err
}

func endSessions(ctx context.Context, tx querier, adminID int64, keepSession string) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE admin_id = ? AND token_hash != ?`, adminID, hashToken(keepSession))
	if err != nil {
		return 0, fmt.Errorf("store: end sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: end sessions: %w", err)
	}
	return n, nil
}

// CountSessions returns how many live sessions an admin has.
func (s *Store) CountSessions(ctx context.Context, adminID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE admin_id = ? AND expires_at > ?`, adminID, s.now().UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}
