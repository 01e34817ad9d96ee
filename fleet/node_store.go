package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"postern/access"
	"postern/store"
)

// Lease bounds: how long a reader may decide from a policy it cannot
// confirm is current, set by the admin in days.
const (
	DefaultLeaseDays = 7
	MaxLeaseDays     = 30
)

// LeaseDays reads the lease setting, bounded.
func LeaseDays(v string) int {
	d, err := strconv.Atoi(v)
	if err != nil || d < 1 {
		return DefaultLeaseDays
	}
	return min(d, MaxLeaseDays)
}

// SiteStore is the store a remote reader's exchange decides and records
// through: the reader's database, with every event given a site-wide
// unique id and handed to the publisher after its commit, and every
// decision judged against the offline lease.
type SiteStore struct {
	*store.Store
	node *Node
}

// Store returns the store the reader's exchange must use.
func (n *Node) Store() *SiteStore { return &SiteStore{Store: n.cfg.Store, node: n} }

func newUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// RecordDecision writes the decision, durably, before the key is told or
// the door opens; publishing it follows.
func (s *SiteStore) RecordDecision(ctx context.Context, e *access.Event, cred *access.CredentialID, at time.Time) error {
	e.UID = newUID()
	if err := s.Store.RecordDecision(ctx, e, cred, at); err != nil {
		return err
	}
	s.node.wakeEvents()
	return nil
}

// AppendEvent writes an event, as RecordDecision does.
func (s *SiteStore) AppendEvent(ctx context.Context, e *access.Event) error {
	e.UID = newUID()
	if err := s.Store.AppendEvent(ctx, e); err != nil {
		return err
	}
	s.node.wakeEvents()
	return nil
}

// Stale reports whether the reader's policy is past its offline lease:
// not known current for longer than the lease the admin set.
func (n *Node) Stale() bool {
	m, err := n.memory()
	return err != nil || n.stale(m)
}

func (n *Node) stale(m *memory) bool {
	if n.connected.Load() && n.caughtUp.Load() {
		return false
	}
	fresh := time.UnixMilli(n.freshAt.Load())
	return n.cfg.Now().Sub(fresh) > m.lease
}
