package store

import (
	"context"
	"fmt"
	"strings"

	"postern/access"
)

// QueryForTest runs a read query and returns each row's values joined by
// "|", for tests that compare two databases.
func QueryForTest(ctx context.Context, s *Store, q string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out, rows.Err()
}

// AccessPointFromSQL reads an access point from its table, never from the
// policy, so tests can hold the policy's copy to it.
func AccessPointFromSQL(ctx context.Context, s *Store, id int64) (access.AccessPoint, error) {
	a, err := scanAccessPoint(s.read.QueryRowContext(ctx, `SELECT `+accessPointColumns+` FROM access_points WHERE id = ?`, id))
	return a, notFound("read access point", err)
}
