package fleet

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"postern/store"
)

// internalUser is the hub process's own client.
const internalUser = "postern"

// hubAuth admits the hub's own in-process client, readers with the secret
// they were issued, and a reader still enrolling with its one-time token,
// which may do nothing but ask to enrol.
type hubAuth struct {
	st           *store.Store
	internalPass string
	log          *slog.Logger

	mu     sync.Mutex
	conns  map[uint64]int64 // leaf connection id → reader id
	latest map[int64]uint64 // reader id → its newest leaf connection id
}

var _ server.Authentication = (*hubAuth)(nil)

// Check is called by the server for every connection.
func (a *hubAuth) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	switch c.Kind() {
	case server.CLIENT:
		return o.Username == internalUser && subtle.ConstantTimeCompare([]byte(o.Password), []byte(a.internalPass)) == 1
	case server.LEAF:
	default:
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s, ok := strings.CutPrefix(o.Username, "enrol-r"); ok {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || !a.st.FleetTokenValid(ctx, id, o.Password) {
			a.log.Warn("remote readers: refused an enrolment", "addr", c.RemoteAddress(), "user", o.Username)
			return false
		}
		c.RegisterUser(&server.User{Username: o.Username, Permissions: readerPermissions()})
		return true
	}
	s, ok := strings.CutPrefix(o.Username, "r")
	id, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil {
		return false
	}
	if _, err := a.st.FleetReaderBySecret(ctx, id, o.Password); err != nil {
		a.log.Warn("remote readers: refused a reader", "addr", c.RemoteAddress(), "user", o.Username)
		return false
	}
	c.RegisterUser(&server.User{Username: o.Username, Permissions: readerPermissions()})
	a.mu.Lock()
	cid := c.GetID()
	a.conns[cid] = id
	// The server numbers connections in the order they come.
	a.latest[id] = max(a.latest[id], cid)
	a.mu.Unlock()
	return true
}

// latestConn returns the id of reader id's newest leaf connection, 0
// before its first.
func (a *hubAuth) latestConn(id int64) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.latest[id]
}

// prune forgets the connections that are no longer alive, but never a
// reader's newest: the server lists a connection only some time after
// authenticating it.
func (a *hubAuth) prune(alive func(cid uint64) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for cid, id := range a.conns {
		if a.latest[id] != cid && !alive(cid) {
			delete(a.conns, cid)
		}
	}
}

// connsOf returns the leaf connection ids a reader authenticated.
func (a *hubAuth) connsOf(id int64) []uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []uint64
	for cid, rid := range a.conns {
		if rid == id {
			out = append(out, cid)
		}
	}
	return out
}

// forget drops connection ids that are gone.
func (a *hubAuth) forget(cid uint64) {
	a.mu.Lock()
	delete(a.conns, cid)
	a.mu.Unlock()
}

// readerPermissions bound what a reader may send into the hub: it reads
// the policy and reports its status; it may not write the policy, or
// change or delete the hub's streams and consumers. A leaf's permissions
// are written from the hub's side, so what the reader sends is checked
// against Subscribe.
func readerPermissions() *server.Permissions {
	api := "$JS." + HubDomain + ".API."
	return &server.Permissions{
		Subscribe: &server.SubjectPermission{Deny: []string{
			"policy.>",
			api + "STREAM.CREATE.>", api + "STREAM.UPDATE.>", api + "STREAM.DELETE.>", api + "STREAM.PURGE.>",
			api + "STREAM.MSG.DELETE.>", api + "STREAM.SNAPSHOT.>", api + "STREAM.RESTORE.>",
			api + "CONSUMER.DELETE.>", api + "CONSUMER.DURABLE.>", api + "CONSUMER.CREATE." + eventStream + ".>",
			api + "CONSUMER.CREATE." + eventStream, api + "ACCOUNT.>", api + "META.>", api + "SERVER.>",
		}},
	}
}
