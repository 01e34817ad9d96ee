package hcisim

import (
	"encoding/binary"
)

// aclLocked takes one ACL data packet from the host: it holds one of the
// controller's buffers until the packet has crossed the connection, then
// the controller reports it completed [Vol 4, Part E, 4.1.1].
func (c *Controller) aclLocked(p []byte) {
	if len(p) < 4 {
		c.violate("ACL packet of %d bytes", len(p))
		return
	}
	hf := binary.LittleEndian.Uint16(p)
	h, pb := hf&0x0FFF, byte(hf>>12)&0x3
	n := int(binary.LittleEndian.Uint16(p[2:]))
	data := p[4:]
	switch {
	case n != len(data):
		c.violate("ACL packet says %d bytes and carries %d", n, len(data))
		return
	case n > c.opts.ACLBufferSize:
		c.violate("ACL packet of %d bytes, over the %d-byte buffers", n, c.opts.ACLBufferSize)
		return
	case pb != pbFirstNonFlushable && pb != pbContinuing:
		c.violate("ACL packet from the host with boundary flag %d", pb)
		return
	}
	l := c.conns[h]
	if l == nil {
		// A connection that has ended: its data is flushed, and its
		// buffers were freed when Disconnection Complete was reported.
		return
	}
	if c.inFlight >= c.opts.ACLBuffers {
		c.violate("ACL packet on handle 0x%03X with all %d buffers in use: the host ignored flow control", h, c.opts.ACLBuffers)
		return
	}
	c.inFlight++
	l.inFlight++

	// The peer's controller hands its host the data as the link layer
	// carried it, in packets of at most LinkPayload bytes.
	peer := l.peer
	first := pb == pbFirstNonFlushable
	for len(data) > 0 || first {
		k := min(len(data), peer.opts.LinkPayload)
		flag := byte(pbContinuing)
		if first {
			flag = pbFirstFlushable
		}
		peer.host.push(acl(l.peerHandle, flag, data[:k]))
		data = data[k:]
		first = false
	}

	if c.holding {
		c.held[h]++
		return
	}
	c.completeLocked(h, 1)
}

// completeLocked frees n of a connection's buffers and tells the host.
func (c *Controller) completeLocked(h uint16, n uint16) {
	l := c.conns[h]
	if l == nil || n == 0 {
		return
	}
	c.inFlight -= int(n)
	l.inFlight -= int(n)
	p := []byte{1}
	p = append(p, le16(h)...)
	p = append(p, le16(n)...)
	c.host.push(event(evtNumCompletedPackets, p))
}

// endLocked ends connection h: the host is told with localReason (none
// when 0), the peer's host with peerReason. The connection's buffers are
// free again without a Number Of Completed Packets event.
func (c *Controller) endLocked(h uint16, localReason, peerReason byte) {
	l := c.conns[h]
	if l == nil {
		return
	}
	c.forgetLocked(h)
	l.peer.forgetLocked(l.peerHandle)
	if localReason != 0 {
		c.host.push(disconnectionComplete(h, localReason))
	}
	l.peer.host.push(disconnectionComplete(l.peerHandle, peerReason))
}

// dropLocked ends connection h on both sides with the same reason, as a
// supervision timeout does.
func (c *Controller) dropLocked(h uint16, reason byte) {
	c.endLocked(h, reason, reason)
}

func (c *Controller) forgetLocked(h uint16) {
	if l := c.conns[h]; l != nil {
		c.inFlight -= l.inFlight
		delete(c.conns, h)
		delete(c.held, h)
	}
}

func disconnectionComplete(h uint16, reason byte) []byte {
	p := []byte{statusOK}
	p = append(p, le16(h)...)
	p = append(p, reason)
	return event(evtDisconnectionComplete, p)
}
