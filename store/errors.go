package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"postern/access"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The store's errors come in two kinds. A refusal (access.ErrNotFound, a
// *access.ConflictError, a *access.ValidationError, ErrShareLimit and the
// like) is returned as it is made: web maps it to a status and shows its
// text, and so does the command line. Any other failure is wrapped with
// %w as "store: <operation>: <cause>", so a log line says what failed and
// errors.Is and errors.As still see the cause.

// constraint returns SQLite's extended result code for a constraint
// failure (sqlite3.SQLITE_CONSTRAINT_UNIQUE and its kin), or 0 when err is
// not one. The code, not the message, says which constraint it was: the
// message is for people and may change between SQLite versions.
func constraint(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return se.Code()
	}
	return 0
}

// duplicate reports whether err is a unique or primary key failure: the row
// already exists.
func duplicate(err error) bool {
	c := constraint(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// constraintErr maps SQLite's unique and foreign key failures to conflicts
// about what, and names op in any other error.
func constraintErr(op string, err error, what string) error {
	switch {
	case err == nil:
		return nil
	case duplicate(err):
		return access.Conflict("%s already exists", what)
	case constraint(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return access.Conflict("%s refers to something that does not exist or is still in use", what)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// affected turns "no row changed" into access.ErrNotFound.
func affected(op string, res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if n == 0 {
		return access.ErrNotFound
	}
	return nil
}

// notFound turns "no row" into access.ErrNotFound, and names op in any
// other error.
func notFound(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return access.ErrNotFound
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// unique is a unique column a record may clash on: the input field that
// sets it, its column and the value being stored.
type unique struct {
	field  string
	column string
	value  string
}

// clashErr turns a unique failure on a named record (an access point, a
// group, a time profile) into a conflict that names the field and the
// stored record it clashes with, found by looking. Any other error is
// constraintErr's. kind is how people say the record ("access point"),
// table its table and self its id (0 for a new record).
func clashErr(ctx context.Context, tx querier, op string, err error, kind, table string, self int64, uniques ...unique) error {
	if !duplicate(err) {
		return constraintErr(op, err, "the "+kind)
	}
	for _, u := range uniques {
		other := access.Ref{Kind: kind}
		qerr := tx.QueryRowContext(ctx, `SELECT id, name FROM `+table+` WHERE `+u.column+` = ? AND id != ?`, u.value, self).Scan(&other.ID, &other.Name)
		if qerr != nil {
			continue
		}
		return &access.ConflictError{Field: u.field, With: other,
			Message: fmt.Sprintf("is already the %s of %s %s", u.field, kind, other.Name)}
	}
	return access.Conflict("another %s has the same %s", kind, uniques[0].field)
}
