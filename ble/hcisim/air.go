package hcisim

import (
	"fmt"
	"sync"
	"time"
)

// DefaultRSSI is what controllers hear of each other until SetRSSI says
// otherwise: a phone held about a metre from the reader.
const DefaultRSSI = -50

// AdvInterval is how often the air carries each advertiser's advertising
// event to the scanners in range, and how often a pending create
// connection is tried: go-ble's default advertising interval.
const AdvInterval = 20 * time.Millisecond

// Air is the space the controllers share. Every controller hears every
// other one (at DefaultRSSI) unless SetRSSI or OutOfRange says otherwise.
type Air struct {
	mu     sync.Mutex // guards the air and every controller's state
	ctrls  []*Controller
	rssi   map[pair]*rssiSeq
	next   uint32 // for addresses
	done   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

// pair names two controllers, in either order.
type pair struct{ a, b *Controller }

func pairOf(a, b *Controller) pair {
	if a.id > b.id {
		a, b = b, a
	}
	return pair{a, b}
}

// rssiSeq is a pair's signal: one value, or a sequence that successive
// reports cycle through (a person walking, or noise), or none at all.
type rssiSeq struct {
	values []int
	i      int
	out    bool // out of range
}

func (s *rssiSeq) next() int {
	v := s.values[s.i%len(s.values)]
	s.i++
	return v
}

// NewAir returns an empty air, already carrying advertising events.
func NewAir() *Air {
	a := &Air{rssi: make(map[pair]*rssiSeq), done: make(chan struct{})}
	a.wg.Go(a.run)
	return a
}

// Close stops the air and powers every controller off.
func (a *Air) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	close(a.done)
	ctrls := append([]*Controller(nil), a.ctrls...)
	a.mu.Unlock()
	a.wg.Wait()
	for _, c := range ctrls {
		c.host.Close()
	}
}

// SetRSSI sets the signal strength, in dBm, with which a and b hear each
// other. With several values, successive advertising reports and RSSI
// reads cycle through them.
func (a *Air) SetRSSI(x, y *Controller, dBm ...int) {
	if len(dBm) == 0 {
		panic("hcisim: SetRSSI needs at least one value")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rssi[pairOf(x, y)] = &rssiSeq{values: append([]int(nil), dBm...)}
}

// OutOfRange takes x and y out of each other's range: they stop hearing
// each other's adverts, and a connection between them drops as a
// supervision timeout.
func (a *Air) OutOfRange(x, y *Controller) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rssi[pairOf(x, y)] = &rssiSeq{out: true}
	for h, l := range x.conns {
		if l.peer == y {
			x.dropLocked(h, statusConnectionTimeout)
		}
	}
}

// hears reports whether x and y are in range, and the signal of the next
// report between them.
func (a *Air) hears(x, y *Controller) (int, bool) {
	s := a.rssi[pairOf(x, y)]
	switch {
	case s == nil:
		return DefaultRSSI, true
	case s.out:
		return 0, false
	}
	return s.next(), true
}

// run carries advertising events and tries pending connections.
func (a *Air) run() {
	t := time.NewTicker(AdvInterval)
	defer t.Stop()
	for {
		select {
		case <-a.done:
			return
		case <-t.C:
			a.mu.Lock()
			a.tickLocked()
			a.mu.Unlock()
		}
	}
}

// tickLocked is one advertising event of every advertiser: scanners in
// range report it (and, scanning actively, its scan response), and an
// initiator waiting for a connectable advertiser connects to it.
func (a *Air) tickLocked() {
	for _, adv := range a.ctrls {
		if !adv.advOn {
			continue
		}
		for _, c := range a.ctrls {
			if c == adv || c.off {
				continue
			}
			if c.initiating != nil && adv.advType == advInd && c.initiating.peer == adv.advAddr() {
				if _, ok := a.hears(adv, c); ok {
					a.connectLocked(c, adv)
					if !adv.advOn {
						break // connectable advertising ends with the connection
					}
					continue
				}
			}
			if c.scanOn {
				if rssi, ok := a.hears(adv, c); ok {
					c.reportLocked(adv, rssi)
				}
			}
		}
	}
}

// NewController adds a controller with a fresh public address.
func (a *Air) NewController(opts Options) *Controller {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	c := newController(a, len(a.ctrls), a.next, opts.withDefaults())
	a.ctrls = append(a.ctrls, c)
	return c
}

// Address is a device address as a host prints it: most significant byte
// first, lower case, with its type.
type Address struct {
	Type byte
	Addr [6]byte // wire order: least significant byte first
}

// String prints the address as go-ble and BlueZ do.
func (d Address) String() string {
	b := d.Addr
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[5], b[4], b[3], b[2], b[1], b[0])
}
