package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"

	"postern/access"
)

const userColumns = `id, first_name, last_name, email, enabled, valid_from, valid_until, created_at, updated_at, lockdown_exempt, last_used_at, allowed_offline`

func scanUser(sc scanner) (access.User, error) {
	var u access.User
	var from, until, created, updated sql.NullInt64
	var used int64
	err := sc.Scan(&u.ID, &u.FirstName, &u.LastName, &u.Email, &u.Enabled, &from, &until, &created, &updated, &u.LockdownExempt, &used, &u.AllowedOffline)
	u.ValidFrom, u.ValidUntil, u.CreatedAt, u.UpdatedAt = fromMS(from), fromMS(until), fromMS(created), fromMS(updated)
	if used != 0 {
		u.LastUsedAt = time.UnixMilli(used)
	}
	return u, err
}

// userByID reads one user with q, inside a transaction or outside one.
func userByID(ctx context.Context, q querier, id int64) (access.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, notFound("read user", err)
}

// CreateUser stores a new user and logs who created it.
func (s *Store) CreateUser(ctx context.Context, actor string, u *access.User) error {
	return s.CreateUserInGroups(ctx, actor, u, nil)
}

// CreateUserInGroups stores a new user as a member of groups, in one
// transaction: a refused group leaves no user behind.
func (s *Store) CreateUserInGroups(ctx context.Context, actor string, u *access.User, groupIDs []int64) error {
	u.Normalize()
	if err := u.Validate(); err != nil {
		return err
	}
	now := s.now()
	u.CreatedAt, u.UpdatedAt = now, now
	return s.tx(ctx, "create user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (first_name, last_name, email, enabled, valid_from, valid_until, created_at, updated_at, lockdown_exempt, sort_name, sort_email, allowed_offline)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.FirstName, u.LastName, u.Email, u.Enabled, ms(u.ValidFrom), ms(u.ValidUntil), now.UnixMilli(), now.UnixMilli(), u.LockdownExempt,
			nameSortKey(u.FirstName, u.LastName), emailSortKey(u.Email), u.AllowedOffline)
		if err != nil {
			return fmt.Errorf("store: create user: %w", err)
		}
		if u.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create user: %w", err)
		}
		if err := s.insertEvent(ctx, tx, &access.Event{Kind: "user.created", Actor: actor, UserID: u.ID, Detail: u.Name()}); err != nil {
			return err
		}
		if len(groupIDs) == 0 {
			return nil
		}
		return s.setUserGroups(ctx, tx, actor, u.ID, groupIDs)
	})
}

// UpdateUser saves changes to a user.
func (s *Store) UpdateUser(ctx context.Context, actor string, u *access.User) error {
	u.Normalize()
	if err := u.Validate(); err != nil {
		return err
	}
	u.UpdatedAt = s.now()
	return s.tx(ctx, "update user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET first_name = ?, last_name = ?, email = ?, enabled = ?, valid_from = ?, valid_until = ?, updated_at = ?, lockdown_exempt = ?,
			sort_name = ?, sort_email = ?, allowed_offline = ? WHERE id = ?`,
			u.FirstName, u.LastName, u.Email, u.Enabled, ms(u.ValidFrom), ms(u.ValidUntil), u.UpdatedAt.UnixMilli(), u.LockdownExempt,
			nameSortKey(u.FirstName, u.LastName), emailSortKey(u.Email), u.AllowedOffline, u.ID)
		if err != nil {
			return fmt.Errorf("store: update user: %w", err)
		}
		if err := affected("update user", res); err != nil {
			return err
		}
		detail := u.Name()
		if !u.Enabled {
			detail += " (disabled)"
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "user.updated", Actor: actor, UserID: u.ID, Detail: detail})
	})
}

// DeleteUser removes a user with their permissions and group memberships.
// Their events stay: the log is append-only.
func (s *Store) DeleteUser(ctx context.Context, actor string, id int64) error {
	return s.tx(ctx, "delete user", func(tx *sql.Tx) error {
		u, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		// Their credentials and codes go with them (ON DELETE CASCADE); an
		// invitation still waiting would email a code that no longer works.
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'cancelled', message = '' WHERE kind = 'invitation' AND status IN ('queued', 'failed')
			AND credential_id IN (SELECT id FROM credentials WHERE user_id = ?)`, id); err != nil {
			return fmt.Errorf("store: delete user: cancel invitations: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id); err != nil {
			return fmt.Errorf("store: delete user: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "user.deleted", Actor: actor, UserID: id, Detail: u.Name()})
	})
}

// UserByID returns one user.
func (s *Store) UserByID(ctx context.Context, id int64) (access.User, error) {
	return userByID(ctx, s.read, id)
}

// userSort is how Users orders by one of its Sort… names: the column, and
// the keyset position of a row in that order.
type userSort struct {
	column string
	index  string // the index that walks it
	cursor func(access.User) nameCursor
	key    func(nameCursor) any // the cursor's value to compare the column with
}

var userSorts = map[string]userSort{
	SortName: {"sort_name", "users_sort_name",
		func(u access.User) nameCursor { return nameCursor{A: nameSortKey(u.FirstName, u.LastName), ID: u.ID} },
		func(c nameCursor) any { return c.A }},
	SortEmail: {"sort_email", "users_sort_email",
		func(u access.User) nameCursor { return nameCursor{A: emailSortKey(u.Email), ID: u.ID} },
		func(c nameCursor) any { return c.A }},
	SortLastUsed: {"last_used_at", "users_last_used",
		func(u access.User) nameCursor { return nameCursor{N: ms(u.LastUsedAt).Int64, ID: u.ID} },
		func(c nameCursor) any { return c.N }},
}

// Users returns a page of users in o's order (by name unless o says
// otherwise: last name, then first, as people read them), optionally
// narrowed by search words matched as prefixes of names and email. Each
// order walks its own index, either way, from either cursor.
func (s *Store) Users(ctx context.Context, o ListOptions) (Page[access.User], error) {
	limit := o.limit()
	q, args := usersQuery(o, limit)
	users, err := queryAll(ctx, s.read, "list users", scanUser, q, args...)
	if err != nil {
		return Page[access.User]{}, err
	}
	_, fromCursor := decodeCursor(o.After + o.Before)
	return pageBothWays(users, limit, o.Before != "", fromCursor, o.userSort().cursor), nil
}

func (o ListOptions) userSort() userSort {
	if sort, ok := userSorts[o.Sort]; ok {
		return sort
	}
	return userSorts[SortName]
}

// usersQuery is the query Users runs for o, and its arguments: limit+1
// rows, so a page knows whether another follows.
func usersQuery(o ListOptions, limit int) (string, []any) {
	sort := o.userSort()
	var where []string
	var args []any
	if q := ftsQuery(o.Query); q != "" {
		where = append(where, `id IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ?)`)
		args = append(args, q)
	}
	cursor, back := o.After, false
	if o.Before != "" {
		cursor, back = o.Before, true
	}
	// Forward in ascending order, or back in descending: ascending rows.
	asc := o.Desc == back
	if c, ok := decodeCursor(cursor); ok {
		op := "<"
		if asc {
			op = ">"
		}
		where = append(where, `(`+sort.column+`, id) `+op+` (?, ?)`)
		args = append(args, sort.key(c), c.ID)
	}
	q := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	dir := ""
	if !asc {
		dir = " DESC"
	}
	q += ` ORDER BY ` + sort.column + dir + `, id` + dir + ` LIMIT ?`
	return q, append(args, limit+1)
}

// CountUsers returns how many users there are.
// The loaded policy knows without a scan of the table.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	if p := s.policy.Load(); p != nil {
		return p.Users(), nil
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// ftsQuery turns what an admin typed into an FTS5 query of quoted prefix
// terms, so punctuation in a search can never be read as FTS syntax.
func ftsQuery(s string) string {
	var terms []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		terms = append(terms, fmt.Sprintf(`"%s"*`, w))
		if len(terms) == 8 {
			break
		}
	}
	return strings.Join(terms, " ")
}

// UserGroups returns the groups a user belongs to.
func (s *Store) UserGroups(ctx context.Context, userID int64) ([]access.Group, error) {
	return queryAll(ctx, s.read, "list user's groups", func(sc scanner) (access.Group, error) {
		var g access.Group
		err := sc.Scan(&g.ID, &g.Name, &g.Description)
		return g, err
	}, `SELECT g.id, g.name, g.description FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name`, userID)
}

// SetUserGroups replaces the groups a user belongs to.
func (s *Store) SetUserGroups(ctx context.Context, actor string, userID int64, groupIDs []int64) error {
	return s.tx(ctx, "set user's groups", func(tx *sql.Tx) error {
		if _, err := userByID(ctx, tx, userID); err != nil {
			return err
		}
		return s.setUserGroups(ctx, tx, actor, userID, groupIDs)
	})
}

// setUserGroups replaces a user's groups inside tx and logs it.
func (s *Store) setUserGroups(ctx context.Context, tx querier, actor string, userID int64, groupIDs []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("store: set user's groups: %w", err)
	}
	for _, g := range groupIDs {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)`, g, userID); err != nil {
			return constraintErr("set user's groups", err, "group membership")
		}
	}
	detail := fmt.Sprintf("now in %d groups", len(groupIDs))
	if len(groupIDs) == 1 {
		detail = "now in 1 group"
	}
	return s.insertEvent(ctx, tx, &access.Event{Kind: "user.groups_changed", Actor: actor, UserID: userID, Detail: detail})
}

// usersByEmailQuery finds the users with an address, ignoring case, by
// the users_email index.
const usersByEmailQuery = `SELECT ` + userColumns + ` FROM users WHERE email = ? COLLATE NOCASE ORDER BY id LIMIT ?`

// UsersByEmail returns the users with an email address, ignoring case, in
// the order they were added: several people may share one address.
func (s *Store) UsersByEmail(ctx context.Context, email string) ([]access.User, error) {
	if email == "" {
		return nil, nil
	}
	return queryAll(ctx, s.read, "list users by email", scanUser, usersByEmailQuery, email, MaxLimit)
}
