package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A remote reader's copy of the policy is these same tables, filled from
// the hub's records. Each batch is applied in one transaction with the
// stream sequence it reaches, so a batch applied twice, or replayed after
// a crash, changes nothing.

// PolicySeq returns the last policy stream sequence applied here and the
// stream's epoch it belongs to ("" before the first).
func (s *Store) PolicySeq(ctx context.Context) (seq uint64, epoch string, err error) {
	v, err := s.FleetState(ctx, "policy_seq")
	if err != nil {
		return 0, "", err
	}
	if v != "" {
		if seq, err = strconv.ParseUint(v, 10, 64); err != nil {
			return 0, "", fmt.Errorf("store: policy sequence %q: %w", v, err)
		}
	}
	epoch, err = s.FleetState(ctx, "policy_epoch")
	return seq, epoch, err
}

// FleetState returns one of this node's fleet values, "" when unset.
func (s *Store) FleetState(ctx context.Context, key string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM fleet_state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: read fleet state %s: %w", key, err)
	}
	return v, nil
}

// SetFleetState stores one of this node's fleet values.
func (s *Store) SetFleetState(ctx context.Context, key, value string) error {
	return setFleetState(ctx, s.db, key, value)
}

func setFleetState(ctx context.Context, q querier, key, value string) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO fleet_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("store: set fleet state %s: %w", key, err)
	}
	return nil
}

// ApplyPolicy applies records up to stream sequence seq of the policy
// stream of the given epoch, in one transaction with the sequence. A seq
// at or below the one applied is skipped: a replay changes nothing. With
// reset, every policy table is emptied first: the hub's stream is a new
// one, and what it does not hold is gone.
func (s *Store) ApplyPolicy(ctx context.Context, epoch string, seq uint64, recs []PolicyRecord, reset bool) (applied bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("store: apply policy: %w", err)
	}
	defer conn.Close()
	// The hub keeps only each entity's latest record, so a replay may bring
	// a permission before the user it names. The hub's own foreign keys
	// already hold; here they would only refuse a correct order.
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return false, fmt.Errorf("store: apply policy: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: apply policy: begin: %w", err)
	}
	defer tx.Rollback()
	if !reset {
		var have sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT value FROM fleet_state WHERE key = 'policy_seq'`).Scan(&have); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("store: apply policy: %w", err)
		}
		if n, _ := strconv.ParseUint(have.String, 10, 64); have.Valid && n >= seq {
			return false, nil
		}
	} else {
		for _, e := range policyEntities {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+e.table); err != nil {
				return false, fmt.Errorf("store: apply policy: reset %s: %w", e.table, err)
			}
		}
	}
	cols := map[string][]string{}
	for _, r := range recs {
		if err := applyRecord(ctx, tx, r, cols); err != nil {
			return false, err
		}
	}
	if err := setFleetState(ctx, tx, "policy_seq", strconv.FormatUint(seq, 10)); err != nil {
		return false, err
	}
	if err := setFleetState(ctx, tx, "policy_epoch", epoch); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: apply policy: commit: %w", err)
	}
	// A remote reader's readers follow its copy's access points by the
	// change feed, as the appliance's follow its own.
	s.publish(ctx)
	return true, nil
}

// applyRecord writes one record: the row as the hub has it, or its
// removal. Column names come from the local table, never from the record,
// so a record cannot name what the schema does not have; columns this
// version does not know are left out, and so are records of entities and
// settings it does not know: a reader older than its hub goes on applying
// all it can (revocations above all) rather than stop at the first record
// it cannot read.
func applyRecord(ctx context.Context, tx *sql.Tx, r PolicyRecord, cols map[string][]string) error {
	e, args, err := entityFor(r.Entity, r.Key)
	if errors.Is(err, errNotPolicy) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.Deleted {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+e.table+` WHERE `+e.where, args...); err != nil {
			return fmt.Errorf("store: apply policy: delete %s %s: %w", r.Entity, r.Key, err)
		}
		return nil
	}
	known, ok := cols[e.table]
	if !ok {
		if known, err = tableColumns(ctx, tx, e.table); err != nil {
			return err
		}
		cols[e.table] = known
	}
	var names, marks, sets []string
	var vals []any
	byCol := map[string]any{}
	for _, v := range r.Row {
		if !slices.Contains(known, v.Col) || slices.Contains(names, `"`+v.Col+`"`) {
			continue
		}
		names = append(names, `"`+v.Col+`"`)
		marks = append(marks, "?")
		sets = append(sets, `"`+v.Col+`" = excluded."`+v.Col+`"`)
		vals = append(vals, v.value())
		byCol[v.Col] = v.value()
	}
	if len(names) == 0 {
		return fmt.Errorf("store: apply policy: %s %s has no known column", r.Entity, r.Key)
	}
	// A name another row still holds here is stale: that row's own newer
	// record follows in the stream, since the hub's rows never clash.
	for _, u := range e.unique {
		if v, ok := byCol[u]; ok {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+e.table+` WHERE "`+u+`" = ? AND NOT (`+e.where+`)`, append([]any{v}, args...)...); err != nil {
				return fmt.Errorf("store: apply policy: %s %s: %w", r.Entity, r.Key, err)
			}
		}
	}
	q := `INSERT INTO ` + e.table + ` (` + strings.Join(names, ", ") + `) VALUES (` + strings.Join(marks, ", ") + `) ON CONFLICT (` + e.conflict + `) DO UPDATE SET ` + strings.Join(sets, ", ")
	if _, err := tx.ExecContext(ctx, q, vals...); err != nil {
		return fmt.Errorf("store: apply policy: %s %s: %w", r.Entity, r.Key, err)
	}
	return nil
}

// tableColumns lists a table's stored columns.
func tableColumns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	return queryAll(ctx, tx, "apply policy: columns of "+table, func(sc scanner) (string, error) {
		var n string
		err := sc.Scan(&n)
		return n, err
	}, `SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0`, table)
}
