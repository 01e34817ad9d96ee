package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"postern/access"
)

// SentShare is a credential this site sent to another site's
// administrator with a version 2 token, as the home site lists it.
type SentShare struct {
	TokenID          [16]byte
	CredentialID     access.CredentialID
	UserID           int64
	UserName         string
	AdminEmail       string
	SiteCredentialID [16]byte // the credential's id at the other site
	FirstName        string
	LastName         string
	CreatedAt        time.Time
	ExpiresAt        time.Time
	WithdrawnAt      time.Time
	WithdrawnBy      string
	RedeemedAt       time.Time
	RedeemedBy       string // the site that confirmed its import
}

// Status is "withdrawn", "imported", "expired" at now, or "sent".
func (sh SentShare) Status(now time.Time) string {
	switch {
	case !sh.WithdrawnAt.IsZero():
		return "withdrawn"
	case !sh.RedeemedAt.IsZero():
		return "imported"
	case !now.Before(sh.ExpiresAt):
		return "expired"
	}
	return "sent"
}

// Share redemption refusals, as the importing site is told them.
var (
	ErrShareWithdrawn = errors.New("the issuing site has withdrawn this credential token")
	ErrShareRedeemed  = errors.New("this credential token has already been imported at a site")
	ErrShareExpired   = errors.New("this credential token has expired")
)

// QueueShareV2 is QueueShare for a version 2 token: it also records the
// share, so the home site can list and withdraw it.
func (s *Store) QueueShareV2(ctx context.Context, sh SentShare, at time.Time, limit int, window time.Duration, compose func(access.Credential, access.User) (Mail, error)) error {
	return s.queueShare(ctx, sh.CredentialID, at, limit, window, compose, func(tx *sql.Tx, c access.Credential) error {
		if c.Protocol < 2 {
			return access.Conflict("this credential's device speaks protocol version 1: move it to version 2 first (postern key migrate)")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO shares (token_id, credential_id, admin_email, site_credential_id, first_name, last_name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sh.TokenID[:], sh.CredentialID[:], sh.AdminEmail, sh.SiteCredentialID[:], sh.FirstName, sh.LastName, s.now().UnixMilli(), sh.ExpiresAt.UnixMilli())
		return constraintErr("record share", err, "that share")
	})
}

const sentShareSelect = `SELECT sh.token_id, sh.credential_id, c.user_id, ifnull((SELECT trim(first_name || ' ' || last_name) FROM users WHERE users.id = c.user_id), ''),
	sh.admin_email, sh.site_credential_id, sh.first_name, sh.last_name, sh.created_at, sh.expires_at, sh.withdrawn_at, sh.withdrawn_by, sh.redeemed_at, sh.redeemed_by
	FROM shares sh JOIN credentials c ON c.id = sh.credential_id`

func scanSentShare(sc scanner) (SentShare, error) {
	var sh SentShare
	var tok, cred, siteCred []byte
	var created, expires int64
	var withdrawn, redeemed sql.NullInt64
	err := sc.Scan(&tok, &cred, &sh.UserID, &sh.UserName, &sh.AdminEmail, &siteCred, &sh.FirstName, &sh.LastName, &created, &expires, &withdrawn, &sh.WithdrawnBy, &redeemed, &sh.RedeemedBy)
	copy(sh.TokenID[:], tok)
	copy(sh.CredentialID[:], cred)
	copy(sh.SiteCredentialID[:], siteCred)
	sh.CreatedAt, sh.ExpiresAt = time.UnixMilli(created), time.UnixMilli(expires)
	sh.WithdrawnAt, sh.RedeemedAt = fromMS(withdrawn), fromMS(redeemed)
	return sh, err
}

// SentShares lists the shares this site sent, newest first: all of them,
// or one credential's.
func (s *Store) SentShares(ctx context.Context, cred *access.CredentialID) ([]SentShare, error) {
	if cred != nil {
		return queryAll(ctx, s.read, "list shares", scanSentShare, sentShareSelect+` WHERE sh.credential_id = ? ORDER BY sh.created_at DESC`, cred[:])
	}
	return queryAll(ctx, s.read, "list shares", scanSentShare, sentShareSelect+` ORDER BY sh.created_at DESC LIMIT ?`, MaxLimit)
}

// SentShareByToken returns one share by its token id.
func (s *Store) SentShareByToken(ctx context.Context, token [16]byte) (SentShare, error) {
	sh, err := scanSentShare(s.read.QueryRowContext(ctx, sentShareSelect+` WHERE sh.token_id = ?`, token[:]))
	return sh, notFound("read share", err)
}

// WithdrawShare withdraws a share this site sent: an importing site that
// checks with this one refuses its token from now on. Withdrawing twice
// changes nothing.
func (s *Store) WithdrawShare(ctx context.Context, actor string, token [16]byte) error {
	now := s.now()
	return s.tx(ctx, "withdraw share", func(tx *sql.Tx) error {
		sh, err := scanSentShare(tx.QueryRowContext(ctx, sentShareSelect+` WHERE sh.token_id = ?`, token[:]))
		if err != nil {
			return notFound("withdraw share", err)
		}
		if !sh.WithdrawnAt.IsZero() {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE shares SET withdrawn_at = ?, withdrawn_by = ? WHERE token_id = ?`, now.UnixMilli(), actor, token[:]); err != nil {
			return fmt.Errorf("store: withdraw share: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "credential.share_withdrawn", Actor: actor, UserID: sh.UserID, CredentialID: sh.CredentialID.String(),
			Detail: "the token sent to " + sh.AdminEmail})
	})
}

// RedeemShare is the importing site's confirmation that it is adding a
// share: the first confirmation wins, and a withdrawn, expired or already
// redeemed share is refused (ErrShareWithdrawn, ErrShareExpired,
// ErrShareRedeemed).
func (s *Store) RedeemShare(ctx context.Context, token [16]byte, by string) error {
	now := s.now()
	return s.tx(ctx, "redeem share", func(tx *sql.Tx) error {
		sh, err := scanSentShare(tx.QueryRowContext(ctx, sentShareSelect+` WHERE sh.token_id = ?`, token[:]))
		if err != nil {
			return notFound("redeem share", err)
		}
		switch sh.Status(now) {
		case "withdrawn":
			return ErrShareWithdrawn
		case "imported":
			return ErrShareRedeemed
		case "expired":
			return ErrShareExpired
		}
		if _, err := tx.ExecContext(ctx, `UPDATE shares SET redeemed_at = ?, redeemed_by = ? WHERE token_id = ?`, now.UnixMilli(), by, token[:]); err != nil {
			return fmt.Errorf("store: redeem share: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "credential.share_imported", Actor: "site", UserID: sh.UserID, CredentialID: sh.CredentialID.String(),
			Detail: "the token sent to " + sh.AdminEmail + " was added at " + by})
	})
}
