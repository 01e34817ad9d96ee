package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"

	"postern/access"
)

// ErrMigrated is returned by MigrateCredential for a credential that has
// already moved to version 2 with other keys than the ones asked for.
var ErrMigrated = access.Conflict("this credential has already been moved to protocol version 2")

// Migration is a version 1 credential's move to version 2: the device's
// new keys, which the request was signed with alongside the old ones.
type Migration struct {
	ID         access.CredentialID
	TapKey     []byte
	UVKey      []byte
	DeviceInfo string
}

// MigrateCredential moves a credential to protocol version 2 with new
// device keys, without a registration code: verify is called inside the
// transaction with the credential as stored (its old keys) and must check
// the request's signatures against them. It is accepted once; asking again
// with the same new keys (an answer lost on the way) succeeds again and
// changes nothing, and with other keys is ErrMigrated. Only this site's
// own active credentials move; one imported from another site is shared
// again from its home site instead.
func (s *Store) MigrateCredential(ctx context.Context, m Migration, verify func(old access.Credential) error) (access.Credential, access.User, error) {
	var c access.Credential
	var u access.User
	now := s.now()
	err := s.tx(ctx, "migrate credential", func(tx *sql.Tx) error {
		var err error
		if c, err = credentialByID(ctx, tx, m.ID, now); err != nil {
			return err
		}
		if u, err = userByID(ctx, tx, c.UserID); err != nil {
			return err
		}
		switch {
		case c.Issuer.Name != "":
			return access.Conflict("this credential was added here from %s: ask that site's key to share it again", c.Issuer.Name)
		case c.Status != access.CredentialActive:
			return access.Conflict("this credential is %s, not active", c.Status)
		case c.Protocol >= 2 && bytes.Equal(c.TapKey, m.TapKey) && bytes.Equal(c.UVKey, m.UVKey):
			return nil
		case c.Protocol >= 2:
			return ErrMigrated
		}
		if err := verify(c); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET tap_key = ?, uv_key = ?, device_info = ?, protocol = 2 WHERE id = ?`,
			m.TapKey, m.UVKey, m.DeviceInfo, m.ID[:]); err != nil {
			return fmt.Errorf("store: migrate credential: %w", err)
		}
		c.TapKey, c.UVKey, c.DeviceInfo, c.Protocol = m.TapKey, m.UVKey, m.DeviceInfo, 2
		return s.insertEvent(ctx, tx, &access.Event{At: now, Kind: "credential.migrated", Actor: "key", UserID: c.UserID, CredentialID: c.ID.String(),
			Detail: "moved to protocol version 2: " + m.DeviceInfo})
	})
	return c, u, err
}

// Introductions lists the imported credentials whose phones have not yet
// met this site: the reader checks a hello's introduction tag against
// their secrets. Revoked ones are left out.
func (s *Store) Introductions(ctx context.Context) ([]access.Introduction, error) {
	return queryAll(ctx, s.read, "list introductions", func(sc scanner) (access.Introduction, error) {
		var in access.Introduction
		var id []byte
		err := sc.Scan(&id, &in.Secret)
		copy(in.Credential[:], id)
		return in, err
	}, `SELECT id, introduction FROM credentials WHERE introduction IS NOT NULL AND status = 'active'`)
}

// CompleteIntroduction forgets a credential's introduction secret once its
// phone has answered this site with the credential's keys.
func (s *Store) CompleteIntroduction(ctx context.Context, id access.CredentialID) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE credentials SET introduction = NULL WHERE id = ?`, id[:]); err != nil {
		return fmt.Errorf("store: complete introduction: %w", err)
	}
	// Not a transaction of s.tx: the change it made is published here.
	s.publish(ctx)
	return nil
}

// CountActiveByProtocol counts this site's active credentials whose
// devices speak a protocol version: how many keys still need updating
// before version 1 can be turned off.
func (s *Store) CountActiveByProtocol(ctx context.Context, version int) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM credentials WHERE status = 'active' AND protocol = ?`, version).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count credentials by protocol: %w", err)
	}
	return n, nil
}
