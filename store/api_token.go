package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"postern/access"
)

// APIToken is a bearer token for the JSON API, as it is listed: never the
// token itself, which is kept only as its hash.
type APIToken struct {
	ID         int64
	AdminID    int64
	AdminEmail string
	Name       string
	// Role is what the token may do: the role it was made with, or its
	// maker's role now when that is lower.
	Role       access.Role
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	ExpiresAt  time.Time // zero: never expires
}

// Expired reports whether the token no longer opens the API at now.
func (t APIToken) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// tokenTouchEvery is how stale a token's last use may be before a request
// records it again: often enough to tell a live token from a dead one,
// rarely enough that the API does not write on every call.
const tokenTouchEvery = time.Minute

// CreateAPIToken stores an API token that does not expire.
func (s *Store) CreateAPIToken(ctx context.Context, actor string, adminID int64, name, token string) error {
	_, err := s.CreateAPITokenUntil(ctx, actor, adminID, name, token, time.Time{})
	return err
}

// CreateAPITokenUntil stores an API token for an admin under its hash,
// valid until expires (zero: for good), with its maker's role, and returns
// its id.
func (s *Store) CreateAPITokenUntil(ctx context.Context, actor string, adminID int64, name, token string, expires time.Time) (int64, error) {
	return s.CreateAPITokenAs(ctx, actor, adminID, name, token, expires, "")
}

// ErrTokenAboveMaker refuses a token that could do more than the admin
// who makes it.
var ErrTokenAboveMaker = access.Invalid("role", "must not be above your own role")

// CreateAPITokenAs is CreateAPITokenUntil with a role for the token, no
// higher than its maker's ("": the maker's).
func (s *Store) CreateAPITokenAs(ctx context.Context, actor string, adminID int64, name, token string, expires time.Time, role access.Role) (int64, error) {
	if err := validateTokenName(name); err != nil {
		return 0, err
	}
	if _, err := access.ParseRole(string(role)); role != "" && err != nil {
		return 0, err
	}
	var id int64
	err := s.tx(ctx, "create API token", func(tx *sql.Tx) error {
		var maker access.Role
		if err := tx.QueryRowContext(ctx, `SELECT role FROM admins WHERE id = ?`, adminID).Scan(&maker); errors.Is(err, sql.ErrNoRows) {
			return access.Conflict("that administrator does not exist")
		} else if err != nil {
			return fmt.Errorf("store: create API token: %w", err)
		}
		if role == "" {
			role = maker
		}
		if !maker.AtLeast(role) {
			return ErrTokenAboveMaker
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (admin_id, name, token_hash, created_at, expires_at, role) VALUES (?, ?, ?, ?, ?, ?)`,
			adminID, name, hashToken(token), s.now().UnixMilli(), ms(expires), role)
		if err != nil {
			return constraintErr("create API token", err, "that token")
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create API token: %w", err)
		}
		detail := name + ", " + string(role)
		if !expires.IsZero() {
			detail += ", until " + expires.UTC().Format(time.RFC3339)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "api_token.created", Actor: actor, Detail: detail})
	})
	return id, err
}

func validateTokenName(name string) error {
	if name == "" || len(name) > 100 {
		return access.Invalid("name", "must be 1 to 100 characters")
	}
	if err := access.CheckLine(name); err != nil {
		return access.Invalid("name", "%s", err.(*access.ValidationError).Message)
	}
	return nil
}

const apiTokenColumns = `t.id, t.admin_id, a.email, t.name, t.role, a.role, t.created_at, t.last_used_at, t.expires_at`

func scanAPIToken(sc scanner) (APIToken, error) {
	var t APIToken
	var created int64
	var used, expires sql.NullInt64
	var maker access.Role
	err := sc.Scan(&t.ID, &t.AdminID, &t.AdminEmail, &t.Name, &t.Role, &maker, &created, &used, &expires)
	t.Role = t.Role.Lower(maker)
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt = time.UnixMilli(created), fromMS(used), fromMS(expires)
	return t, err
}

// APITokenByToken returns the live token a bearer token is: not one that
// has expired.
func (s *Store) APITokenByToken(ctx context.Context, token string) (APIToken, error) {
	t, err := scanAPIToken(s.read.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens t JOIN admins a ON a.id = t.admin_id
		WHERE t.token_hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)`, hashToken(token), s.now().UnixMilli()))
	return t, notFound("read API token", err)
}

// AdminByAPIToken returns the admin a live bearer token belongs to.
func (s *Store) AdminByAPIToken(ctx context.Context, token string) (Admin, error) {
	t, err := s.APITokenByToken(ctx, token)
	return Admin{ID: t.AdminID, Email: t.AdminEmail, Role: t.Role}, err
}

// TouchAPIToken records that a token was used at at, unless a use within
// the last minute is already recorded: the caller checks LastUsedAt first,
// and the condition here keeps racing requests to one write between them.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		at.UnixMilli(), id, at.Add(-tokenTouchEvery).UnixMilli()); err != nil {
		return fmt.Errorf("store: record API token use: %w", err)
	}
	return nil
}

// TokenNeedsTouch reports whether a request at now should record the
// token's use: its last recorded use is a minute old or more.
func (t APIToken) NeedsTouch(now time.Time) bool {
	return t.LastUsedAt.IsZero() || now.Sub(t.LastUsedAt) >= tokenTouchEvery
}

// APITokens returns every API token, or one admin's when adminID is not
// zero, newest first.
func (s *Store) APITokens(ctx context.Context, adminID int64) ([]APIToken, error) {
	q := `SELECT ` + apiTokenColumns + ` FROM api_tokens t JOIN admins a ON a.id = t.admin_id`
	var args []any
	if adminID != 0 {
		q += ` WHERE t.admin_id = ?`
		args = append(args, adminID)
	}
	return queryAll(ctx, s.read, "list API tokens", scanAPIToken, q+` ORDER BY t.id DESC`, args...)
}

// RevokeAPIToken deletes an API token: it stops opening the API at once.
func (s *Store) RevokeAPIToken(ctx context.Context, actor string, id int64) error {
	return s.tx(ctx, "revoke API token", func(tx *sql.Tx) error {
		var name, email string
		err := tx.QueryRowContext(ctx, `SELECT t.name, a.email FROM api_tokens t JOIN admins a ON a.id = t.admin_id WHERE t.id = ?`, id).Scan(&name, &email)
		if err != nil {
			return notFound("revoke API token", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, id); err != nil {
			return fmt.Errorf("store: revoke API token: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "api_token.revoked", Actor: actor, Detail: name + " (" + email + ")"})
	})
}
