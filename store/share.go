package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"postern/access"
)

// Share refusals, each with its own answer to the key.
var (
	// ErrShareReplayed: the request's time is not after the last accepted
	// one for this credential, so it is a replay.
	ErrShareReplayed = errors.New("this share request was already used")
	// ErrShareLimit: the credential asked too often.
	ErrShareLimit = errors.New("too many share requests for this credential: try again tomorrow")
	// ErrShareRevoked: the credential may not be shared.
	ErrShareRevoked = errors.New("this credential is revoked and cannot be added to another site")
	// ErrShareImported: the credential was added here from another site,
	// which alone vouches for it.
	ErrShareImported = errors.New("this credential was added from another site: only that site can send it on")
)

// QueueShare queues the email that carries a credential to another site's
// administrator, after checking in the same transaction that the credential
// is this site's own and active, that the request is newer than the last
// one, and that fewer than limit shares went out in the past window;
// compose makes the email from the credential and its user.
func (s *Store) QueueShare(ctx context.Context, id access.CredentialID, at time.Time, limit int, window time.Duration, compose func(access.Credential, access.User) (Mail, error)) error {
	return s.queueShare(ctx, id, at, limit, window, compose, nil)
}

// queueShare is QueueShare with an extra step inside the transaction, run
// before the email is queued.
func (s *Store) queueShare(ctx context.Context, id access.CredentialID, at time.Time, limit int, window time.Duration, compose func(access.Credential, access.User) (Mail, error), also func(tx *sql.Tx, c access.Credential) error) error {
	now := s.now()
	return s.tx(ctx, "queue share", func(tx *sql.Tx) error {
		c, err := credentialByID(ctx, tx, id, now)
		if err != nil {
			return err
		}
		if c.Issuer.Name != "" {
			return ErrShareImported
		}
		if c.Status != access.CredentialActive {
			return ErrShareRevoked
		}
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT last_share_at FROM credentials WHERE id = ?`, id[:]).Scan(&last); err != nil {
			return fmt.Errorf("store: queue share: %w", err)
		}
		if last.Valid && at.UnixMilli() <= last.Int64 {
			return ErrShareReplayed
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE credential_id = ? AND kind = 'share' AND created_at > ?`,
			id[:], now.Add(-window).UnixMilli()).Scan(&n); err != nil {
			return fmt.Errorf("store: queue share: count recent shares: %w", err)
		}
		if n >= limit {
			return ErrShareLimit
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET last_share_at = ? WHERE id = ?`, at.UnixMilli(), id[:]); err != nil {
			return fmt.Errorf("store: queue share: %w", err)
		}
		u, err := userByID(ctx, tx, c.UserID)
		if err != nil {
			return err
		}
		if also != nil {
			if err := also(tx, c); err != nil {
				return err
			}
		}
		m, err := compose(c, u)
		if err != nil {
			return fmt.Errorf("store: queue share: compose email: %w", err)
		}
		m.CredentialID = &id
		if _, err := s.insertMail(ctx, tx, "key", m); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "credential.shared", Actor: "key", UserID: u.ID, CredentialID: id.String(), Detail: "sent to " + m.Recipient})
	})
}

// ImportCredential adds a credential issued by another site to a user here
// ("Add a credential"). From then on it is this site's credential: its
// permissions, revocation and events are this site's alone.
func (s *Store) ImportCredential(ctx context.Context, actor string, userID int64, c access.Credential) error {
	now := s.now()
	return s.tx(ctx, "import credential", func(tx *sql.Tx) error {
		u, err := userByID(ctx, tx, userID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO credentials (id, user_id, kind, status, tap_key, uv_key, device_info, issuer_site_id, issuer_site_name, issuer_site_url, issuer_site_key, created_at, registered_at, protocol, introduction, token_id)
			VALUES (?, ?, 'smart', 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID[:], userID, c.TapKey, c.UVKey, c.DeviceInfo, c.Issuer.ID[:], c.Issuer.Name, c.Issuer.URL, c.Issuer.Key, now.UnixMilli(), now.UnixMilli(),
			max(c.Protocol, 1), c.Introduction, c.TokenID)
		if duplicate(err) && c.TokenID != nil {
			var n int
			if tx.QueryRowContext(ctx, `SELECT count(*) FROM credentials WHERE token_id = ?`, c.TokenID).Scan(&n) == nil && n > 0 {
				return access.Conflict("this credential token has already been imported here: a token is imported once")
			}
		}
		if duplicate(err) {
			var owner int64
			if tx.QueryRowContext(ctx, `SELECT user_id FROM credentials WHERE id = ?`, c.ID[:]).Scan(&owner) == nil {
				return access.Conflict("this credential has already been added here (to user %d)", owner)
			}
		}
		if err != nil {
			return fmt.Errorf("store: import credential: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "credential.imported", Actor: actor, UserID: userID, CredentialID: c.ID.String(),
			Detail: "from " + c.Issuer.Name + " for " + u.Name()})
	})
}
