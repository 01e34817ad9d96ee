package web

import (
	"context"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"postern/access"
)

// accessPointOptionsCache keeps the permission form's access point
// options, none chosen, rendered once per list of access points. A site
// with a thousand doors would otherwise render a thousand options on
// every user's page and every permissions page. The store's list of
// access points is one shared slice until an access point changes, so
// the same slice means the same options.
type accessPointOptionsCache struct {
	mu   sync.Mutex
	aps  []access.AccessPoint
	html string
}

// options returns aps as rendered options, none selected.
func (c *accessPointOptionsCache) options(ctx context.Context, aps []access.AccessPoint) (templ.Component, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !sameSlice(c.aps, aps) {
		var b strings.Builder
		if err := accessPointOptions(aps, 0).Render(ctx, &b); err != nil {
			return nil, err
		}
		c.aps, c.html = aps, b.String()
	}
	return templ.Raw(c.html), nil
}

// sameSlice reports whether a and b are the same slice: the same array,
// from the same start, as long.
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
