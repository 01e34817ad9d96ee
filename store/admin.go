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
	CreatedAt    time.Time
}

// Session is a logged-in browser.
type Session struct {
	AdminID   int64
	Email     string
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
	if err := access.ValidateEmail(email); err != nil {
		return Admin{}, access.Invalid("email", "%s", err.Error())
	}
	a := Admin{Email: email, PasswordHash: passwordHash, CreatedAt: s.now()}
	err := s.tx(ctx, "create admin", func(tx *sql.Tx) error {
		if onlyFirst {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admins`).Scan(&n); err != nil {
				return fmt.Errorf("store: create admin: count admins: %w", err)
			}
			if n > 0 {
				return ErrAdminExists
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO admins (email, password_hash, created_at) VALUES (?, ?, ?)`, email, passwordHash, a.CreatedAt.UnixMilli())
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
	var a Admin
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT id, email, password_hash, created_at FROM admins WHERE email = ?`, email).Scan(&a.ID, &a.Email, &a.PasswordHash, &created)
	a.CreatedAt = time.UnixMilli(created)
	return a, notFound("read admin by email", err)
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
	err := s.read.QueryRowContext(ctx, `SELECT s.admin_id, a.email, s.csrf, s.expires_at FROM sessions s JOIN admins a ON a.id = s.admin_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, hashToken(token), s.now().UnixMilli()).Scan(&sess.AdminID, &sess.Email, &sess.CSRF, &exp)
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

// CreateAPIToken stores an API token for an admin under its hash.
func (s *Store) CreateAPIToken(ctx context.Context, actor string, adminID int64, name, token string) error {
	return s.tx(ctx, "create API token", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (admin_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)`, adminID, name, hashToken(token), s.now().UnixMilli())
		if err != nil {
			return constraintErr("create API token", err, "that token")
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "api_token.created", Actor: actor, Detail: name})
	})
}

// AdminByAPIToken returns the admin a bearer token belongs to.
func (s *Store) AdminByAPIToken(ctx context.Context, token string) (Admin, error) {
	var a Admin
	err := s.read.QueryRowContext(ctx, `SELECT a.id, a.email FROM api_tokens t JOIN admins a ON a.id = t.admin_id WHERE t.token_hash = ?`, hashToken(token)).Scan(&a.ID, &a.Email)
	return a, notFound("read admin by API token", err)
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
