package web

import (
	"context"
	"sync"

	"postern/access"
	"postern/store"
)

// siteChoices are the lists the forms offer to choose from: every group
// and every time profile. A user's page and the permissions page each
// need them; they change only when an administrator changes them, which
// the store counts (Store.Changes), so they are read again only then.
type siteChoices struct {
	changes  uint64
	groups   []access.Group
	profiles []access.TimeProfile
}

type siteChoicesCache struct {
	mu      sync.Mutex
	choices *siteChoices
}

// siteChoices returns the forms' lists as of the store's latest change.
// Callers only read them.
func (h *handler) siteChoices(ctx context.Context) (*siteChoices, error) {
	changes := h.store.Changes()
	h.choices.mu.Lock()
	sc := h.choices.choices
	h.choices.mu.Unlock()
	if sc != nil && sc.changes == changes {
		return sc, nil
	}
	all := store.ListOptions{Limit: store.MaxLimit}
	groups, err := h.store.Groups(ctx, all)
	if err != nil {
		return nil, err
	}
	profiles, err := h.store.TimeProfiles(ctx, all)
	if err != nil {
		return nil, err
	}
	// Read after the count: a change published meanwhile makes the next
	// caller read again, never keeps an older list.
	sc = &siteChoices{changes: changes, groups: groups.Items, profiles: profiles.Items}
	h.choices.mu.Lock()
	h.choices.choices = sc
	h.choices.mu.Unlock()
	return sc, nil
}
