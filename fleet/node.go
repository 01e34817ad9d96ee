package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"postern/store"
)

// NodeConfig is what a remote reader needs.
type NodeConfig struct {
	Store *store.Store
	// Dir holds the reader's JetStream files.
	Dir string
	// Hub is the hub's leaf address, HOST:PORT.
	Hub string
	// Token is the enrolment token; used once, when the reader is not
	// enrolled yet.
	Token   string
	Log     *slog.Logger
	Version string
	// Watchdog restarts the embedded server when its link to the hub has
	// been down this long (default 2 minutes): a leaf connection can stall
	// on a flaky link and not come back by itself.
	Watchdog time.Duration
	// Now is the clock the offline lease is judged by (default time.Now).
	Now func() time.Time
	// EnrolWait bounds how long enrolment waits for the hub (default 30 s).
	EnrolWait time.Duration
}

// Node is a remote reader's end of the fleet.
type Node struct {
	cfg   NodeConfig
	log   *slog.Logger
	creds credentials

	synced     chan struct{} // closed once the policy holds the site
	syncedOnce sync.Once
	eventsWake chan struct{}

	freshAt   atomic.Int64 // unix ms the policy was last known current
	connected atomic.Bool  // the link to the hub is up
	caughtUp  atomic.Bool  // the policy follower has applied all there is
	mem       atomic.Pointer[memory]

	cancel context.CancelFunc
	done   chan struct{}
}

// StartNode enrols the reader if it is not yet (with cfg.Token), then runs
// its embedded server and workers until Close.
func StartNode(ctx context.Context, cfg NodeConfig) (*Node, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Watchdog <= 0 {
		cfg.Watchdog = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.EnrolWait <= 0 {
		cfg.EnrolWait = 30 * time.Second
	}
	creds, ok, err := loadCredentials(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	if !ok || (cfg.Token != "" && !sameToken(creds, cfg.Token)) {
		if cfg.Token == "" {
			return nil, errors.New("fleet: this reader is not enrolled: start it once with --enrol TOKEN from the hub's Readers page")
		}
		if creds, err = enrol(ctx, cfg.Store, cfg.Hub, cfg.Token, cfg.EnrolWait); err != nil {
			return nil, err
		}
		cfg.Log.Info("enrolled with the hub", "reader", creds.Name, "hub", cfg.Hub)
	}
	n := &Node{cfg: cfg, log: cfg.Log, creds: creds, synced: make(chan struct{}), eventsWake: make(chan struct{}, 1), done: make(chan struct{})}
	if v, _ := cfg.Store.FleetState(ctx, "policy_fresh_at"); v != "" {
		ms, _ := strconv.ParseInt(v, 10, 64)
		n.freshAt.Store(ms)
	}
	if _, err := cfg.Store.Site(ctx); err == nil {
		if seq, _, _ := cfg.Store.PolicySeq(ctx); seq > 0 {
			if err := n.reload(ctx); err != nil {
				return nil, err
			}
			n.markSynced()
		}
	}
	rctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go n.run(rctx)
	return n, nil
}

// sameToken reports whether token is the one these credentials came from:
// a reader restarted with the same --enrol does not enrol again.
func sameToken(c credentials, token string) bool {
	id, _, fp, err := parseToken(token)
	return err == nil && id == c.ID && fp == c.Fingerprint
}

// Name is the reader's name on the hub, the prefix of its bindings.
func (n *Node) Name() string { return n.creds.Name }

// Synced is closed once the reader's policy holds the site's identity, so
// its radios may start.
func (n *Node) Synced() <-chan struct{} { return n.synced }

func (n *Node) markSynced() { n.syncedOnce.Do(func() { close(n.synced) }) }

// Connected reports whether the link to the hub is up.
func (n *Node) Connected() bool { return n.connected.Load() }

// Close stops the reader's fleet side; decisions already recorded are
// published at the next start.
func (n *Node) Close() {
	n.cancel()
	<-n.done
}

// wakeEvents tells the event publisher a new event is in the log.
func (n *Node) wakeEvents() {
	select {
	case n.eventsWake <- struct{}{}:
	default:
	}
}

// run runs sessions of the embedded server until ctx ends; the watchdog
// ends a session whose link has been down too long.
func (n *Node) run(ctx context.Context) {
	defer close(n.done)
	for ctx.Err() == nil {
		err := n.session(ctx)
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("remote reader: restarting the link to the hub", "err", err)
		sleep(ctx, time.Second)
	}
}

var errWatchdog = errors.New("the link to the hub has been down too long")

// session is one life of the embedded server.
func (n *Node) session(ctx context.Context) error {
	u, err := hubURL(n.cfg.Hub, fmt.Sprintf("r%d", n.creds.ID), n.creds.Secret)
	if err != nil {
		return err
	}
	opts := &server.Options{
		ServerName:      readerDomain(n.creds.ID),
		DontListen:      true,
		JetStream:       true,
		JetStreamDomain: readerDomain(n.creds.ID),
		StoreDir:        filepath.Join(n.cfg.Dir, "jetstream"),
		// An event the reader's stream has acknowledged survives a power
		// cut: the publisher moves its mark past it only then.
		SyncAlways: true,
		// A small board: bounded memory, and a disk quota for events
		// waiting for the hub (a year of a busy door is far less).
		JetStreamMaxMemory: 16 << 20,
		JetStreamMaxStore:  512 << 20,
		NoSigs:             true,
		NoLog:              true,
		LeafNode: server.LeafNodeOpts{
			ReconnectInterval: 250 * time.Millisecond,
			Remotes:           []*server.RemoteLeafOpts{{URLs: []*url.URL{u}, TLS: true, TLSConfig: pinnedTLS(n.creds.Fingerprint), TLSTimeout: 5}},
		},
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return err
	}
	go srv.Start()
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
		n.connected.Store(false)
	}()
	if !srv.ReadyForConnections(30 * time.Second) {
		return errors.New("the reader's NATS server did not start")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name("postern-reader"), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	local, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	hub, err := jetstream.NewWithDomain(nc, HubDomain)
	if err != nil {
		return err
	}
	if err := n.ensureEventStream(ctx, local); err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { n.followPolicy(sctx, hub) })
	wg.Go(func() { n.publishEvents(sctx, local) })
	wg.Go(func() { n.reportStatus(sctx, nc) })
	defer wg.Wait()
	defer cancel()

	// Watch the link: followers restart on each reconnect, and the
	// watchdog ends the session when it stays down.
	downSince := time.Now()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		up := srv.NumLeafNodes() > 0
		if was := n.connected.Swap(up); was != up {
			n.log.Info("remote reader: link to the hub", "up", up)
			if !up {
				downSince = time.Now()
				n.caughtUp.Store(false)
			}
		}
		if !up && time.Since(downSince) > n.cfg.Watchdog {
			return errWatchdog
		}
	}
}

// ensureEventStream makes the reader's event stream if it is not there.
// It is never recreated: a new stream starts its sequence again, and the
// hub's source would wait for sequences it has already seen. It keeps
// events, whether or not the hub has them, for five weeks: longer than the
// longest offline lease, so a reader back from any outage it may decide
// through still hands in all it decided.
func (n *Node) ensureEventStream(ctx context.Context, local jetstream.JetStream) error {
	_, err := local.Stream(ctx, eventStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = local.CreateStream(ctx, jetstream.StreamConfig{
			Name:       eventStream,
			Subjects:   []string{eventSubject(n.creds.ID)},
			Storage:    jetstream.FileStorage,
			MaxAge:     35 * 24 * time.Hour,
			MaxBytes:   256 << 20,
			Duplicates: 10 * time.Minute,
		})
	}
	if err != nil {
		return fmt.Errorf("the reader's event stream: %w", err)
	}
	return nil
}
