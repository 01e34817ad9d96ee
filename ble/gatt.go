package ble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access/protocol"
)

// gattService is one of the two services of docs/protocol.md ("GATT service
// and characteristics"). Whichever side hosts it is the GATT server and
// notifies on tx; the side that connected writes to rx (with response) and
// subscribes to tx. Each message is cut with protocol.Fragment.
type gattService struct {
	name         string // for errors
	uuid, rx, tx goble.UUID
}

// The key hosts and advertises keyService (the reader connects to it); the
// reader hosts and advertises readerService (for a phone that connects to
// the reader, such as a backgrounded iPhone). The UUIDs are the protocol
// package's, parsed here once.
var (
	keyService = gattService{
		name: "key",
		uuid: goble.MustParse(protocol.KeyServiceUUID),
		rx:   goble.MustParse(protocol.KeyRXUUID),
		tx:   goble.MustParse(protocol.KeyTXUUID),
	}
	readerService = gattService{
		name: "reader",
		uuid: goble.MustParse(protocol.ReaderServiceUUID),
		rx:   goble.MustParse(protocol.ReaderRXUUID),
		tx:   goble.MustParse(protocol.ReaderTXUUID),
	}
)

// MaxMessage bounds a message on any Link, so a hostile peer cannot make
// a transport buffer without bound. A GATT link carries less: the fragment
// format allows 1 to protocol.MaxMessageSize bytes.
const MaxMessage = 64 << 10

// ErrMessageTooLong is returned by Send for a message over MaxMessage.
var ErrMessageTooLong = fmt.Errorf("ble: message longer than %d bytes", MaxMessage)

// ErrNoHCI is returned by OpenHCI where this build has no HCI support.
var ErrNoHCI = errors.New("ble: this build has no HCI (Bluetooth adapter) support; use --radio sim")

// GATTOptions tune the go-ble adapter.
type GATTOptions struct {
	// MTU is the ATT_MTU to ask for; default protocol.DefaultMTU.
	MTU int
	// OfferInterval is how often a key connected to our service but not
	// yet taken up is offered to the reader again, with its signal read
	// anew: the reader judges a key on a few samples, and a touch-mode
	// reader only takes keys heard while armed. Default 100ms.
	OfferInterval time.Duration
	// IdleTimeout disconnects a central that subscribed but was not taken
	// up in this time, so idle phones cannot hold the adapter's few
	// connection slots. Default 30s.
	IdleTimeout time.Duration
	// SubscribeTimeout disconnects a central that connected to a reader's
	// service and has not subscribed in this time (see inboundWatch).
	// Default 10s; a phone subscribes within a second or two.
	SubscribeTimeout time.Duration
	// DialTimeout bounds one connection attempt. A reader stops
	// advertising and scanning while it dials, so this is also the longest
	// it is deaf to other keys for one that has gone. Default 1s: a phone
	// advertises several times a second.
	DialTimeout time.Duration
	// Linger bounds how long a link closed right after it notified its
	// last message waits for the peer to hang up. Default 1s.
	Linger time.Duration
	Logger *slog.Logger
}

func (o GATTOptions) withDefaults() GATTOptions {
	if o.MTU < protocol.MinMTU || o.MTU > goble.MaxMTU {
		o.MTU = protocol.DefaultMTU
	}
	if o.OfferInterval <= 0 {
		o.OfferInterval = 100 * time.Millisecond
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.SubscribeTimeout <= 0 {
		o.SubscribeTimeout = 10 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = time.Second
	}
	if o.Linger <= 0 {
		o.Linger = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// fragments cuts msg for a link whose ATT_MTU is the smaller of what the
// peer granted and what we asked for. protocol.Fragment panics on what its
// format cannot carry, so that is refused here first.
func fragments(msg []byte, granted, asked int) ([][]byte, error) {
	switch {
	case len(msg) > MaxMessage:
		return nil, ErrMessageTooLong
	case len(msg) == 0 || len(msg) > protocol.MaxMessageSize:
		return nil, fmt.Errorf("ble: a %d-byte message cannot go over GATT, which carries 1 to %d bytes", len(msg), protocol.MaxMessageSize)
	}
	return protocol.Fragment(msg, min(granted, asked)), nil
}

// runCtx runs f in its own goroutine, one at a time per sem, and stops
// waiting when ctx ends: go-ble's calls take no context and can block as
// long as the connection lives. Closing the link ends an abandoned f.
func runCtx(ctx context.Context, sem chan struct{}, f func() error) error {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	errc := make(chan error, 1)
	go func() {
		defer func() { <-sem }()
		errc <- f()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// foundGuard keeps a radio from calling found after Listen returned, even
// when go-ble delivers a late advert or subscription.
type foundGuard struct {
	mu      sync.RWMutex
	f       func(Candidate)
	stopped bool
}

func (g *foundGuard) found(c Candidate) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if !g.stopped {
		g.f(c)
	}
}

func (g *foundGuard) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
}

// HCIIndex returns N for an adapter binding "hciN".
func HCIIndex(radio string) (int, error) {
	var n int
	if _, err := fmt.Sscanf(radio, "hci%d", &n); err != nil || fmt.Sprintf("hci%d", n) != radio {
		return 0, fmt.Errorf("ble: %q is not an adapter name like hci0", radio)
	}
	return n, nil
}
