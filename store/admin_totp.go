package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"postern/access"
)

// TwoFactor is an administrator's second factor: a TOTP secret, one being
// set up, and how many recovery codes are left.
type TwoFactor struct {
	Secret   string // base32; "" when two-factor is off
	Pending  string // a secret shown for setup, not yet confirmed by a code
	LastStep int64  // the TOTP time step of the last code used
	Recovery int    // one-time recovery codes left
}

// Enrolled reports whether the admin signs in with a second factor.
func (t TwoFactor) Enrolled() bool { return t.Secret != "" }

// TwoFactor returns an admin's second factor.
func (s *Store) TwoFactor(ctx context.Context, adminID int64) (TwoFactor, error) {
	var t TwoFactor
	err := s.read.QueryRowContext(ctx, `SELECT totp_secret, totp_pending, totp_last_step,
		(SELECT count(*) FROM admin_recovery_codes WHERE admin_id = a.id) FROM admins a WHERE id = ?`, adminID).
		Scan(&t.Secret, &t.Pending, &t.LastStep, &t.Recovery)
	return t, notFound("read two-factor", err)
}

// SetPendingTOTP keeps secret as the one an admin is setting up, until a
// code from it confirms it (EnrolTOTP).
func (s *Store) SetPendingTOTP(ctx context.Context, adminID int64, secret string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE admins SET totp_pending = ? WHERE id = ?`, secret, adminID)
	if err != nil {
		return fmt.Errorf("store: set up two-factor: %w", err)
	}
	return affected("set up two-factor", res)
}

// EnrolTOTP turns two-factor on with the pending secret, which a code of
// time step step has just confirmed, and replaces the admin's recovery
// codes with codes. It refuses when the pending secret is no longer
// secret (set up again in another browser meanwhile).
func (s *Store) EnrolTOTP(ctx context.Context, actor string, adminID int64, secret string, step int64, codes []string) error {
	return s.tx(ctx, "turn on two-factor", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admins SET totp_secret = totp_pending, totp_pending = '', totp_last_step = ?
			WHERE id = ? AND totp_pending = ? AND totp_pending != ''`, step, adminID, secret)
		if err != nil {
			return fmt.Errorf("store: turn on two-factor: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return access.Conflict("two-factor was set up again elsewhere: start again")
		}
		if err := replaceRecoveryCodes(ctx, tx, adminID, codes); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.two_factor_enrolled", Actor: actor, Detail: strconv.Itoa(len(codes)) + " recovery codes"})
	})
}

// ReplaceRecoveryCodes gives an admin new recovery codes; the old ones
// stop working.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, actor string, adminID int64, codes []string) error {
	return s.tx(ctx, "new recovery codes", func(tx *sql.Tx) error {
		if err := replaceRecoveryCodes(ctx, tx, adminID, codes); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.recovery_codes_replaced", Actor: actor, Detail: strconv.Itoa(len(codes)) + " recovery codes"})
	})
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, adminID int64, codes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM admin_recovery_codes WHERE admin_id = ?`, adminID); err != nil {
		return fmt.Errorf("store: recovery codes: %w", err)
	}
	for _, c := range codes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO admin_recovery_codes (admin_id, code_hash) VALUES (?, ?)`, adminID, hashToken(c)); err != nil {
			return fmt.Errorf("store: recovery codes: %w", err)
		}
	}
	return nil
}

// DisableTOTP turns an admin's two-factor off and forgets their recovery
// codes.
func (s *Store) DisableTOTP(ctx context.Context, actor string, adminID int64) error {
	return s.tx(ctx, "turn off two-factor", func(tx *sql.Tx) error {
		_, err := s.disableTOTP(ctx, tx, actor, adminID)
		return err
	})
}

// DisableTOTPFor turns off the two-factor of another admin, who has it,
// and queues m to tell them, together: nobody's second factor goes
// without their hearing of it. It refuses with a conflict when they have
// none (turned off meanwhile, in another tab).
func (s *Store) DisableTOTPFor(ctx context.Context, actor string, adminID int64, m Mail) error {
	return s.tx(ctx, "turn off two-factor", func(tx *sql.Tx) error {
		had, err := s.disableTOTP(ctx, tx, actor, adminID)
		if err != nil {
			return err
		}
		if !had {
			return access.Conflict("two-factor sign-in is already off for that administrator")
		}
		_, err = s.insertMail(ctx, tx, actor, m)
		return err
	})
}

// disableTOTP turns an admin's two-factor off and reports whether it was
// on.
func (s *Store) disableTOTP(ctx context.Context, tx *sql.Tx, actor string, adminID int64) (bool, error) {
	var email, secret string
	if err := tx.QueryRowContext(ctx, `SELECT email, totp_secret FROM admins WHERE id = ?`, adminID).Scan(&email, &secret); err != nil {
		return false, notFound("turn off two-factor", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE admins SET totp_secret = '', totp_pending = '', totp_last_step = 0 WHERE id = ?`, adminID); err != nil {
		return false, fmt.Errorf("store: turn off two-factor: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM admin_recovery_codes WHERE admin_id = ?`, adminID); err != nil {
		return false, fmt.Errorf("store: turn off two-factor: %w", err)
	}
	return secret != "", s.insertEvent(ctx, tx, &access.Event{Kind: "admin.two_factor_disabled", Actor: actor, Detail: email})
}

// UseTOTPStep records that a code of time step step was used, and reports
// false when one of that step or a later one already was: a code seen
// over a shoulder or in a proxy's log cannot be used again.
func (s *Store) UseTOTPStep(ctx context.Context, adminID, step int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE admins SET totp_last_step = ? WHERE id = ? AND totp_secret != '' AND totp_last_step < ?`, step, adminID, step)
	if err != nil {
		return false, fmt.Errorf("store: use a two-factor code: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UseRecoveryCode spends one of an admin's recovery codes and returns how
// many are left, or access.ErrNotFound when code is not one of theirs (or
// was used already).
func (s *Store) UseRecoveryCode(ctx context.Context, actor string, adminID int64, code string) (int, error) {
	var left int
	err := s.tx(ctx, "use a recovery code", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM admin_recovery_codes WHERE admin_id = ? AND code_hash = ?`, adminID, hashToken(code))
		if err != nil {
			return fmt.Errorf("store: use a recovery code: %w", err)
		}
		if err := affected("use a recovery code", res); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admin_recovery_codes WHERE admin_id = ?`, adminID).Scan(&left); err != nil {
			return fmt.Errorf("store: use a recovery code: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.recovery_code_used", Actor: actor, Detail: strconv.Itoa(left) + " left"})
	})
	return left, err
}

// CreateLoginChallenge notes that the holder of token passed an admin's
// password and has until ttl is up to give the second factor.
func (s *Store) CreateLoginChallenge(ctx context.Context, token string, adminID int64, ttl time.Duration) error {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM admin_logins WHERE expires_at < ?`, now.UnixMilli()); err != nil {
		return fmt.Errorf("store: start a two-factor sign-in: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO admin_logins (token_hash, admin_id, expires_at) VALUES (?, ?, ?)`,
		hashToken(token), adminID, now.Add(ttl).UnixMilli())
	if err != nil {
		return fmt.Errorf("store: start a two-factor sign-in: %w", err)
	}
	return nil
}

// AdminByLoginChallenge returns the admin whose password the holder of
// token gave, while the challenge lasts.
func (s *Store) AdminByLoginChallenge(ctx context.Context, token string) (Admin, error) {
	a, err := scanAdmin(s.read.QueryRowContext(ctx, `SELECT a.id, a.email, a.password_hash, a.role, a.created_at FROM admin_logins l JOIN admins a ON a.id = l.admin_id
		WHERE l.token_hash = ? AND l.expires_at > ?`, hashToken(token), s.now().UnixMilli()))
	return a, notFound("read two-factor sign-in", err)
}

// DeleteLoginChallenge ends a two-factor sign-in, passed or abandoned.
func (s *Store) DeleteLoginChallenge(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM admin_logins WHERE token_hash = ?`, hashToken(token)); err != nil {
		return fmt.Errorf("store: end a two-factor sign-in: %w", err)
	}
	return nil
}
