package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"postern/access"
)

// Policy returns the in-memory copy of what decisions read, loading it on
// first use. The change feed keeps it in step with every committed write
// before that write returns, so a revocation is in it by the time the
// revoke call is answered.
func (s *Store) Policy(ctx context.Context) (*access.Policy, error) {
	if p := s.policy.Load(); p != nil {
		return p, nil
	}
	s.loadMu.Lock()
	p := s.policy.Load()
	s.loadMu.Unlock()
	if p != nil {
		return p, nil // another caller loaded it meanwhile
	}
	return s.LoadPolicy(ctx)
}

// LoadPolicy reads the policy afresh from the database and makes it the
// one decisions read. Serve calls it at start-up, so the first presentation
// does not pay for the load.
//
// It does not wait for the change feed, whose subscribers may be waiting
// for a presentation that is loading the policy. Instead it reads again if
// any change was published while it read: a change committed before its
// read began is in what it read, and one published after it installed the
// policy is applied to it.
func (s *Store) LoadPolicy(ctx context.Context) (*access.Policy, error) {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	for {
		gen := s.published.Load()
		p, err := s.readPolicy(ctx)
		if err != nil {
			return nil, err
		}
		s.policy.Store(p)
		if s.published.Load() == gen {
			return p, nil
		}
	}
}

// readPolicy reads every table a decision depends on, in one read
// transaction so the copy is of one moment.
func (s *Store) readPolicy(ctx context.Context) (*access.Policy, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: load policy: %w", err)
	}
	defer tx.Rollback()
	var u access.PolicyUpdate
	u.ReplaceMemberships = true
	if u.AccessPoints, err = queryAll(ctx, tx, "load policy: access points", scanAccessPoint, `SELECT `+accessPointColumns+` FROM access_points`); err != nil {
		return nil, err
	}
	if u.TimeProfiles, err = queryAll(ctx, tx, "load policy: time profiles", scanTimeProfile, `SELECT id, name, windows, holidays FROM time_profiles`); err != nil {
		return nil, err
	}
	if u.Users, err = queryAll(ctx, tx, "load policy: users", scanPolicyUser, policyUserSelect); err != nil {
		return nil, err
	}
	if u.Credentials, err = queryAll(ctx, tx, "load policy: credentials", scanPolicyCredential, policyCredentialSelect); err != nil {
		return nil, err
	}
	if u.ReplacedDevices, err = replacedDevices(ctx, tx, ``); err != nil {
		return nil, err
	}
	if u.Memberships, err = memberships(ctx, tx, `SELECT user_id, group_id FROM group_members`); err != nil {
		return nil, err
	}
	if u.Permissions, err = queryAll(ctx, tx, "load policy: permissions", scanPolicyPermission, policyPermissionSelect); err != nil {
		return nil, err
	}
	if u.Site, err = siteMode(ctx, tx); err != nil {
		return nil, err
	}
	p := access.NewPolicy(siteLocation(ctx, tx))
	p.Apply(u)
	return p, nil
}

// applyToPolicy reads again the rows c names and puts them in the policy.
// If that fails the policy is dropped, to be loaded whole on next use: a
// decision must never read a copy that missed a revocation.
func (s *Store) applyToPolicy(ctx context.Context, c Change) {
	p := s.policy.Load()
	if p == nil {
		return
	}
	u, err := s.policyUpdate(ctx, c)
	if err != nil {
		s.policy.Store(nil)
		return
	}
	p.Apply(u)
}

// policyUpdate reads the rows c names; a row that is gone is dropped.
func (s *Store) policyUpdate(ctx context.Context, c Change) (access.PolicyUpdate, error) {
	var u access.PolicyUpdate
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return u, fmt.Errorf("store: update policy: %w", err)
	}
	defer tx.Rollback()
	if len(c.AccessPoints) > 0 {
		if u.AccessPoints, err = queryAll(ctx, tx, "update policy: access points", scanAccessPoint, `SELECT `+accessPointColumns+` FROM access_points WHERE id IN `+inJSON, jsonIDs(c.AccessPoints)); err != nil {
			return u, err
		}
		u.DropAccessPoints = gone(c.AccessPoints, u.AccessPoints, func(a access.AccessPoint) int64 { return a.ID })
	}
	if len(c.TimeProfiles) > 0 {
		if u.TimeProfiles, err = queryAll(ctx, tx, "update policy: time profiles", scanTimeProfile, `SELECT id, name, windows, holidays FROM time_profiles WHERE id IN `+inJSON, jsonIDs(c.TimeProfiles)); err != nil {
			return u, err
		}
		u.DropTimeProfiles = gone(c.TimeProfiles, u.TimeProfiles, func(p access.TimeProfile) int64 { return p.ID })
	}
	if len(c.Users) > 0 {
		if u.Users, err = queryAll(ctx, tx, "update policy: users", scanPolicyUser, policyUserSelect+` WHERE id IN `+inJSON, jsonIDs(c.Users)); err != nil {
			return u, err
		}
		u.DropUsers = gone(c.Users, u.Users, func(u access.User) int64 { return u.ID })
	}
	if len(c.Credentials) > 0 {
		hexIDs := make([]string, len(c.Credentials))
		for i, id := range c.Credentials {
			hexIDs[i] = hex.EncodeToString(id[:])
		}
		ids, _ := json.Marshal(hexIDs)
		if u.Credentials, err = queryAll(ctx, tx, "update policy: credentials", scanPolicyCredential, policyCredentialSelect+` WHERE id IN (SELECT unhex(value) FROM json_each(?))`, string(ids)); err != nil {
			return u, err
		}
		have := map[access.CredentialID]bool{}
		for _, cr := range u.Credentials {
			have[cr.ID] = true
		}
		for _, id := range c.Credentials {
			if !have[id] {
				u.DropCredentials = append(u.DropCredentials, id)
			}
		}
		if u.ReplacedDevices, err = replacedDevices(ctx, tx, ` WHERE credential_id IN (SELECT unhex(value) FROM json_each(?))`, string(ids)); err != nil {
			return u, err
		}
		for _, id := range c.Credentials {
			if _, ok := u.ReplacedDevices[id]; !ok {
				u.ReplacedDevices[id] = nil // none now
			}
		}
	}
	if len(c.Members) > 0 {
		if u.Memberships, err = memberships(ctx, tx, `SELECT user_id, group_id FROM group_members WHERE user_id IN `+inJSON, jsonIDs(c.Members)); err != nil {
			return u, err
		}
		for _, id := range c.Members {
			if _, ok := u.Memberships[id]; !ok {
				u.Memberships[id] = nil // in no group now
			}
		}
	}
	if len(c.Permissions) > 0 {
		if u.Permissions, err = queryAll(ctx, tx, "update policy: permissions", scanPolicyPermission, policyPermissionSelect+` WHERE id IN `+inJSON, jsonIDs(c.Permissions)); err != nil {
			return u, err
		}
		u.DropPermissions = gone(c.Permissions, u.Permissions, func(p access.Permission) int64 { return p.ID })
	}
	if c.Settings {
		u.Location = siteLocation(ctx, tx)
	}
	if c.Emergency {
		if u.Site, err = siteMode(ctx, tx); err != nil {
			return u, err
		}
	}
	return u, nil
}

// siteMode reads the lockdown or evacuation in force, for the policy.
func siteMode(ctx context.Context, q querier) (*access.SiteMode, error) {
	e, err := currentEmergency(ctx, q)
	if err != nil {
		return nil, err
	}
	return &e.Mode, nil
}

// inJSON is an IN list bound as one JSON array, so a change naming many
// rows is still one query.
const inJSON = `(SELECT value FROM json_each(?))`

func jsonIDs(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// gone lists the ids asked for that were not found.
func gone[T any](asked []int64, found []T, id func(T) int64) []int64 {
	have := make(map[int64]bool, len(found))
	for _, f := range found {
		have[id(f)] = true
	}
	var out []int64
	for _, a := range asked {
		if !have[a] {
			out = append(out, a)
		}
	}
	return out
}

// policyCredentialSelect reads a credential as decisions see it: the
// stored status, since an invitation that ran out and one still waiting
// are both "not active" at a door.
const policyCredentialSelect = `SELECT id, user_id, kind, status, tap_key, uv_key, protocol FROM credentials`

func scanPolicyCredential(sc scanner) (access.Credential, error) {
	var c access.Credential
	var id []byte
	err := sc.Scan(&id, &c.UserID, &c.Kind, &c.Status, &c.TapKey, &c.UVKey, &c.Protocol)
	copy(c.ID[:], id)
	return c, err
}

// policyUserSelect reads a user as decisions and their events see them.
const policyUserSelect = `SELECT id, first_name, last_name, enabled, valid_from, valid_until, lockdown_exempt FROM users`

func scanPolicyUser(sc scanner) (access.User, error) {
	var u access.User
	var from, until sql.NullInt64
	err := sc.Scan(&u.ID, &u.FirstName, &u.LastName, &u.Enabled, &from, &until, &u.LockdownExempt)
	u.ValidFrom, u.ValidUntil = fromMS(from), fromMS(until)
	return u, err
}

const policyPermissionSelect = `SELECT id, ifnull(user_id, 0), ifnull(group_id, 0), access_point_id, ifnull(time_profile_id, 0) FROM permissions`

func scanPolicyPermission(sc scanner) (access.Permission, error) {
	var p access.Permission
	err := sc.Scan(&p.ID, &p.UserID, &p.GroupID, &p.AccessPointID, &p.TimeProfileID)
	return p, err
}

// replacedDevices reads the replaced phones' keys, of the credentials
// where names (all when empty), newest first.
func replacedDevices(ctx context.Context, q querier, where string, args ...any) (map[access.CredentialID][]access.DeviceKeys, error) {
	rows, err := q.QueryContext(ctx, `SELECT credential_id, tap_key, uv_key FROM replaced_devices`+where+` ORDER BY replaced_at DESC, rowid DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read replaced devices: %w", err)
	}
	defer rows.Close()
	out := map[access.CredentialID][]access.DeviceKeys{}
	for rows.Next() {
		var id []byte
		var k access.DeviceKeys
		if err := rows.Scan(&id, &k.Tap, &k.UV); err != nil {
			return nil, fmt.Errorf("store: read replaced devices: %w", err)
		}
		cred := access.CredentialID(id)
		out[cred] = append(out[cred], k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read replaced devices: %w", err)
	}
	return out, nil
}

// memberships reads (user_id, group_id) rows into each user's groups.
func memberships(ctx context.Context, q querier, query string, args ...any) (map[int64][]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read group memberships: %w", err)
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var user, group int64
		if err := rows.Scan(&user, &group); err != nil {
			return nil, fmt.Errorf("store: read group memberships: %w", err)
		}
		out[user] = append(out[user], group)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read group memberships: %w", err)
	}
	return out, nil
}

// siteLocation is the site's time zone setting, or time.Local when it is
// unset or not one this machine knows.
func siteLocation(ctx context.Context, q querier) *time.Location {
	var name string
	if err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'time_zone'`).Scan(&name); err != nil || name == "" {
		return time.Local
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.Local
	}
	return loc
}
