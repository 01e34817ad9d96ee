package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// maxDevices is how many browsers each admin is remembered on; the least
// recently used is forgotten first.
const maxDevices = 20

// RememberAdminDevice records that an admin signed in from the browser
// holding token (kept as its hash), or that they did so again. A browser
// an admin has signed in from is not held to the per-email limit a guesser
// elsewhere has used up.
func (s *Store) RememberAdminDevice(ctx context.Context, adminID int64, token string, at time.Time) error {
	return s.tx(ctx, "remember admin device", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO admin_devices (token_hash, admin_id, created_at, last_used_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (token_hash) DO UPDATE SET last_used_at = excluded.last_used_at WHERE admin_id = excluded.admin_id`,
			hashToken(token), adminID, at.UnixMilli(), at.UnixMilli()); err != nil {
			return fmt.Errorf("store: remember admin device: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_devices WHERE admin_id = ? AND token_hash NOT IN (
			SELECT token_hash FROM admin_devices WHERE admin_id = ? ORDER BY last_used_at DESC LIMIT ?)`, adminID, adminID, maxDevices); err != nil {
			return fmt.Errorf("store: remember admin device: forget old ones: %w", err)
		}
		return nil
	})
}

// AdminByDevice returns the admin who signed in from the browser holding
// token.
func (s *Store) AdminByDevice(ctx context.Context, token string) (Admin, error) {
	var a Admin
	err := s.read.QueryRowContext(ctx, `SELECT a.id, a.email FROM admin_devices d JOIN admins a ON a.id = d.admin_id WHERE d.token_hash = ?`, hashToken(token)).Scan(&a.ID, &a.Email)
	return a, notFound("read admin by device", err)
}
