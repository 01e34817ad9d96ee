package hcisim

import (
	"encoding/binary"
)

// commandLocked acts on one HCI command and queues its Command Complete or
// Command Status, and any events that follow from it.
func (c *Controller) commandLocked(op uint16, p []byte) {
	// want checks the parameter length; a wrong one is the host's error.
	want := func(n int) bool {
		if len(p) != n {
			c.violate("command 0x%04X with %d bytes of parameters, want %d", op, len(p), n)
			c.host.push(commandComplete(op, statusInvalidParameters))
			return false
		}
		return true
	}
	ok := func(ret ...byte) { c.host.push(commandComplete(op, append([]byte{statusOK}, ret...)...)) }
	fail := func(status byte) { c.host.push(commandComplete(op, status)) }

	switch op {
	case opReset:
		for h := range c.conns {
			c.endLocked(h, 0, statusConnectionTimeout)
		}
		c.advOn, c.scanOn, c.initiating = false, false, nil
		c.advData, c.scanRsp = nil, nil
		ok()
	case opSetEventMask, opLESetEventMask:
		if want(8) {
			ok()
		}
	case opWriteLEHostSupport:
		if want(2) {
			ok()
		}
	case opReadBDADDR:
		ok(c.public[:]...)
	case opReadBufferSize:
		// ACL and SCO buffers of BR/EDR, which an LE-only controller
		// does not have: the LE buffers are read separately.
		ok(0, 0, 0, 0, 0, 0, 0)
	case opLEReadBufferSize:
		ok(append(le16(uint16(c.opts.ACLBufferSize)), byte(c.opts.ACLBuffers))...)
	case opLEReadAdvTxPower:
		ok(0)
	case opLESetRandomAddress:
		if want(6) {
			copy(c.random[:], p)
			ok()
		}
	case opLESetAdvParams:
		if !want(15) {
			return
		}
		if c.advOn {
			fail(statusCommandDisallowed)
			return
		}
		c.advType, c.advOwnType = p[4], p[5]
		ok()
	case opLESetAdvData, opLESetScanRspData:
		if !want(32) {
			return
		}
		n := int(p[0])
		if n > 31 {
			fail(statusInvalidParameters)
			return
		}
		data := append([]byte(nil), p[1:1+n]...)
		if op == opLESetAdvData {
			c.advData = data
		} else {
			c.scanRsp = data
		}
		ok()
	case opLESetAdvEnable:
		if !want(1) {
			return
		}
		c.advOn = p[0] == 1
		ok()
	case opLESetScanParams:
		if !want(7) {
			return
		}
		if c.scanOn {
			fail(statusCommandDisallowed)
			return
		}
		c.scanActive = p[0] == 1
		ok()
	case opLESetScanEnable:
		if !want(2) {
			return
		}
		on := p[0] == 1
		if on && !c.scanOn {
			clear(c.reported) // the duplicate filter starts afresh
		}
		c.scanOn, c.filterDup = on, p[1] == 1
		ok()
	case opLECreateConnection:
		if want(25) {
			c.createConnectionLocked(p)
		}
	case opLECreateConnCancel:
		c.cancelConnectionLocked()
	case opDisconnect:
		if !want(3) {
			return
		}
		h := binary.LittleEndian.Uint16(p)
		if c.conns[h] == nil {
			c.host.push(commandStatus(op, statusUnknownConnection))
			return
		}
		c.host.push(commandStatus(op, statusOK))
		c.endLocked(h, statusLocalHostEnded, p[2])
	case opReadRSSI:
		if !want(2) {
			return
		}
		h := binary.LittleEndian.Uint16(p)
		l := c.conns[h]
		if l == nil {
			c.host.push(commandComplete(op, append([]byte{statusUnknownConnection}, p[:2]...)...))
			return
		}
		rssi, _ := c.air.hears(c, l.peer)
		ok(p[0], p[1], byte(int8(rssi)))
	case opLELTKNegativeReply:
		if want(2) {
			ok(p[:2]...)
		}
	default:
		fail(statusUnknownCommand)
	}
}

// createConnectionLocked starts initiating: the connection completes at
// the peer's next connectable advertising event (Air.tickLocked).
func (c *Controller) createConnectionLocked(p []byte) {
	switch {
	case c.initiating != nil:
		c.host.push(commandStatus(opLECreateConnection, statusCommandDisallowed))
		return
	case c.opts.Faults.RefuseConnectWhileScanning && c.scanOn,
		c.opts.Faults.RefuseConnectWhileAdvertising && c.advOn:
		c.host.push(commandStatus(opLECreateConnection, statusCommandDisallowed))
		return
	case p[4] != 0:
		// Connecting to whoever is on the white list is not modelled.
		c.violate("LE Create Connection with initiator filter policy %d", p[4])
		c.host.push(commandStatus(opLECreateConnection, statusInvalidParameters))
		return
	}
	var peer Address
	peer.Type = p[5]
	copy(peer.Addr[:], p[6:12])
	c.initiating = &initiation{peer: peer, ownType: p[12]}
	c.host.push(commandStatus(opLECreateConnection, statusOK))
}

// cancelConnectionLocked ends a pending create connection: the controller
// answers the cancel, then reports the connection as not established
// [Vol 4, Part E, 7.8.13].
func (c *Controller) cancelConnectionLocked() {
	in := c.initiating
	if in == nil {
		c.host.push(commandComplete(opLECreateConnCancel, statusCommandDisallowed))
		return
	}
	if c.opts.Faults.ConnectOnCancel {
		if peer := c.air.reachable(c, in.peer); peer != nil {
			c.air.connectLocked(c, peer)
			c.host.push(commandComplete(opLECreateConnCancel, statusCommandDisallowed))
			return
		}
	}
	c.initiating = nil
	c.host.push(commandComplete(opLECreateConnCancel, statusOK))
	c.host.push(connectionComplete(statusUnknownConnection, 0, true, in.peer))
}

// reachable returns the controller that from can reach at addr (its
// public address or the one it advertises with), powered on and in range.
func (a *Air) reachable(from *Controller, addr Address) *Controller {
	for _, c := range a.ctrls {
		if c == from || c.off || (c.Addr() != addr && c.advAddr() != addr) {
			continue
		}
		if _, ok := a.hears(from, c); ok {
			return c
		}
	}
	return nil
}

// connectLocked connects initiator to adv, which stops advertising, as a
// controller does when it accepts a connection.
func (a *Air) connectLocked(initiator, adv *Controller) {
	own := initiator.Addr()
	if initiator.initiating.ownType == AddrRandom {
		own = Address{Type: AddrRandom, Addr: initiator.random}
	}
	peerAddr := adv.advAddr()
	initiator.initiating = nil
	adv.advOn = false
	hm, hs := initiator.newHandleLocked(), adv.newHandleLocked()
	initiator.conns[hm] = &link{peer: adv, peerHandle: hs, master: true}
	adv.conns[hs] = &link{peer: initiator, peerHandle: hm}
	initiator.host.push(connectionComplete(statusOK, hm, true, peerAddr))
	adv.host.push(connectionComplete(statusOK, hs, false, own))
}

func (c *Controller) newHandleLocked() uint16 {
	for c.conns[c.nextHandle] != nil {
		c.nextHandle = (c.nextHandle + 1) & 0x0EFF
	}
	h := c.nextHandle
	c.nextHandle = (c.nextHandle + 1) & 0x0EFF
	return h
}

// connectionComplete builds an LE Connection Complete event
// [Vol 4, Part E, 7.7.65.1]: 7.5 ms interval, no latency, 720 ms
// supervision timeout.
func connectionComplete(status byte, handle uint16, master bool, peer Address) []byte {
	role := byte(1)
	if master {
		role = 0
	}
	p := []byte{subLEConnectionComplete, status}
	p = append(p, le16(handle)...)
	p = append(p, role, peer.Type)
	p = append(p, peer.Addr[:]...)
	p = append(p, le16(0x0006)...)
	p = append(p, le16(0x0000)...)
	p = append(p, le16(0x0048)...)
	p = append(p, 0x00)
	return event(evtLEMeta, p)
}

// reportLocked reports adv's advertising event to c's host, and its scan
// response when c scans actively [Vol 4, Part E, 7.7.65.2].
func (c *Controller) reportLocked(adv *Controller, rssi int) {
	addr := adv.advAddr()
	if c.filterDup && c.reported[addr] {
		return
	}
	c.reported[addr] = true
	c.host.push(advertisingReport(adv.advType, addr, adv.advData, rssi))
	if c.scanActive && (adv.advType == advInd || adv.advType == advScanInd) {
		c.host.push(advertisingReport(reportScanRsp, addr, adv.scanRsp, rssi))
	}
}

func advertisingReport(typ byte, addr Address, data []byte, rssi int) []byte {
	p := []byte{subLEAdvertisingReport, 1, typ, addr.Type}
	p = append(p, addr.Addr[:]...)
	p = append(p, byte(len(data)))
	p = append(p, data...)
	p = append(p, byte(int8(rssi)))
	return event(evtLEMeta, p)
}
