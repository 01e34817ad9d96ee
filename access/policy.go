package access

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Policy is the part of a site's state that decisions read, held in
// memory: credentials, users, group memberships, permissions, time profiles,
// access points, the site's time zone and its emergency state. It keeps of each credential and
// user only what a decision and its event read (see credEntry). A reader builds a Request from it
// with no database lookup; whoever owns the data keeps it in step with
// Apply (the store after each committed change, a remote reader from its
// copy of the site's policy).
//
// A Policy is safe for concurrent use: Apply replaces what an update names
// under one lock, so a Request sees each update whole or not at all.
type Policy struct {
	mu           sync.RWMutex
	credentials  map[CredentialID]credEntry
	oddKeys      map[CredentialID][2][]byte    // keys of a length credEntry cannot hold
	replaced     map[CredentialID][]DeviceKeys // phones a reissue replaced, newest first
	users        map[int64]userEntry
	groupsOf     map[int64]groupList // user → groups
	groupSizes   map[int64]int       // group → members
	permissions  map[int64]Permission
	doors        map[int64]*doorGrants // access point → who may pass
	profiles     map[int64]*TimeProfile
	accessPoints map[int64]AccessPoint
	byName       []AccessPoint // accessPoints sorted, built on demand
	location     *time.Location
	site         SiteMode
}

// doorGrants indexes the permissions at one access point by who holds them.
type doorGrants struct {
	users  map[int64][]grantRef
	groups map[int64][]grantRef
}

type grantRef struct {
	permissionID int64
	profileID    int64 // 0: at any time
}

// PolicyUpdate is a batch of changes to a Policy: rows to put (replacing
// any with the same key) and keys to drop. A load is one update that puts
// everything.
type PolicyUpdate struct {
	Credentials     []Credential
	DropCredentials []CredentialID
	// ReplacedDevices holds every replaced phone, newest first, of each
	// credential it names; an empty list: none (any held are forgotten).
	ReplacedDevices    map[CredentialID][]DeviceKeys
	Users              []User
	DropUsers          []int64
	Memberships        map[int64][]int64 // user → every group they are in now
	Permissions        []Permission
	DropPermissions    []int64
	TimeProfiles       []TimeProfile
	DropTimeProfiles   []int64
	AccessPoints       []AccessPoint
	DropAccessPoints   []int64
	Location           *time.Location // nil: unchanged
	Site               *SiteMode      // the lockdown or evacuation in force; nil: unchanged
	ReplaceMemberships bool           // Memberships lists every user's groups: forget the rest
}

// NewPolicy returns an empty policy in loc's time zone (nil: UTC).
func NewPolicy(loc *time.Location) *Policy {
	if loc == nil {
		loc = time.UTC
	}
	return &Policy{
		credentials:  map[CredentialID]credEntry{},
		oddKeys:      map[CredentialID][2][]byte{},
		replaced:     map[CredentialID][]DeviceKeys{},
		users:        map[int64]userEntry{},
		groupsOf:     map[int64]groupList{},
		groupSizes:   map[int64]int{},
		permissions:  map[int64]Permission{},
		doors:        map[int64]*doorGrants{},
		profiles:     map[int64]*TimeProfile{},
		accessPoints: map[int64]AccessPoint{},
		location:     loc,
	}
}

// Apply makes the changes in u. Drops come after puts of the same kind, so
// an update may name a key in both when it is gone by the end.
func (p *Policy) Apply(u PolicyUpdate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Only what a decision reads is kept: the rest (device, dates,
	// issuer, email) would cost memory at every credential and user of a
	// large site.
	for _, c := range u.Credentials {
		e, odd := newCredEntry(c)
		p.credentials[c.ID] = e
		delete(p.oddKeys, c.ID)
		if odd {
			p.oddKeys[c.ID] = [2][]byte{c.TapKey, c.UVKey}
		}
	}
	for id, devices := range u.ReplacedDevices {
		if len(devices) == 0 {
			delete(p.replaced, id)
			continue
		}
		p.replaced[id] = slices.Clone(devices)
	}
	for _, id := range u.DropCredentials {
		delete(p.credentials, id)
		delete(p.oddKeys, id)
		delete(p.replaced, id)
	}
	for _, usr := range u.Users {
		p.users[usr.ID] = newUserEntry(usr)
	}
	for _, id := range u.DropUsers {
		delete(p.users, id)
	}
	if u.ReplaceMemberships {
		p.groupsOf, p.groupSizes = map[int64]groupList{}, map[int64]int{}
	}
	for user, groups := range u.Memberships {
		p.groupsOf[user].each(func(g int64) {
			if p.groupSizes[g]--; p.groupSizes[g] <= 0 {
				delete(p.groupSizes, g)
			}
		})
		for _, g := range groups {
			p.groupSizes[g]++
		}
		if len(groups) == 0 {
			delete(p.groupsOf, user)
			continue
		}
		p.groupsOf[user] = newGroupList(groups)
	}
	for _, perm := range u.Permissions {
		p.dropPermission(perm.ID)
		p.permissions[perm.ID] = Permission{ID: perm.ID, UserID: perm.UserID, GroupID: perm.GroupID, AccessPointID: perm.AccessPointID, TimeProfileID: perm.TimeProfileID}
		d := p.doors[perm.AccessPointID]
		if d == nil {
			d = &doorGrants{users: map[int64][]grantRef{}, groups: map[int64][]grantRef{}}
			p.doors[perm.AccessPointID] = d
		}
		ref := grantRef{permissionID: perm.ID, profileID: perm.TimeProfileID}
		if perm.UserID != 0 {
			d.users[perm.UserID] = append(d.users[perm.UserID], ref)
		} else {
			d.groups[perm.GroupID] = append(d.groups[perm.GroupID], ref)
		}
	}
	for _, id := range u.DropPermissions {
		p.dropPermission(id)
	}
	for _, tp := range u.TimeProfiles {
		p.profiles[tp.ID] = &tp
	}
	for _, id := range u.DropTimeProfiles {
		delete(p.profiles, id)
	}
	for _, ap := range u.AccessPoints {
		p.accessPoints[ap.ID] = ap
	}
	for _, id := range u.DropAccessPoints {
		delete(p.accessPoints, id)
	}
	if len(u.AccessPoints) > 0 || len(u.DropAccessPoints) > 0 {
		p.byName = nil
	}
	if u.Site != nil {
		p.site = *u.Site
	}
	if u.Location != nil {
		p.location = u.Location
	}
}

// dropPermission forgets a permission and its place in the door index.
func (p *Policy) dropPermission(id int64) {
	old, ok := p.permissions[id]
	if !ok {
		return
	}
	delete(p.permissions, id)
	d := p.doors[old.AccessPointID]
	if d == nil {
		return
	}
	index, holder := d.groups, old.GroupID
	if old.UserID != 0 {
		index, holder = d.users, old.UserID
	}
	refs := index[holder]
	for i, r := range refs {
		if r.permissionID == id {
			refs = append(refs[:i:i], refs[i+1:]...)
			break
		}
	}
	if len(refs) == 0 {
		delete(index, holder)
	} else {
		index[holder] = refs
	}
	if len(d.users) == 0 && len(d.groups) == 0 {
		delete(p.doors, old.AccessPointID)
	}
}

// Request gathers what a decision on credential id at ap needs: the
// credential (nil when the site does not know it), its user, the grants
// reaching the user at ap, the site's time zone and its emergency state.
// The caller fills in
// Now and UserVerified.
func (p *Policy) Request(id CredentialID, ap AccessPoint) Request {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r := Request{AccessPoint: ap, Location: p.location, Site: p.site}
	ce, ok := p.credentials[id]
	if !ok {
		return r
	}
	c := ce.credential(id, p.oddKeys[id])
	r.Credential = &c
	ue, ok := p.users[c.UserID]
	if !ok {
		return r
	}
	u := ue.user(c.UserID)
	r.User = &u
	d := p.doors[ap.ID]
	if d == nil {
		return r
	}
	for _, ref := range d.users[u.ID] {
		r.Grants = append(r.Grants, p.grant(ref))
	}
	p.groupsOf[u.ID].each(func(g int64) {
		for _, ref := range d.groups[g] {
			r.Grants = append(r.Grants, p.grant(ref))
		}
	})
	return r
}

func (p *Policy) grant(ref grantRef) Grant {
	g := Grant{PermissionID: ref.permissionID}
	if ref.profileID != 0 {
		g.Profile = p.profiles[ref.profileID]
		if g.Profile == nil {
			// A schedule this copy does not hold yet opens nothing.
			g.Profile = &TimeProfile{ID: ref.profileID}
		}
	}
	return g
}

// ReplacedDevices returns the keys of the phones newer ones replaced on
// credential id, newest first: a key that proves it is one of them is
// denied as replaced, with its user named, not refused as a stranger.
func (p *Policy) ReplacedDevices(id CredentialID) []DeviceKeys {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.replaced[id])
}

// AccessPoint returns one access point.
func (p *Policy) AccessPoint(id int64) (AccessPoint, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	ap, ok := p.accessPoints[id]
	return ap, ok
}

// Location returns the site's time zone.
func (p *Policy) Location() *time.Location {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.location
}

// Users returns how many users the policy holds.
func (p *Policy) Users() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.users)
}

// GroupSize returns how many users are in a group.
func (p *Policy) GroupSize(id int64) int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.groupSizes[id]
}

// AccessPoints returns every access point, sorted by name as SQLite's
// NOCASE collation sorts (ASCII letters folded), then by id. The order is
// kept until an access point changes.
//
// The slice is shared by every caller until then, so that a page listing
// a thousand doors does not copy them each time: read it, never write to
// it. Appending is safe (its capacity ends at its length).
func (p *Policy) AccessPoints() []AccessPoint {
	p.mu.RLock()
	sorted := p.byName
	p.mu.RUnlock()
	if sorted == nil {
		p.mu.Lock()
		if p.byName == nil {
			p.byName = make([]AccessPoint, 0, len(p.accessPoints))
			for _, ap := range p.accessPoints {
				p.byName = append(p.byName, ap)
			}
			slices.SortFunc(p.byName, func(a, b AccessPoint) int {
				if c := compareNoCase(a.Name, b.Name); c != 0 {
					return c
				}
				return cmp.Compare(a.ID, b.ID)
			})
		}
		sorted = p.byName
		p.mu.Unlock()
	}
	return slices.Clip(sorted)
}

// compareNoCase compares as SQLite's NOCASE does: byte by byte, with A-Z
// read as a-z.
func compareNoCase(a, b string) int {
	lower := func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := cmp.Compare(lower(a[i]), lower(b[i])); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}
