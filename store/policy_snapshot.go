package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"postern/access"
)

// PolicySnapshot is everything a decision reads, read in one transaction:
// what a remote reader holds in memory so that deciding makes no query.
type PolicySnapshot struct {
	Site         access.Site
	Mode         access.SiteMode
	TimeZone     string // the time_zone setting; "" when unset
	LeaseDays    string // the offline_lease_days setting; "" when unset
	PublicURL    string // the hub's public URL (SettingPublicURL); "" when unset
	AccessPoints []access.AccessPoint
	Credentials  []access.Credential
	Users        []access.User
	Grants       []PlacedGrant // nil when keep keeps no access point
}

// PlacedGrant is a grant with the user it reaches and where, directly or
// through a group.
type PlacedGrant struct {
	UserID        int64
	AccessPointID int64
	Grant         access.Grant
}

// PolicySnapshot reads the policy whole. Grants are those at the access
// points where keep is true (nil: all), since a reader needs only its own.
func (s *Store) PolicySnapshot(ctx context.Context, keep func(access.AccessPoint) bool) (PolicySnapshot, error) {
	var p PolicySnapshot
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return p, fmt.Errorf("store: policy snapshot: %w", err)
	}
	defer tx.Rollback()
	if p.Site, err = s.loadSite(ctx, tx); err != nil {
		return p, err
	}
	e, err := currentEmergency(ctx, tx)
	if err != nil {
		return p, err
	}
	p.Mode = e.Mode
	for key, v := range map[string]*string{"time_zone": &p.TimeZone, "offline_lease_days": &p.LeaseDays, SettingPublicURL: &p.PublicURL} {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM settings WHERE key = ?), '')`, key).Scan(v); err != nil {
			return p, fmt.Errorf("store: policy snapshot: setting %s: %w", key, err)
		}
	}
	if p.AccessPoints, err = queryAll(ctx, tx, "policy snapshot: access points", scanAccessPoint, `SELECT `+accessPointColumns+` FROM access_points`); err != nil {
		return p, err
	}
	if p.Credentials, err = queryAll(ctx, tx, "policy snapshot: credentials", scanCredential, `SELECT `+credentialColumns+` FROM credentials c`, s.now().UnixMilli()); err != nil {
		return p, err
	}
	if p.Users, err = queryAll(ctx, tx, "policy snapshot: users", scanUser, `SELECT `+userColumns+` FROM users`); err != nil {
		return p, err
	}
	var ours []string
	for _, ap := range p.AccessPoints {
		if keep == nil || keep(ap) {
			ours = append(ours, strconv.FormatInt(ap.ID, 10))
		}
	}
	if len(ours) > 0 {
		// Ids, not input: they are written into the query as numbers.
		in := strings.Join(ours, ", ")
		q := fmt.Sprintf(allGrantsQuery, in, in)
		if p.Grants, err = queryAll(ctx, tx, "policy snapshot: grants", scanPlacedGrant, q); err != nil {
			return p, err
		}
	}
	return p, nil
}

// allGrantsQuery is grantsQuery for every user at the access points
// listed in both %s.
const allGrantsQuery = `SELECT p.user_id, p.access_point_id, p.id, p.time_profile_id, t.name, t.windows, t.holidays
	FROM permissions p LEFT JOIN time_profiles t ON t.id = p.time_profile_id
	WHERE p.user_id IS NOT NULL AND p.access_point_id IN (%s)
	UNION ALL
	SELECT m.user_id, p.access_point_id, p.id, p.time_profile_id, t.name, t.windows, t.holidays
	FROM permissions p JOIN group_members m ON m.group_id = p.group_id
	LEFT JOIN time_profiles t ON t.id = p.time_profile_id
	WHERE p.access_point_id IN (%s)`

func scanPlacedGrant(sc scanner) (PlacedGrant, error) {
	var g PlacedGrant
	var err error
	g.Grant, err = scanGrant(placedScanner{sc, &g})
	return g, err
}

// placedScanner reads a grant's user and access point before the columns
// scanGrant reads.
type placedScanner struct {
	sc scanner
	g  *PlacedGrant
}

func (p placedScanner) Scan(dest ...any) error {
	return p.sc.Scan(append([]any{&p.g.UserID, &p.g.AccessPointID}, dest...)...)
}
