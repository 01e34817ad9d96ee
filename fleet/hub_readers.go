package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"postern/access"
	"postern/store"
)

// onlineWithin is how recent a reader's last status must be for the hub
// to count it online; readers report every statusEvery.
const (
	statusEvery  = 2 * time.Second
	onlineWithin = 3 * statusEvery
)

// readerIDFromSubject reads the reader id at the end of a subject.
func readerIDFromSubject(subject string) (int64, bool) {
	i := strings.LastIndexByte(subject, '.')
	s, ok := strings.CutPrefix(subject[i+1:], "r")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// onStatus records a reader's report. A reader heard on a new connection
// (restarted, or its link back after a cut however short), or again after
// a silence, gets its event source restarted, so its events flow now: the
// source's consumer lives on the reader, and nats-server would otherwise
// notice it gone only at its next health check and ask again after a
// back-off that grows with each failure, up to 2 minutes.
func (h *Hub) onStatus(m *nats.Msg) {
	id, ok := readerIDFromSubject(m.Subject)
	var w statusWire
	if !ok || json.Unmarshal(m.Data, &w) != nil {
		return
	}
	now := time.Now()
	conn := h.auth.latestConn(id)
	h.mu.Lock()
	last, seen := h.lastSeen[id]
	h.lastSeen[id] = now
	reconnected := h.kicked[id] != conn
	h.kicked[id] = conn
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var lag uint64
	if hub := h.policySeq.Load(); hub > w.PolicySeq {
		lag = hub - w.PolicySeq
	}
	if err := h.cfg.Store.SetFleetStatus(ctx, id, store.FleetStatus{At: now, PolicySeq: w.PolicySeq, PolicyLag: lag, EventsWaiting: w.EventsWaiting + h.eventsBehind(ctx, id), Version: w.Version}); err != nil {
		h.log.Warn("remote readers: recording a status", "reader", id, "err", err)
	}
	if !seen || now.Sub(last) > onlineWithin || reconnected {
		h.log.Info("remote readers: reader online", "reader", id, "connection", conn)
		go func() {
			kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := h.syncSources(kctx, []int64{id}); err != nil {
				h.log.Warn("remote readers: restarting an event source", "reader", id, "err", err)
				// Try again at the reader's next status.
				h.mu.Lock()
				if h.kicked[id] == conn {
					delete(h.kicked, id)
				}
				h.mu.Unlock()
			}
		}()
	}
}

// onEnrol answers a reader enrolling with its one-time token: the secret
// it authenticates with from now on.
func (h *Hub) onEnrol(m *nats.Msg) {
	reply := func(r enrolReply) {
		b, _ := json.Marshal(r)
		m.Respond(b)
	}
	id, ok := readerIDFromSubject(m.Subject)
	var req enrolRequest
	if !ok || json.Unmarshal(m.Data, &req) != nil {
		reply(enrolReply{Error: store.ErrEnrolment.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	secret := randomHex(32)
	r, err := h.cfg.Store.EnrolFleetReader(ctx, id, req.Token, secret)
	if err != nil {
		if !errors.Is(err, store.ErrEnrolment) {
			h.log.Error("remote readers: enrolment", "reader", id, "err", err)
		}
		reply(enrolReply{Error: store.ErrEnrolment.Error()})
		return
	}
	// A board enrolled again replaces the old one: whatever still holds
	// the old secret is cut off.
	for _, cid := range h.auth.connsOf(id) {
		h.srv.DisconnectClientByID(cid)
		h.auth.forget(cid)
	}
	h.log.Info("remote readers: reader enrolled", "reader", r.Name)
	reply(enrolReply{ID: r.ID, Name: r.Name, Secret: secret})
	go func() {
		if err := h.syncSources(context.Background(), nil); err != nil {
			h.log.Warn("remote readers: events sources", "err", err)
		}
	}()
}

// followReaders keeps the sources in step with the readers admins add and
// remove, and disconnects a removed reader.
func (h *Hub) followReaders(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := h.syncSources(ctx, nil); err != nil && ctx.Err() == nil {
			h.log.Warn("remote readers: events sources", "err", err)
		}
		h.auth.mu.Lock()
		conns := make(map[uint64]int64, len(h.auth.conns))
		for cid, id := range h.auth.conns {
			conns[cid] = id
		}
		h.auth.mu.Unlock()
		for cid, id := range conns {
			if _, err := h.cfg.Store.FleetReaderByID(ctx, id); errors.Is(err, access.ErrNotFound) {
				h.log.Info("remote readers: disconnecting a removed reader", "reader", id)
				h.srv.DisconnectClientByID(cid)
				h.auth.forget(cid)
			}
		}
		// A link that keeps dropping would otherwise leave an entry for
		// every connection it ever made.
		h.auth.prune(func(cid uint64) bool { return h.srv.GetLeafNode(cid) != nil })
	}
}
