package ble

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// DefaultAirAddr is where `postern serve --radio sim` runs the simulated air.
const DefaultAirAddr = "127.0.0.1:7390"

// ErrAirClosed is returned by Serve and Listen once the air is closed.
var ErrAirClosed = errors.New("ble: simulated air closed")

// Faults are what the simulated air does to protocol messages, for fault
// tests. They apply to messages on a connected link, in both directions.
type Faults struct {
	// Latency is added to every message.
	Latency time.Duration
	// Drop is the probability, from 0 to 1, that a message is silently
	// lost, as a BLE packet lost past its retries would be.
	Drop float64
	// RelayDelay is the extra one-way delay a link-layer relay adds
	// (NCC Group, 2022): the key answers correctly, only late.
	RelayDelay time.Duration
}

// AirOptions configure an Air.
type AirOptions struct {
	Faults Faults
	// AdvertInterval is how often a key waiting at a reader is offered
	// again, as a real key's adverts repeat. Default 100ms.
	AdvertInterval time.Duration
	// IdleLimit is how long a key may wait at a reader that does not take
	// it up before the air hangs up on it, so a key left running (or a
	// stranger's connection) is not held forever. Default DefaultAirIdle.
	IdleLimit time.Duration
	// MaxKeys caps the keys connected at once; one more is told the air is
	// busy and hung up on. Default DefaultAirMaxKeys.
	MaxKeys int
	// Seed makes drops and addresses reproducible; zero picks one at random.
	Seed   uint64
	Logger *slog.Logger
}

// Defaults of AirOptions.
const (
	DefaultAirIdle    = time.Minute
	DefaultAirMaxKeys = 256
)

// Air is the simulated air: a loopback TCP service that soft keys join as
// peripherals and in-process readers listen on, so the reader loop runs the
// same code over it as over a real radio.
type Air struct {
	interval time.Duration
	idle     time.Duration
	maxKeys  int
	log      *slog.Logger
	done     chan struct{}
	wg       sync.WaitGroup

	mu        sync.Mutex
	faults    Faults
	rng       *rand.Rand
	readers   map[string]*airReader
	changed   chan struct{} // closed and replaced whenever readers changes
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	refusing  chan struct{} // one per refusal of a key over MaxKeys in flight

	doorInputs DoorInputFunc
}

// NewAir returns an air with no readers; attach readers with Radio and serve
// keys with Serve.
func NewAir(opts AirOptions) *Air {
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	interval := opts.AdvertInterval
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	idle, maxKeys := opts.IdleLimit, opts.MaxKeys
	if idle <= 0 {
		idle = DefaultAirIdle
	}
	if maxKeys <= 0 {
		maxKeys = DefaultAirMaxKeys
	}
	return &Air{
		interval:  interval,
		idle:      idle,
		maxKeys:   maxKeys,
		log:       log,
		done:      make(chan struct{}),
		faults:    opts.Faults,
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		readers:   make(map[string]*airReader),
		changed:   make(chan struct{}),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[net.Conn]struct{}),
		refusing:  make(chan struct{}, 16),
	}
}

// SetFaults changes the injected faults; messages already in flight keep
// the delay they were sent with.
func (a *Air) SetFaults(f Faults) {
	a.mu.Lock()
	a.faults = f
	a.mu.Unlock()
}

// Serve accepts soft keys on l until the air is closed (then it returns
// ErrAirClosed) or l fails.
func (a *Air) Serve(l net.Listener) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		l.Close()
		return ErrAirClosed
	}
	a.listeners[l] = struct{}{}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.listeners, l)
		a.mu.Unlock()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			select {
			case <-a.done:
				return ErrAirClosed
			default:
			}
			return fmt.Errorf("air: accept: %w", err)
		}
		a.mu.Lock()
		if a.closed {
			a.mu.Unlock()
			c.Close()
			return ErrAirClosed
		}
		if len(a.conns) >= a.maxKeys {
			a.mu.Unlock()
			a.refuseBusy(c)
			continue
		}
		a.conns[c] = struct{}{}
		a.wg.Add(1)
		a.mu.Unlock()
		go func() {
			defer a.wg.Done()
			a.serveKey(c)
			a.mu.Lock()
			delete(a.conns, c)
			a.mu.Unlock()
		}()
	}
}

// refuseBusy tells a key over MaxKeys that the air is full and hangs up. It
// reads the key's hello first, so the refusal is not lost to a reset; a
// few refusals run at once, and past them a key is hung up on at once.
func (a *Air) refuseBusy(c net.Conn) {
	a.log.Warn("air: too many keys connected: hanging up on one more", "max", a.maxKeys, "remote", c.RemoteAddr().String())
	select {
	case a.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-a.refusing }()
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Second))
		readFrame(io.LimitReader(c, 1<<10))
		writeAirErr(c, airErrBusy, fmt.Sprintf("the simulated air has %d keys connected, as many as it takes: try again", a.maxKeys))
	}()
}

// Close stops serving: listeners close, waiting keys are told the air is
// closing, links end, readers' Listen return. It waits for all of it.
func (a *Air) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		a.wg.Wait()
		return nil
	}
	a.closed = true
	close(a.done)
	for l := range a.listeners {
		l.Close()
	}
	for c := range a.conns {
		// Break reads still waiting for a hello; the key goroutines see
		// done and close their connections themselves.
		c.SetReadDeadline(time.Now())
	}
	a.mu.Unlock()
	a.wg.Wait()
	return nil
}

// delay is how long a message sent now takes across the air, or false when
// the air loses it.
func (a *Air) delay() (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.faults
	if f.Drop > 0 && (f.Drop >= 1 || a.rng.Float64() < f.Drop) {
		return 0, false
	}
	return f.Latency + f.RelayDelay, true
}

// newAddr draws a random resolvable private address, like a phone's: it
// names a key while it is in range and nothing more.
func (a *Air) newAddr() string {
	a.mu.Lock()
	v := a.rng.Uint64()
	a.mu.Unlock()
	b := [6]byte{byte(v>>40)&0x3f | 0x40, byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	return net.HardwareAddr(b[:]).String()
}

// sleep waits d, or less when the air closes; it reports whether to go on.
func (a *Air) sleep(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-a.done:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.done:
		return false
	}
}
