package fleet

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
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

// HubConfig is what the hub needs.
type HubConfig struct {
	Store *store.Store
	// Dir holds the hub's JetStream files and its leaf certificate.
	Dir string
	// Listen is the leaf-node listener's address, ":7422"; port 0 picks one.
	Listen string
	Log    *slog.Logger
	// PollEvery is how often the publisher looks for queued policy
	// changes when nothing woke it (default 50 ms).
	PollEvery time.Duration
}

// Hub is the site's end of the fleet: it publishes the policy, takes the
// readers' events into the database, and records what each reader says of
// itself.
type Hub struct {
	cfg         HubConfig
	log         *slog.Logger
	srv         *server.Server
	nc          *nats.Conn
	js          jetstream.JetStream
	auth        *hubAuth
	addr        string
	fingerprint string
	epoch       string

	policySeq atomic.Uint64 // the last sequence published
	wake      chan struct{}

	mu       sync.Mutex
	lastSeen map[int64]time.Time // readers' last status, this run
	sources  map[int64]bool      // readers the EVENTS stream sources now
	// kicked is the leaf connection each reader's source was last
	// restarted for.
	kicked map[int64]uint64

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartHub starts the embedded NATS server and the hub's workers. Close
// stops them.
func StartHub(ctx context.Context, cfg HubConfig) (*Hub, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = 50 * time.Millisecond
	}
	cert, err := hubCertificate(cfg.Dir)
	if err != nil {
		return nil, err
	}
	fp, err := certFingerprint(cert)
	if err != nil {
		return nil, err
	}
	host, port, err := listenAddr(cfg.Listen)
	if err != nil {
		return nil, err
	}
	internal := randomHex(24)
	auth := &hubAuth{st: cfg.Store, internalPass: internal, log: cfg.Log, conns: map[uint64]int64{}, latest: map[int64]uint64{}}
	opts := &server.Options{
		ServerName: "postern-hub",
		// Only this process talks to it as a client, in process.
		DontListen:         true,
		JetStream:          true,
		JetStreamDomain:    HubDomain,
		StoreDir:           filepath.Join(cfg.Dir, "jetstream"),
		SyncAlways:         true, // an event the hub has taken survives a power cut
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  4 << 30,
		NoSigs:             true,
		NoLog:              true,
		LeafNode: server.LeafNodeOpts{
			Host: host,
			Port: port,
			TLSConfig: &tls.Config{
				MinVersion:   tls.VersionTLS13,
				Certificates: []tls.Certificate{cert},
			},
			TLSTimeout: 5,
			// Readers dial the address they were given, never one the hub
			// advertises: behind NAT or a test's proxy that is the only
			// one that works.
			NoAdvertise: true,
		},
		CustomClientAuthentication: auth,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("fleet: hub server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("fleet: the hub's NATS server did not start")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.UserInfo(internalUser, internal), nats.Name("postern-hub"), nats.MaxReconnects(-1))
	if err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("fleet: connect to the hub's server: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		srv.Shutdown()
		return nil, err
	}
	h := &Hub{cfg: cfg, log: cfg.Log, srv: srv, nc: nc, js: js, auth: auth, addr: net.JoinHostPort(host, strconv.Itoa(port)),
		fingerprint: fp, wake: make(chan struct{}, 1), lastSeen: map[int64]time.Time{}, sources: map[int64]bool{}, kicked: map[int64]uint64{}}
	if err := h.setup(ctx); err != nil {
		h.Close()
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Go(func() { h.publishPolicy(wctx) })
	h.wg.Go(func() { h.ingestEvents(wctx) })
	h.wg.Go(func() { h.followReaders(wctx) })
	cfg.Log.Info("remote readers: the hub is listening", "leaf", h.addr, "fingerprint", fp)
	return h, nil
}

// setup makes the hub's streams and subscriptions.
func (h *Hub) setup(ctx context.Context) error {
	// Changes queue from here on; a new stream's snapshot below takes
	// whatever came before.
	if err := h.cfg.Store.EnablePolicyOutbox(ctx); err != nil {
		return err
	}
	ps, err := h.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:     policyStream,
		Subjects: []string{policySubject},
		Storage:  jetstream.FileStorage,
		// The latest record of each entity, kept forever: a revocation or
		// a deletion is never forgotten while the stream lives.
		MaxMsgsPerSubject: 1,
		Duplicates:        10 * time.Minute,
		DenyDelete:        true,
		DenyPurge:         true,
	})
	if err != nil {
		return fmt.Errorf("fleet: policy stream: %w", err)
	}
	info := ps.CachedInfo()
	h.epoch = strconv.FormatInt(info.Created.UnixNano(), 10)
	h.policySeq.Store(info.State.LastSeq)
	if info.State.Msgs == 0 {
		// A new stream: it gets the whole policy once.
		if err := h.cfg.Store.SeedPolicyOutbox(ctx); err != nil {
			return err
		}
	}
	if _, err := h.js.CreateOrUpdateStream(ctx, eventsConfig(nil)); err != nil {
		return fmt.Errorf("fleet: events stream: %w", err)
	}
	if err := h.syncSources(ctx, nil); err != nil {
		return err
	}
	if _, err := h.nc.Subscribe(statusSubject+".*", h.onStatus); err != nil {
		return err
	}
	if _, err := h.nc.Subscribe(enrolSubject+".*", h.onEnrol); err != nil {
		return err
	}
	return h.nc.Flush()
}

// Addr is the leaf-node listener's address.
func (h *Hub) Addr() string { return h.addr }

// Fingerprint is the hub's key fingerprint, which readers pin.
func (h *Hub) Fingerprint() string { return h.fingerprint }

// PolicyChanged wakes the policy publisher now rather than at its next
// poll.
func (h *Hub) PolicyChanged() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Close stops the workers, then the connection, then the server.
func (h *Hub) Close() error {
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	h.nc.Close()
	h.srv.Shutdown()
	h.srv.WaitForShutdown()
	return nil
}

// listenAddr splits an address; port 0 is replaced by a free one, since
// the server reports the port it picked nowhere a caller can read.
func listenAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("fleet: listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("fleet: listen address %q: %w", addr, err)
	}
	if port == 0 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return "", 0, err
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
