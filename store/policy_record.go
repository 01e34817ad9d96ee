package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PolicyRecord is one entity of what a decision reads, as it is now: a
// row of one of the policy tables, or a tombstone when the row is gone.
// The hub publishes records; a remote reader applies them to the same
// tables in its own database, so the same code decides from them.
type PolicyRecord struct {
	Entity  string        `json:"e"`
	Key     string        `json:"k"`
	Deleted bool          `json:"d,omitempty"`
	Row     []PolicyValue `json:"r,omitempty"`
}

// PolicyValue is one column of a PolicyRecord's row, typed as SQLite
// stores it, so a STRICT table takes it back unchanged. Every field nil is
// NULL.
type PolicyValue struct {
	Col  string   `json:"c"`
	Int  *int64   `json:"i,omitempty"`
	Real *float64 `json:"f,omitempty"`
	Text *string  `json:"t,omitempty"`
	Blob *[]byte  `json:"b,omitempty"`
}

// PolicyChange is a queued change to publish: which entity changed, not
// how, since the publisher sends the entity as it is when it reads it.
type PolicyChange struct {
	ID     int64
	Entity string
	Key    string
}

// policyEntity is one kind of entity: its table and how its key finds its
// row.
type policyEntity struct {
	table    string
	where    string   // finds the row by the key's args
	conflict string   // the primary key, for the upsert
	unique   []string // other unique columns: a stale row holding the value is dropped first
	args     func(key string) ([]any, error)
	all      string // lists every key, for a full snapshot
}

func intKey(key string) ([]any, error) {
	n, err := strconv.ParseInt(key, 10, 64)
	return []any{n}, err
}

// policySettings are the settings a reader needs; the rest (SMTP and the
// like) stay on the hub. The settings triggers (migration 25) name the
// same keys.
var policySettings = []string{"time_zone", "offline_lease_days", SettingAcceptV1, SettingPublicURL}

// policySettingsList is policySettings as an SQL list of literals: the
// keys are constants of this file, never input.
var policySettingsList = "'" + strings.Join(policySettings, "', '") + "'"

func hexKey(key string) ([]any, error) {
	b, err := hex.DecodeString(key)
	return []any{b}, err
}

var policyEntities = map[string]policyEntity{
	"user":       {table: "users", where: "id = ?", conflict: "id", args: intKey, all: `SELECT CAST(id AS TEXT) FROM users`},
	"group":      {table: "groups", where: "id = ?", conflict: "id", unique: []string{"name"}, args: intKey, all: `SELECT CAST(id AS TEXT) FROM groups`},
	"permission": {table: "permissions", where: "id = ?", conflict: "id", args: intKey, all: `SELECT CAST(id AS TEXT) FROM permissions`},
	"time_profile": {table: "time_profiles", where: "id = ?", conflict: "id", unique: []string{"name"}, args: intKey,
		all: `SELECT CAST(id AS TEXT) FROM time_profiles`},
	"access_point": {table: "access_points", where: "id = ?", conflict: "id", unique: []string{"name", "reader"}, args: intKey,
		all: `SELECT CAST(id AS TEXT) FROM access_points`},
	"credential": {table: "credentials", where: "id = ?", conflict: "id", all: `SELECT hex(id) FROM credentials`, args: hexKey},
	"member": {table: "group_members", where: "group_id = ? AND user_id = ?", conflict: "group_id, user_id",
		all: `SELECT group_id || ':' || user_id FROM group_members`,
		args: func(key string) ([]any, error) {
			g, u, ok := strings.Cut(key, ":")
			if !ok {
				return nil, fmt.Errorf("membership key %q", key)
			}
			gi, err1 := strconv.ParseInt(g, 10, 64)
			ui, err2 := strconv.ParseInt(u, 10, 64)
			return []any{gi, ui}, errors.Join(err1, err2)
		}},
	"setting": {table: "settings", where: "key = ?", conflict: "key",
		all: `SELECT key FROM settings WHERE key IN (` + policySettingsList + `)`,
		args: func(key string) ([]any, error) {
			for _, k := range policySettings {
				if k == key {
					return []any{key}, nil
				}
			}
			return nil, fmt.Errorf("setting %q: %w", key, errNotPolicy)
		}},
	"site": {table: "site", where: "one = ?", conflict: "one", args: intKey, all: `SELECT '1' FROM site`},
	// A key rolled out, with its certificate of its successor: during the
	// overlap every reader shows it to keys that pinned the old key.
	"site_key": {table: "site_keys", where: "key_id = ?", conflict: "key_id", args: hexKey, all: `SELECT hex(key_id) FROM site_keys`},
	// A lockdown or evacuation: the site's state every door decides under.
	"emergency": {table: "emergencies", where: "id = ?", conflict: "id", args: intKey, all: `SELECT CAST(id AS TEXT) FROM emergencies`},
}

// errNotPolicy is what entityFor says of an entity or a setting this
// version does not take as part of the policy.
var errNotPolicy = errors.New("not part of the policy")

// entityFor returns the entity and its key's arguments, or an error for
// anything a publisher would not send.
func entityFor(entity, key string) (policyEntity, []any, error) {
	e, ok := policyEntities[entity]
	if !ok {
		return e, nil, fmt.Errorf("store: policy: entity %q: %w", entity, errNotPolicy)
	}
	args, err := e.args(key)
	if err != nil {
		return e, nil, fmt.Errorf("store: policy: %s key: %w", entity, err)
	}
	return e, args, nil
}

// PolicyOutbox returns up to limit queued changes, oldest first.
func (s *Store) PolicyOutbox(ctx context.Context, limit int) ([]PolicyChange, error) {
	return queryAll(ctx, s.read, "read policy outbox", func(sc scanner) (PolicyChange, error) {
		var c PolicyChange
		err := sc.Scan(&c.ID, &c.Entity, &c.Key)
		return c, err
	}, `SELECT id, entity, key FROM policy_outbox ORDER BY id LIMIT ?`, limit)
}

// DonePolicyOutbox forgets the queued changes up to id, once published.
func (s *Store) DonePolicyOutbox(ctx context.Context, upTo int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM policy_outbox WHERE id <= ?`, upTo); err != nil {
		return fmt.Errorf("store: clear policy outbox: %w", err)
	}
	return nil
}

// EnablePolicyOutbox makes every change to the policy queue a row from now
// on, for good: the hub calls it each time it starts, before it looks at
// its stream, so no change falls between its snapshot and its queue.
func (s *Store) EnablePolicyOutbox(ctx context.Context) error {
	return setFleetState(ctx, s.db, "policy_hub", "1")
}

// SeedPolicyOutbox queues every entity of the policy, replacing what was
// queued: the first publication to an empty policy stream.
func (s *Store) SeedPolicyOutbox(ctx context.Context) error {
	return s.tx(ctx, "seed policy outbox", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM policy_outbox`); err != nil {
			return fmt.Errorf("store: seed policy outbox: %w", err)
		}
		// The site first: a reader starts deciding once it has it.
		for _, name := range []string{"site", "site_key", "setting", "emergency", "time_profile", "access_point", "group", "user", "member", "credential", "permission"} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO policy_outbox (entity, key) SELECT ?, * FROM (`+policyEntities[name].all+`)`, name); err != nil {
				return fmt.Errorf("store: seed policy outbox: %s: %w", name, err)
			}
		}
		return nil
	})
}

// PolicyRecord reads one entity as it is now; a missing row is a
// tombstone.
func (s *Store) PolicyRecord(ctx context.Context, entity, key string) (PolicyRecord, error) {
	r := PolicyRecord{Entity: entity, Key: key}
	e, args, err := entityFor(entity, key)
	if err != nil {
		return r, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT * FROM `+e.table+` WHERE `+e.where, args...)
	if err != nil {
		return r, fmt.Errorf("store: read policy %s %s: %w", entity, key, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return r, fmt.Errorf("store: read policy %s %s: %w", entity, key, err)
	}
	if !rows.Next() {
		r.Deleted = true
		return r, rows.Err()
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return r, fmt.Errorf("store: read policy %s %s: %w", entity, key, err)
	}
	for i, c := range cols {
		v := PolicyValue{Col: c}
		switch x := vals[i].(type) {
		case int64:
			v.Int = &x
		case float64:
			v.Real = &x
		case string:
			v.Text = &x
		case []byte:
			b := append([]byte{}, x...)
			v.Blob = &b
		case nil:
		default:
			return r, fmt.Errorf("store: read policy %s %s: column %s has a %T", entity, key, c, x)
		}
		r.Row = append(r.Row, v)
	}
	return r, rows.Err()
}

func (v PolicyValue) value() any {
	switch {
	case v.Int != nil:
		return *v.Int
	case v.Real != nil:
		return *v.Real
	case v.Text != nil:
		return *v.Text
	case v.Blob != nil:
		return *v.Blob
	}
	return nil
}
