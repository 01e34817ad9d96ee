package hcisim

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// Options shape a controller. The zero value is a plain controller with
// small LE buffers, which makes a host fragment and flow-control its data.
type Options struct {
	// ACLBufferSize and ACLBuffers are what LE Read Buffer Size reports:
	// the largest ACL data packet the host may send and how many may be in
	// the controller at once. Defaults 27 and 8, a Bluetooth 4.0 controller.
	ACLBufferSize int
	ACLBuffers    int
	// LinkPayload is the most ACL data the controller delivers to its host
	// in one packet, as one link-layer packet carries. Default 27.
	LinkPayload int
	// Faults are quirks of real controllers a host must cope with.
	Faults Faults
}

// Faults are behaviours of real controllers, off by default.
type Faults struct {
	// RefuseConnectWhileScanning and RefuseConnectWhileAdvertising make LE
	// Create Connection fail with Command Disallowed while the controller
	// scans or advertises, as many controllers do (the specification leaves
	// which states combine to each controller).
	RefuseConnectWhileScanning    bool
	RefuseConnectWhileAdvertising bool
	// ConnectOnCancel completes a pending connection at the moment the host
	// cancels it (if the peer is in range, advertising or not: its last
	// advert was answered), then refuses the cancel with Command
	// Disallowed: the race the specification allows when a connection
	// completes just as its cancel arrives.
	ConnectOnCancel bool
}

func (o Options) withDefaults() Options {
	if o.ACLBufferSize <= 0 {
		o.ACLBufferSize = 27
	}
	if o.ACLBuffers <= 0 {
		o.ACLBuffers = 8
	}
	if o.LinkPayload <= 0 {
		o.LinkPayload = 27
	}
	return o
}

// Controller is one simulated LE controller on an Air. Its host talks to it
// through Host.
type Controller struct {
	air  *Air
	id   int
	opts Options
	host *hostPort

	// The state below is guarded by air.mu.
	off        bool
	public     [6]byte
	random     [6]byte
	advType    byte
	advOwnType byte
	advData    []byte
	scanRsp    []byte
	advOn      bool
	scanOn     bool
	scanActive bool
	filterDup  bool
	reported   map[Address]bool // for duplicate filtering
	initiating *initiation
	conns      map[uint16]*link
	nextHandle uint16
	inFlight   int               // ACL packets the host sent and the controller has not completed
	held       map[uint16]uint16 // completions withheld by HoldCompletedPackets
	holding    bool
	violations []string
	commands   []uint16
}

type initiation struct {
	peer    Address
	ownType byte
}

// link is one end of a connection.
type link struct {
	peer       *Controller
	peerHandle uint16
	master     bool
	inFlight   int // this connection's share of inFlight
}

func newController(a *Air, id int, n uint32, opts Options) *Controller {
	c := &Controller{
		air:        a,
		id:         id,
		opts:       opts,
		reported:   make(map[Address]bool),
		conns:      make(map[uint16]*link),
		held:       make(map[uint16]uint16),
		nextHandle: 0x0040,
	}
	// A locally administered public-looking address, unique on this air.
	c.public = [6]byte{byte(n), byte(n >> 8), byte(n >> 16), 0x00, 0x5E, 0xC0}
	c.host = newHostPort(c)
	return c
}

// Host returns the transport the host stack opens: go-ble's linux/hci
// takes it with OptTransport. Closing it powers the controller off.
func (c *Controller) Host() io.ReadWriteCloser { return c.host }

// Addr returns the controller's public address.
func (c *Controller) Addr() Address { return Address{Type: AddrPublic, Addr: c.public} }

// advAddr is the address the controller advertises with.
func (c *Controller) advAddr() Address {
	if c.advOwnType == AddrRandom {
		return Address{Type: AddrRandom, Addr: c.random}
	}
	return c.Addr()
}

// Advertising reports whether the controller is advertising now.
func (c *Controller) Advertising() bool {
	c.air.mu.Lock()
	defer c.air.mu.Unlock()
	return c.advOn
}

// Scanning reports whether the controller is scanning now.
func (c *Controller) Scanning() bool {
	c.air.mu.Lock()
	defer c.air.mu.Unlock()
	return c.scanOn
}

// Connections returns how many connections the controller has now.
func (c *Controller) Connections() int {
	c.air.mu.Lock()
	defer c.air.mu.Unlock()
	return len(c.conns)
}

// BuffersInUse returns how many ACL data packets from the host the
// controller holds: sent and not yet reported completed.
func (c *Controller) BuffersInUse() int {
	c.air.mu.Lock()
	defer c.air.mu.Unlock()
	return c.inFlight
}

// Violations returns the rules of HCI the host broke, such as sending more
// ACL data than the controller has buffers for.
func (c *Controller) Violations() []string {
	c.air.mu.Lock()
	defer c.air.mu.Unlock()
	return slices.Clone(c.violations)
}

// Commands returns the opcodes of the commands the host sent, in order.
func (c *Controller) Commands() []uint16 {
	c.air.mu.Lock()
	defer c.air.mu.Unlock()
	return slices.Clone(c.commands)
}

// HoldCompletedPackets withholds (true) or releases (false) the Number Of
// Completed Packets events: a slow link, whose packets wait for the
// peer's acknowledgement over the air. Released completions are reported
// at once.
func (c *Controller) HoldCompletedPackets(hold bool) {
	c.air.mu.Lock()
	defer c.air.mu.Unlock()
	c.holding = hold
	if hold {
		return
	}
	handles := make([]uint16, 0, len(c.held))
	for h := range c.held {
		handles = append(handles, h)
	}
	slices.Sort(handles)
	for _, h := range handles {
		c.completeLocked(h, c.held[h])
	}
	clear(c.held)
}

// SendEvent hands the host a raw HCI event packet (type byte included), for
// tests of how a host copes with events it did not expect.
func (c *Controller) SendEvent(pkt []byte) {
	c.host.push(append([]byte(nil), pkt...))
}

func (c *Controller) violate(format string, args ...any) {
	c.violations = append(c.violations, fmt.Sprintf(format, args...))
}

// fromHost acts on one packet from the host.
func (c *Controller) fromHost(pkt []byte) error {
	c.air.mu.Lock()
	defer c.air.mu.Unlock()
	if c.off {
		return fmt.Errorf("hcisim: controller is powered off")
	}
	if len(pkt) == 0 {
		c.violate("empty packet")
		return nil
	}
	switch pkt[0] {
	case pktCommand:
		if len(pkt) < 4 || int(pkt[3]) != len(pkt)-4 {
			c.violate("malformed command % X", pkt)
			return nil
		}
		op := binary.LittleEndian.Uint16(pkt[1:])
		c.commands = append(c.commands, op)
		c.commandLocked(op, pkt[4:])
	case pktACL:
		c.aclLocked(pkt[1:])
	default:
		c.violate("packet of type 0x%02X from the host", pkt[0])
	}
	return nil
}

// powerOff drops every connection and stops the controller for good.
func (c *Controller) powerOff() {
	c.air.mu.Lock()
	defer c.air.mu.Unlock()
	if c.off {
		return
	}
	for h := range c.conns {
		c.dropLocked(h, statusConnectionTimeout)
	}
	c.off = true
	c.advOn, c.scanOn, c.initiating = false, false, nil
}
