package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"postern/access"
)

// Invitation is what a registration code stands for while it still
// works: the credential it registers, its holder and when it stops working.
type Invitation struct {
	Credential access.Credential
	User       access.User
	ExpiresAt  time.Time
}

// InvitationByCode returns what a registration code would register, without
// spending it, so the registration page can name the holder before the
// phone makes its keys. A code that is used, expired, reissued, unknown or
// whose credential is revoked is access.ErrRegistration, as registering
// with it would be.
func (s *Store) InvitationByCode(ctx context.Context, code string, now time.Time) (Invitation, error) {
	var inv Invitation
	var credID []byte
	var expires int64
	err := s.read.QueryRowContext(ctx, `SELECT credential_id, expires_at FROM registration_codes WHERE code_hash = ? AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ?`,
		access.HashCode(code), now.UnixMilli()).Scan(&credID, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return inv, access.ErrRegistration
	}
	if err != nil {
		return inv, fmt.Errorf("store: invitation by code: %w", err)
	}
	var id access.CredentialID
	copy(id[:], credID)
	if inv.Credential, err = credentialByID(ctx, s.read, id, now); err != nil {
		return inv, err
	}
	if inv.Credential.Status == access.CredentialRevoked {
		return Invitation{}, access.ErrRegistration
	}
	if inv.User, err = userByID(ctx, s.read, inv.Credential.UserID); err != nil {
		return Invitation{}, err
	}
	inv.ExpiresAt = time.UnixMilli(expires)
	return inv, nil
}
