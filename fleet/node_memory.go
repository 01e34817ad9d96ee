package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"postern/access"
	"postern/access/protocol"
)

// memory is the part of the reader's copy of the policy that decisions
// read, held in memory so a presentation makes no query: the radio path
// decides in microseconds and a slow SD card never holds a door. It is
// rebuilt from the copy each time the reader has applied all the hub had,
// and swapped in whole, so a decision sees one state of the policy.
type memory struct {
	site   access.Site
	mode   access.SiteMode
	loc    *time.Location
	lease  time.Duration
	rp     protocol.RelyingParty // the hub's, from its public URL
	aps    map[int64]access.AccessPoint
	creds  map[access.CredentialID]access.Credential
	users  map[int64]access.User
	grants map[placement][]access.Grant // only at this reader's access points
}

// placement is a user at an access point.
type placement struct{ user, accessPoint int64 }

// errNoPolicy is what a decision gets before the reader's first copy.
var errNoPolicy = errors.New("fleet: the reader has no copy of the policy yet")

// reload rebuilds the in-memory policy from the reader's database.
func (n *Node) reload(ctx context.Context) error {
	prefix := n.creds.Name + "/"
	p, err := n.cfg.Store.PolicySnapshot(ctx, func(ap access.AccessPoint) bool { return strings.HasPrefix(ap.Reader, prefix) })
	if err != nil {
		return err
	}
	m := &memory{
		site: p.Site, mode: p.Mode, loc: time.Local,
		lease:  time.Duration(LeaseDays(p.LeaseDays)) * 24 * time.Hour,
		aps:    make(map[int64]access.AccessPoint, len(p.AccessPoints)),
		creds:  make(map[access.CredentialID]access.Credential, len(p.Credentials)),
		users:  make(map[int64]access.User, len(p.Users)),
		grants: map[placement][]access.Grant{},
	}
	m.rp, _ = protocol.RelyingPartyOf(p.PublicURL)
	if p.TimeZone != "" {
		if loc, err := time.LoadLocation(p.TimeZone); err == nil {
			m.loc = loc
		}
	}
	for _, ap := range p.AccessPoints {
		m.aps[ap.ID] = ap
	}
	for _, c := range p.Credentials {
		m.creds[c.ID] = c
	}
	for _, u := range p.Users {
		m.users[u.ID] = u
	}
	for _, g := range p.Grants {
		k := placement{g.UserID, g.AccessPointID}
		m.grants[k] = append(m.grants[k], g.Grant)
	}
	n.mem.Store(m)
	return nil
}

func (n *Node) memory() (*memory, error) {
	m := n.mem.Load()
	if m == nil {
		return nil, errNoPolicy
	}
	return m, nil
}

// Site is the site's identity, from memory: its key, the certificate of
// the key it replaced while their overlap runs, and whether version 1 is
// still let in, as the hub has them.
func (s *SiteStore) Site(ctx context.Context) (access.Site, error) {
	m, err := s.node.memory()
	if err != nil {
		return access.Site{}, err
	}
	site := m.site
	if r := site.Rollover; r != nil && !s.node.cfg.Now().Before(r.NotAfter) {
		// The overlap ended since the copy was made: the appliance's own
		// readers stop showing the certificate then too.
		site.Rollover = nil
	}
	return site, nil
}

// SiteLocation is the site's time zone, from memory.
func (s *SiteStore) SiteLocation(ctx context.Context) *time.Location {
	m, err := s.node.memory()
	if err != nil {
		return time.Local
	}
	return m.loc
}

// RelyingParty is who web keys' passkeys were made for: the hub's public
// URL as the reader's copy has it, from memory, so a passkey is checked
// against the hub's own WebAuthn relying party; none before the first
// copy or from a hub that keeps no public URL, and then every passkey's
// assertion is refused.
func (s *SiteStore) RelyingParty() protocol.RelyingParty {
	m, err := s.node.memory()
	if err != nil {
		return protocol.RelyingParty{}
	}
	return m.rp
}

// AccessPointByID is an access point as the reader's copy has it, from
// memory.
func (s *SiteStore) AccessPointByID(ctx context.Context, id int64) (access.AccessPoint, error) {
	m, err := s.node.memory()
	if err != nil {
		return access.AccessPoint{}, err
	}
	ap, ok := m.aps[id]
	if !ok {
		return ap, fmt.Errorf("fleet: access point %d: %w", id, access.ErrNotFound)
	}
	return ap, nil
}

// PresentationInputs is what the store's gives, from memory, marked stale
// when the policy is past its lease.
func (s *SiteStore) PresentationInputs(ctx context.Context, id access.CredentialID, ap access.AccessPoint) (access.Request, error) {
	r := access.Request{AccessPoint: ap}
	m, err := s.node.memory()
	if err != nil {
		return r, err
	}
	r.Site = m.mode
	r.PolicyStale = s.node.stale(m)
	c, ok := m.creds[id]
	if !ok {
		return r, nil
	}
	r.Credential = &c
	u, ok := m.users[c.UserID]
	if !ok {
		return r, fmt.Errorf("fleet: user %d of a credential: %w", c.UserID, access.ErrNotFound)
	}
	r.User = &u
	r.Grants = m.grants[placement{u.ID, ap.ID}]
	return r, nil
}

// ReplacedDevices is empty: the phones a reissue replaced stay on the
// hub, so at a remote reader an old phone is refused as not accepted
// rather than named as replaced, and deciding still reads no table.
func (s *SiteStore) ReplacedDevices(ctx context.Context, id access.CredentialID) ([]access.DeviceKeys, error) {
	return nil, nil
}
