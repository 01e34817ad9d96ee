package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"postern/access"
)

// ImportInvite makes one imported user's invitation: a fresh registration
// code, when it expires, and how to write the email.
type ImportInvite func(u access.User) (code string, expires time.Time, compose func(access.Credential, access.User) (Mail, error))

// RunImportBatch runs up to n lines of a running import that have not run
// yet. Each line's user change, its groups, its invitation and its result
// are written in one transaction, so a run cut off anywhere carries on
// where it stopped. Invitations are spread out in the outbox, one every
// inviteEvery from the start of the run, so a large import does not
// flood the mail server. It reports whether the import is done.
func (s *Store) RunImportBatch(ctx context.Context, actor, id string, n int, invite ImportInvite, inviteEvery time.Duration) (bool, error) {
	done := false
	err := s.tx(ctx, "run import", func(tx *sql.Tx) error {
		var status string
		var wantInvite bool
		var started sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT status, invite, started_at FROM import_jobs WHERE id = ?`, id).Scan(&status, &wantInvite, &started); err != nil {
			return notFound("run import", err)
		}
		if status != "running" {
			done = status == "done"
			return nil
		}
		rows, err := queryAll(ctx, tx, "run import", scanPendingRow, `SELECT line, first_name, last_name, email, groups, valid_from, valid_until, plan, reason
			FROM import_rows WHERE job_id = ? AND result = '' ORDER BY line LIMIT ?`, id, n)
		if err != nil {
			return err
		}
		var invited int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM import_rows WHERE job_id = ? AND invited = 1`, id).Scan(&invited); err != nil {
			return fmt.Errorf("store: run import: %w", err)
		}
		for _, r := range rows {
			if err := s.runImportRow(ctx, tx, actor, id, &r); err != nil {
				return err
			}
			sent := false
			if wantInvite && r.UserID != 0 && r.Email != "" {
				notBefore := time.UnixMilli(started.Int64).Add(time.Duration(invited) * inviteEvery)
				if sent, err = s.inviteImported(ctx, tx, actor, r, invite, notBefore); err != nil {
					return err
				}
				if sent {
					invited++
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE import_rows SET result = ?, reason = ?, user_id = ?, invited = ? WHERE job_id = ? AND line = ?`,
				r.Result, r.Reason, nullID(r.UserID), sent, id, r.Line); err != nil {
				return fmt.Errorf("store: run import line %d: %w", r.Line, err)
			}
		}
		if len(rows) == n {
			return nil
		}
		done = true
		if _, err := tx.ExecContext(ctx, `UPDATE import_jobs SET status = 'done', finished_at = ? WHERE id = ?`, s.now().UnixMilli(), id); err != nil {
			return fmt.Errorf("store: finish import: %w", err)
		}
		var created, updated, refused int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE result = 'created'), count(*) FILTER (WHERE result = 'updated'),
			count(*) FILTER (WHERE result = 'refused') FROM import_rows WHERE job_id = ?`, id).Scan(&created, &updated, &refused); err != nil {
			return fmt.Errorf("store: finish import: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "user.imported", Actor: actor,
			Detail: fmt.Sprintf("import %s: %d created, %d updated, %d refused, %d invited", id, created, updated, refused, invited)})
	})
	return done, err
}

func scanPendingRow(sc scanner) (ImportRow, error) {
	var r ImportRow
	var groups string
	var from, until sql.NullInt64
	err := sc.Scan(&r.Line, &r.FirstName, &r.LastName, &r.Email, &groups, &from, &until, &r.Plan, &r.Reason)
	r.ValidFrom, r.ValidUntil = fromMS(from), fromMS(until)
	r.Groups = splitGroups(groups)
	return r, err
}

// runImportRow creates or updates the line's user and adds them to its
// groups, setting r.Result and r.UserID. The match is made again here,
// not taken from the preview: users may have changed since.
func (s *Store) runImportRow(ctx context.Context, tx *sql.Tx, actor, job string, r *ImportRow) error {
	if r.Plan == "refuse" {
		r.Result = "refused"
		return nil
	}
	u := r.user()
	u.Normalize()
	id, err := matchUser(ctx, tx, u)
	if err != nil {
		return fmt.Errorf("store: run import line %d: %w", r.Line, err)
	}
	now := s.now()
	if id != 0 {
		old, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		// An import sets what its columns say; whether the user is enabled
		// or exempt from a lockdown stays as an admin set it.
		u.ID, u.Enabled, u.LockdownExempt = id, old.Enabled, old.LockdownExempt
	}
	if err := u.Validate(); err != nil {
		r.Result, r.Reason = "refused", err.Error()
		return nil
	}
	if id != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET first_name = ?, last_name = ?, email = ?, valid_from = ?, valid_until = ?, updated_at = ?,
			sort_name = ?, sort_email = ? WHERE id = ?`,
			u.FirstName, u.LastName, u.Email, ms(u.ValidFrom), ms(u.ValidUntil), now.UnixMilli(), nameSortKey(u.FirstName, u.LastName), emailSortKey(u.Email), id); err != nil {
			return fmt.Errorf("store: run import line %d: %w", r.Line, err)
		}
		r.Result = "updated"
	} else {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (first_name, last_name, email, enabled, valid_from, valid_until, created_at, updated_at, sort_name, sort_email)
			VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`,
			u.FirstName, u.LastName, u.Email, ms(u.ValidFrom), ms(u.ValidUntil), now.UnixMilli(), now.UnixMilli(), nameSortKey(u.FirstName, u.LastName), emailSortKey(u.Email))
		if err != nil {
			return fmt.Errorf("store: run import line %d: %w", r.Line, err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: run import line %d: %w", r.Line, err)
		}
		r.Result = "created"
	}
	r.UserID = id
	for _, name := range r.Groups {
		gid, err := s.groupNamed(ctx, tx, actor, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)`, gid, id); err != nil {
			return fmt.Errorf("store: run import line %d: add to %s: %w", r.Line, name, err)
		}
	}
	return s.insertEvent(ctx, tx, &access.Event{Kind: "user." + r.Result, Actor: actor, UserID: id, Detail: u.Name() + " (import " + job + ")"})
}

// groupNamed returns the id of the group with name, creating it when
// there is none.
func (s *Store) groupNamed(ctx context.Context, tx *sql.Tx, actor, name string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM groups WHERE name = ?`, name).Scan(&id)
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO groups (name) VALUES (?)`, name)
	if err != nil {
		return 0, fmt.Errorf("store: create group %s: %w", name, err)
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, err
	}
	return id, s.insertEvent(ctx, tx, &access.Event{Kind: "group.created", Actor: actor, Detail: name})
}

// inviteImported assigns an imported user a Smart credential unless they
// have one already (invited or active): a reimport does not invite twice.
func (s *Store) inviteImported(ctx context.Context, tx *sql.Tx, actor string, r ImportRow, invite ImportInvite, notBefore time.Time) (bool, error) {
	var has bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM credentials WHERE user_id = ? AND status IN ('invited', 'active'))`, r.UserID).Scan(&has); err != nil {
		return false, fmt.Errorf("store: invite imported user: %w", err)
	}
	if has {
		return false, nil
	}
	u, err := userByID(ctx, tx, r.UserID)
	if err != nil {
		return false, err
	}
	code, expires, compose := invite(u)
	_, err = s.assignCredential(ctx, tx, actor, r.UserID, code, expires, compose, notBefore, nil)
	return err == nil, err
}
