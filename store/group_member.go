package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"postern/access"
)

// GroupMembers returns up to limit members of a group sorted by name.
func (s *Store) GroupMembers(ctx context.Context, groupID int64, limit int) ([]access.User, error) {
	return queryAll(ctx, s.read, "list group members", scanUser, `SELECT `+userColumns+` FROM users
		WHERE id IN (SELECT user_id FROM group_members WHERE group_id = ?)
		ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id LIMIT ?`, groupID, limit)
}

// AddGroupMembers adds users to a group and returns how many were not in
// it already. Users that do not exist are skipped.
func (s *Store) AddGroupMembers(ctx context.Context, actor string, groupID int64, userIDs []int64) (int, error) {
	return s.changeMembers(ctx, actor, groupID, userIDs, "add to group",
		`INSERT OR IGNORE INTO group_members (group_id, user_id) SELECT ?, id FROM users WHERE id = ?`, "added to")
}

// RemoveGroupMembers takes users out of a group and returns how many were
// in it.
func (s *Store) RemoveGroupMembers(ctx context.Context, actor string, groupID int64, userIDs []int64) (int, error) {
	return s.changeMembers(ctx, actor, groupID, userIDs, "remove from group",
		`DELETE FROM group_members WHERE group_id = ? AND user_id = ?`, "removed from")
}

// changeMembers runs q for each user in one transaction and logs one
// event for each user it changed.
func (s *Store) changeMembers(ctx context.Context, actor string, groupID int64, userIDs []int64, op, q, verb string) (int, error) {
	n := 0
	err := s.tx(ctx, op, func(tx *sql.Tx) error {
		var name string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM groups WHERE id = ?`, groupID).Scan(&name); err != nil {
			return notFound(op, err)
		}
		for _, u := range userIDs {
			res, err := tx.ExecContext(ctx, q, groupID, u)
			if err != nil {
				return fmt.Errorf("store: %s: %w", op, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			n++
			if err := s.insertEvent(ctx, tx, &access.Event{Kind: "user.groups_changed", Actor: actor, UserID: u, Detail: verb + " " + name}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// DisableUsers disables users and returns how many were enabled.
func (s *Store) DisableUsers(ctx context.Context, actor string, userIDs []int64) (int, error) {
	n := 0
	err := s.tx(ctx, "disable users", func(tx *sql.Tx) error {
		for _, id := range userIDs {
			res, err := tx.ExecContext(ctx, `UPDATE users SET enabled = 0, updated_at = ? WHERE id = ? AND enabled = 1`, s.now().UnixMilli(), id)
			if err != nil {
				return fmt.Errorf("store: disable users: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			n++
			if err := s.insertEvent(ctx, tx, &access.Event{Kind: "user.updated", Actor: actor, UserID: id, Detail: "disabled"}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// UsersByIDs returns the users with these ids that exist, sorted by name.
func (s *Store) UsersByIDs(ctx context.Context, ids []int64) ([]access.User, error) {
	if len(ids) == 0 {
		return []access.User{}, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return queryAll(ctx, s.read, "read users", scanUser, `SELECT `+userColumns+` FROM users WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)
		ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id`, args...)
}
