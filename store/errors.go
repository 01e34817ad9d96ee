package store

import (
	"database/sql"
	"errors"

	"postern/access"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

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

// constraintErr maps SQLite's unique and foreign key failures to domain
// errors.
func constraintErr(err error, what string) error {
	switch {
	case duplicate(err):
		return access.Conflict("%s already exists", what)
	case constraint(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return access.Conflict("%s refers to something that does not exist or is still in use", what)
	}
	return err
}

// affected turns "no row changed" into access.ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return access.ErrNotFound
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return access.ErrNotFound
	}
	return err
}
