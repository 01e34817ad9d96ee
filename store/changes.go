package store

import (
	"context"
	"database/sql/driver"
	"slices"
	"sync"

	"modernc.org/sqlite"

	"postern/access"
)

// Change is what one or more committed write transactions changed, by
// table and key. It may name more than changed (a statement that failed
// inside a transaction that went on), never less, so whoever follows it
// reads the rows it names again rather than trusting a delta.
type Change struct {
	Users        []int64
	Credentials  []access.CredentialID
	Members      []int64 // users whose group memberships changed
	Groups       []int64
	Permissions  []int64
	TimeProfiles []int64
	AccessPoints []int64
	Settings     bool
	Site         bool
	Emergency    bool // a lockdown or evacuation started or ended
}

// Empty reports whether c names nothing.
func (c Change) Empty() bool {
	return len(c.Users) == 0 && len(c.Credentials) == 0 && len(c.Members) == 0 && len(c.Groups) == 0 &&
		len(c.Permissions) == 0 && len(c.TimeProfiles) == 0 && len(c.AccessPoints) == 0 && !c.Settings && !c.Site && !c.Emergency
}

// merge adds o's keys to c, each once.
func (c *Change) merge(o Change) {
	union := func(a, b []int64) []int64 { return slices.Compact(slices.Sorted(slices.Values(append(a, b...)))) }
	c.Users = union(c.Users, o.Users)
	c.Members = union(c.Members, o.Members)
	c.Groups = union(c.Groups, o.Groups)
	c.Permissions = union(c.Permissions, o.Permissions)
	c.TimeProfiles = union(c.TimeProfiles, o.TimeProfiles)
	c.AccessPoints = union(c.AccessPoints, o.AccessPoints)
	for _, id := range o.Credentials {
		if !slices.Contains(c.Credentials, id) {
			c.Credentials = append(c.Credentials, id)
		}
	}
	c.Settings = c.Settings || o.Settings
	c.Site = c.Site || o.Site
	c.Emergency = c.Emergency || o.Emergency
}

// changeLog collects, from SQLite's pre-update hook on the writer
// connection, the rows each write transaction changes, and keeps the
// committed ones until the feed publishes them. Catching every row at the
// connection, cascades included, means no write method can forget to say
// what it changed.
type changeLog struct {
	mu        sync.Mutex
	quiet     bool   // the decision writer's transactions change no policy
	pending   Change // the open transaction's
	committed []Change
}

func (l *changeLog) preUpdate(d sqlite.SQLitePreUpdateData) {
	if d.DatabaseName != "main" {
		return
	}
	// The rowid, or for a WITHOUT ROWID table the first columns, of the row
	// before and after the change.
	keys := func(n int) [][]any {
		var out [][]any
		for _, row := range []func(...any) error{d.Old, d.New} {
			// The hook writes each value into the slot itself.
			vals := make([]any, n)
			if row(vals...) == nil {
				out = append(out, vals)
			}
		}
		return out
	}
	rowids := func() []int64 {
		switch d.Op {
		case sqliteInsert:
			return []int64{d.NewRowID}
		case sqliteDelete:
			return []int64{d.OldRowID}
		}
		return []int64{d.OldRowID, d.NewRowID}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.quiet {
		return
	}
	c := &l.pending
	switch d.TableName {
	case "users":
		c.Users = append(c.Users, rowids()...)
	case "groups":
		c.Groups = append(c.Groups, rowids()...)
	case "permissions":
		c.Permissions = append(c.Permissions, rowids()...)
	case "time_profiles":
		c.TimeProfiles = append(c.TimeProfiles, rowids()...)
	case "access_points":
		c.AccessPoints = append(c.AccessPoints, rowids()...)
	case "settings":
		c.Settings = true
	case "site":
		c.Site = true
	case "emergencies":
		c.Emergency = true
	case "credentials":
		for _, k := range keys(1) {
			if b, ok := k[0].([]byte); ok && len(b) == len(access.CredentialID{}) {
				c.Credentials = append(c.Credentials, access.CredentialID(b))
			}
		}
	case "replaced_devices":
		// Read again with the credential they belong to.
		for _, k := range keys(1) {
			if b, ok := k[0].([]byte); ok && len(b) == len(access.CredentialID{}) {
				c.Credentials = append(c.Credentials, access.CredentialID(b))
			}
		}
	case "group_members":
		for _, k := range keys(2) {
			if u, ok := k[1].(int64); ok {
				c.Members = append(c.Members, u)
			}
		}
	}
}

// SQLite's operation codes, as the pre-update hook reports them.
const (
	sqliteDelete = 9
	sqliteInsert = 18
)

func (l *changeLog) commit() int32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.pending.Empty() {
		var c Change
		c.merge(l.pending)
		l.committed = append(l.committed, c)
	}
	l.pending = Change{}
	return 0 // go on with the commit
}

func (l *changeLog) rollback() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = Change{}
}

// take returns the committed changes not yet published, merged.
func (l *changeLog) take() Change {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c Change
	for _, o := range l.committed {
		c.merge(o)
	}
	l.committed = nil
	return c
}

func (l *changeLog) setQuiet(q bool) {
	l.mu.Lock()
	l.quiet = q
	l.mu.Unlock()
}

// hookedConnector opens the writer's connections with the change log's
// hooks installed.
type hookedConnector struct {
	driver.Connector
	log *changeLog
}

func (c hookedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	h := conn.(sqlite.HookRegisterer)
	h.RegisterPreUpdateHook(c.log.preUpdate)
	h.RegisterCommitHook(c.log.commit)
	h.RegisterRollbackHook(c.log.rollback)
	return conn, nil
}

// Changes counts the changes published so far: a page that keeps what it
// read can tell that something changed since.
func (s *Store) Changes() uint64 { return s.published.Load() }

// feed publishes committed changes: first to the in-memory policy, then to
// subscribers, in commit order, before the write that made them returns.
type feed struct {
	mu   sync.Mutex // one publication at a time, so none applies a stale read over a fresher one
	subs map[int]func(Change)
	next int
}

// Subscribe calls fn with every committed change from now on, after the
// store's policy has taken it and before the write that made it returns,
// so whatever fn starts is running when the admin's call is answered. fn
// runs under the feed's lock: it must not write to the store. The returned
// function ends the subscription.
func (s *Store) Subscribe(fn func(Change)) (cancel func()) {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	if s.feed.subs == nil {
		s.feed.subs = map[int]func(Change){}
	}
	id := s.feed.next
	s.feed.next++
	s.feed.subs[id] = fn
	return func() {
		s.feed.mu.Lock()
		defer s.feed.mu.Unlock()
		delete(s.feed.subs, id)
	}
}

// publish hands the committed changes to the policy and the subscribers.
// Every write transaction calls it after its commit; one that finds its
// change already taken by another's publish still waits for that publish
// to finish, so it never returns before its change is applied.
func (s *Store) publish(ctx context.Context) {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	c := s.changes.take()
	if c.Empty() {
		return
	}
	s.published.Add(1) // before the policy is read: see LoadPolicy
	s.applyToPolicy(context.WithoutCancel(ctx), c)
	for _, fn := range s.feed.subs {
		fn(c)
	}
}
