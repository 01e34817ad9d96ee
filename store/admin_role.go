package store

import (
	"context"
	"database/sql"
	"fmt"

	"postern/access"
)

// ErrLastOwner refuses to leave the site without an owner: nobody could
// then manage administrators or settings from the browser.
var ErrLastOwner = access.Conflict("this is the only owner: make another administrator an owner first")

// SetAdminRole changes what an administrator may do; never the last
// owner's role.
func (s *Store) SetAdminRole(ctx context.Context, actor string, id int64, role access.Role) error {
	if _, err := access.ParseRole(string(role)); err != nil {
		return err
	}
	return s.tx(ctx, "change admin role", func(tx *sql.Tx) error {
		var email string
		var was access.Role
		if err := tx.QueryRowContext(ctx, `SELECT email, role FROM admins WHERE id = ?`, id).Scan(&email, &was); err != nil {
			return notFound("change admin role", err)
		}
		if was == role {
			return nil
		}
		if err := keepAnOwner(ctx, tx, id, was, role); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE admins SET role = ? WHERE id = ?`, role, id); err != nil {
			return fmt.Errorf("store: change admin role: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "admin.role_changed", Actor: actor, Detail: email + ": " + string(was) + " → " + string(role)})
	})
}

// keepAnOwner refuses a change that takes admin id, whose role is was, from
// owner to becomes ("" for removal) when no other owner remains.
func keepAnOwner(ctx context.Context, tx querier, id int64, was, becomes access.Role) error {
	if was != access.RoleOwner || becomes == access.RoleOwner {
		return nil
	}
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admins WHERE role = 'owner' AND id != ?`, id).Scan(&others); err != nil {
		return fmt.Errorf("store: count owners: %w", err)
	}
	if others == 0 {
		return ErrLastOwner
	}
	return nil
}
