package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"postern/access"
)

const permissionSelect = `SELECT p.id, ifnull(p.user_id, 0), ifnull(p.group_id, 0), p.access_point_id, ifnull(p.time_profile_id, 0),
	ifnull(trim(u.first_name || ' ' || u.last_name), ''), ifnull(g.name, ''), a.name, ifnull(t.name, '')
	FROM permissions p
	JOIN access_points a ON a.id = p.access_point_id
	LEFT JOIN users u ON u.id = p.user_id
	LEFT JOIN groups g ON g.id = p.group_id
	LEFT JOIN time_profiles t ON t.id = p.time_profile_id`

func scanPermission(sc scanner) (access.Permission, error) {
	var p access.Permission
	err := sc.Scan(&p.ID, &p.UserID, &p.GroupID, &p.AccessPointID, &p.TimeProfileID, &p.UserName, &p.GroupName, &p.AccessPointName, &p.TimeProfileName)
	return p, err
}

// CreatePermission stores a new permission.
func (s *Store) CreatePermission(ctx context.Context, actor string, p *access.Permission) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, "create permission", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO permissions (user_id, group_id, access_point_id, time_profile_id) VALUES (?, ?, ?, ?)`,
			nullID(p.UserID), nullID(p.GroupID), p.AccessPointID, nullID(p.TimeProfileID))
		if err != nil {
			return permissionClash(ctx, tx, "create permission", err, p)
		}
		if p.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create permission: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "permission.created", Actor: actor, UserID: p.UserID, AccessPointID: p.AccessPointID,
			Detail: describePermission(ctx, tx, p.ID)})
	})
}

// UpdatePermission changes what a permission covers.
func (s *Store) UpdatePermission(ctx context.Context, actor string, p *access.Permission) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, "update permission", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE permissions SET user_id = ?, group_id = ?, access_point_id = ?, time_profile_id = ? WHERE id = ?`,
			nullID(p.UserID), nullID(p.GroupID), p.AccessPointID, nullID(p.TimeProfileID), p.ID)
		if err != nil {
			return permissionClash(ctx, tx, "update permission", err, p)
		}
		if err := affected("update permission", res); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "permission.updated", Actor: actor, UserID: p.UserID, AccessPointID: p.AccessPointID,
			Detail: describePermission(ctx, tx, p.ID)})
	})
}

// DeletePermission removes a permission.
func (s *Store) DeletePermission(ctx context.Context, actor string, id int64) error {
	return s.tx(ctx, "delete permission", func(tx *sql.Tx) error {
		var userID, apID int64
		if err := tx.QueryRowContext(ctx, `SELECT ifnull(user_id, 0), access_point_id FROM permissions WHERE id = ?`, id).Scan(&userID, &apID); err != nil {
			return notFound("delete permission", err)
		}
		detail := describePermission(ctx, tx, id)
		if _, err := tx.ExecContext(ctx, `DELETE FROM permissions WHERE id = ?`, id); err != nil {
			return fmt.Errorf("store: delete permission: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "permission.deleted", Actor: actor, UserID: userID, AccessPointID: apID, Detail: detail})
	})
}

// PermissionByID returns one permission with the names it refers to.
func (s *Store) PermissionByID(ctx context.Context, id int64) (access.Permission, error) {
	p, err := scanPermission(s.read.QueryRowContext(ctx, permissionSelect+` WHERE p.id = ?`, id))
	return p, notFound("read permission", err)
}

// Permissions returns a page of permissions in the order they were made,
// optionally only those of one user (direct) or one access point.
func (s *Store) Permissions(ctx context.Context, o ListOptions, userID, accessPointID int64) (Page[access.Permission], error) {
	limit := o.limit()
	c, _ := decodeCursor(o.After)
	q := permissionSelect + ` WHERE p.id > ?`
	args := []any{c.ID}
	if userID != 0 {
		q += ` AND p.user_id = ?`
		args = append(args, userID)
	}
	if accessPointID != 0 {
		q += ` AND p.access_point_id = ?`
		args = append(args, accessPointID)
	}
	q += ` ORDER BY p.id LIMIT ?`
	args = append(args, limit+1)
	ps, err := queryAll(ctx, s.read, "list permissions", scanPermission, q, args...)
	if err != nil {
		return Page[access.Permission]{}, err
	}
	return paginate(ps, limit, func(p access.Permission) nameCursor { return nameCursor{ID: p.ID} }), nil
}

// Grants returns the permissions that reach a user at an access point,
// directly or through a group, each with its time profile. It is the
// reader's hot query: both branches walk an index.
func (s *Store) Grants(ctx context.Context, userID, accessPointID int64) ([]access.Grant, error) {
	return queryAll(ctx, s.read, "list grants", scanGrant, grantsQuery, userID, accessPointID, accessPointID, userID)
}

func scanGrant(sc scanner) (access.Grant, error) {
	var g access.Grant
	var tid sql.NullInt64
	var name, windows, holidays sql.NullString
	if err := sc.Scan(&g.PermissionID, &tid, &name, &windows, &holidays); err != nil {
		return g, err
	}
	if tid.Valid {
		p, err := scanTimeProfile(rowValues{tid.Int64, name.String, windows.String, holidays.String})
		if err != nil {
			return g, err
		}
		g.Profile = &p
	}
	return g, nil
}

const grantsQuery = `SELECT p.id, p.time_profile_id, t.name, t.windows, t.holidays
	FROM permissions p LEFT JOIN time_profiles t ON t.id = p.time_profile_id
	WHERE p.user_id = ? AND p.access_point_id = ?
	UNION ALL
	SELECT p.id, p.time_profile_id, t.name, t.windows, t.holidays
	FROM group_members m
	CROSS JOIN permissions p ON p.group_id = m.group_id AND p.access_point_id = ?
	LEFT JOIN time_profiles t ON t.id = p.time_profile_id
	WHERE m.user_id = ?`

// The CROSS JOIN above fixes the join order: start from the user's few
// memberships, not from every permission at a busy door.

// rowValues lets a scan function read values already in hand.
type rowValues []any

func (r rowValues) Scan(dest ...any) error {
	for i, d := range dest {
		switch d := d.(type) {
		case *int64:
			*d = r[i].(int64)
		case *string:
			*d = r[i].(string)
		}
	}
	return nil
}

// GroupPermissions returns the permissions given to a group.
func (s *Store) GroupPermissions(ctx context.Context, groupID int64) ([]access.Permission, error) {
	return queryAll(ctx, s.read, "list group's permissions", scanPermission, permissionSelect+` WHERE p.group_id = ? ORDER BY p.id`, groupID)
}

// permissionClash says which stored permission a new or changed one
// duplicates; any other error is constraintErr's.
func permissionClash(ctx context.Context, tx querier, op string, err error, p *access.Permission) error {
	if !duplicate(err) {
		return constraintErr(op, err, "that permission")
	}
	var id int64
	qerr := tx.QueryRowContext(ctx, `SELECT id FROM permissions WHERE user_id IS ? AND group_id IS ? AND access_point_id = ? AND ifnull(time_profile_id, 0) = ? AND id != ?`,
		nullID(p.UserID), nullID(p.GroupID), p.AccessPointID, p.TimeProfileID, p.ID).Scan(&id)
	if qerr != nil {
		return access.Conflict("that permission already exists")
	}
	return &access.ConflictError{Message: "the same permission already exists: " + describePermission(ctx, tx, id),
		With: access.Ref{Kind: "permission", ID: id}}
}

// timeProfilePermissionsQuery walks the permissions_time_profile index.
const timeProfilePermissionsQuery = permissionSelect + ` WHERE p.time_profile_id = ? ORDER BY p.id LIMIT ?`

// TimeProfilePermissions returns the permissions that use a time profile,
// at most MaxLimit: what must go before the profile can.
func (s *Store) TimeProfilePermissions(ctx context.Context, profileID int64) ([]access.Permission, error) {
	return queryAll(ctx, s.read, "list time profile's permissions", scanPermission, timeProfilePermissionsQuery, profileID, MaxLimit)
}

// describePermission names a permission for the audit trail: "Ann Lee at
// Front door, Office hours" or "group Staff at Front door, any time".
func describePermission(ctx context.Context, tx querier, id int64) string {
	p, err := scanPermission(tx.QueryRowContext(ctx, permissionSelect+` WHERE p.id = ?`, id))
	if err != nil {
		return "permission " + strconv.FormatInt(id, 10)
	}
	who := p.UserName
	if p.GroupID != 0 {
		who = "group " + p.GroupName
	}
	when := "any time"
	if p.TimeProfileName != "" {
		when = p.TimeProfileName
	}
	return who + " at " + p.AccessPointName + ", " + when
}
