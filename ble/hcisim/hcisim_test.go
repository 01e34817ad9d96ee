package hcisim

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"
)

// host is a raw HCI host for these tests: it writes packets and reads the
// controller's answers, with no stack in between.
type host struct {
	t    *testing.T
	c    *Controller
	pkts chan []byte
}

func newHost(t *testing.T, a *Air, opts Options) *host {
	t.Helper()
	h := &host{t: t, c: a.NewController(opts), pkts: make(chan []byte, 1024)}
	go func() {
		b := make([]byte, 1024)
		for {
			n, err := h.c.Host().Read(b)
			if err != nil {
				close(h.pkts)
				return
			}
			h.pkts <- append([]byte(nil), b[:n]...)
		}
	}()
	return h
}

func newTestAir(t *testing.T) *Air {
	a := NewAir()
	t.Cleanup(a.Close)
	return a
}

func (h *host) write(pkt []byte) {
	h.t.Helper()
	if _, err := h.c.Host().Write(pkt); err != nil {
		h.t.Fatal(err)
	}
}

func (h *host) command(op uint16, params ...byte) {
	h.t.Helper()
	h.write(append([]byte{pktCommand, byte(op), byte(op >> 8), byte(len(params))}, params...))
}

// next returns the next packet that matches keep, skipping the others.
func (h *host) next(what string, keep func([]byte) bool) []byte {
	h.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case p, ok := <-h.pkts:
			if !ok {
				h.t.Fatalf("controller closed while waiting for %s", what)
			}
			if keep(p) {
				return p
			}
		case <-timeout:
			h.t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// complete waits for the Command Complete (or Status) of op and returns
// its return parameters (status first).
func (h *host) complete(op uint16) []byte {
	h.t.Helper()
	p := h.next("the completion of a command", func(p []byte) bool {
		switch {
		case p[0] != pktEvent:
			return false
		case p[1] == evtCommandComplete:
			return binary.LittleEndian.Uint16(p[4:]) == op
		case p[1] == evtCommandStatus:
			return binary.LittleEndian.Uint16(p[5:]) == op
		}
		return false
	})
	if p[1] == evtCommandStatus {
		return p[3:4]
	}
	return p[6:]
}

func (h *host) ok(op uint16, params ...byte) []byte {
	h.t.Helper()
	h.command(op, params...)
	ret := h.complete(op)
	if ret[0] != statusOK {
		h.t.Fatalf("command 0x%04X: status 0x%02X", op, ret[0])
	}
	return ret[1:]
}

func leMeta(sub byte) func([]byte) bool {
	return func(p []byte) bool { return p[0] == pktEvent && p[1] == evtLEMeta && p[3] == sub }
}

func (h *host) advertise(data ...byte) {
	h.t.Helper()
	params := make([]byte, 15)
	params[14] = 0x07
	h.ok(opLESetAdvParams, params...)
	h.ok(opLESetAdvData, append(append([]byte{byte(len(data))}, data...), make([]byte, 31-len(data))...)...)
	h.ok(opLESetAdvEnable, 1)
}

func (h *host) scan(active bool) {
	h.t.Helper()
	typ := byte(0)
	if active {
		typ = 1
	}
	h.ok(opLESetScanParams, typ, 4, 0, 4, 0, 0, 0)
	h.ok(opLESetScanEnable, 1, 0)
}

func (h *host) createConnection(peer Address) {
	h.t.Helper()
	p := make([]byte, 25)
	p[5] = peer.Type
	copy(p[6:], peer.Addr[:])
	h.command(opLECreateConnection, p...)
}

// connect connects m (master) to s, which advertises, and returns their
// handles.
func connect(t *testing.T, m, s *host) (hm, hs uint16) {
	t.Helper()
	s.advertise(0x02, 0x01, 0x06)
	m.createConnection(s.c.Addr())
	if st := m.complete(opLECreateConnection); st[0] != statusOK {
		t.Fatalf("LE Create Connection: status 0x%02X", st[0])
	}
	em := m.next("the master's connection complete", leMeta(subLEConnectionComplete))
	es := s.next("the slave's connection complete", leMeta(subLEConnectionComplete))
	if em[4] != statusOK || em[7] != 0 || es[7] != 1 {
		t.Fatalf("connection complete: master % X, slave % X", em, es)
	}
	if !bytes.Equal(em[9:15], s.c.public[:]) || !bytes.Equal(es[9:15], m.c.public[:]) {
		t.Fatal("each side should see the other's address")
	}
	return binary.LittleEndian.Uint16(em[5:]), binary.LittleEndian.Uint16(es[5:])
}

func TestInitCommands(t *testing.T) {
	h := newHost(t, newTestAir(t), Options{ACLBufferSize: 251, ACLBuffers: 4})
	h.ok(opReset)
	if got := h.ok(opReadBDADDR); !bytes.Equal(got, h.c.public[:]) {
		t.Fatalf("Read BD_ADDR: got % X, want % X", got, h.c.public)
	}
	if got := h.ok(opLEReadBufferSize); !bytes.Equal(got, []byte{251, 0, 4}) {
		t.Fatalf("LE Read Buffer Size: got % X", got)
	}
	h.ok(opLESetEventMask, make([]byte, 8)...)
	h.command(0x3F<<10 | 0x0001) // a vendor command
	if st := h.complete(0x3F<<10 | 0x0001); st[0] != statusUnknownCommand {
		t.Fatalf("unknown command: status 0x%02X, want Unknown HCI Command", st[0])
	}
	h.command(opLESetAdvEnable, 1, 2) // one byte too many
	if st := h.complete(opLESetAdvEnable); st[0] != statusInvalidParameters {
		t.Fatalf("wrong length: status 0x%02X", st[0])
	}
	if v := h.c.Violations(); len(v) != 1 {
		t.Fatalf("violations %q, want the wrong length only", v)
	}
}

func TestAdvertisingReports(t *testing.T) {
	a := newTestAir(t)
	adv, scanner, far := newHost(t, a, Options{}), newHost(t, a, Options{}), newHost(t, a, Options{})
	a.SetRSSI(adv.c, scanner.c, -61, -63)
	a.OutOfRange(adv.c, far.c)
	adv.advertise(0x02, 0x01, 0x06)
	far.scan(true)
	scanner.scan(true)

	var rssi []int8
	for len(rssi) < 2 {
		p := scanner.next("an advertising report", leMeta(subLEAdvertisingReport))
		// subevent, count, type, address type, address, length, data, RSSI
		typ, addr, n := p[5], p[7:13], int(p[13])
		if !bytes.Equal(addr, adv.c.public[:]) {
			t.Fatalf("report from % X, want the advertiser", addr)
		}
		if typ == advInd {
			if !bytes.Equal(p[14:14+n], []byte{0x02, 0x01, 0x06}) {
				t.Fatalf("report data % X", p[14:14+n])
			}
			rssi = append(rssi, int8(p[14+n]))
		}
	}
	if rssi[0] != -61 || rssi[1] != -63 {
		t.Fatalf("RSSI %v, want the sequence set for the pair", rssi)
	}
	// Active scanning asks for the scan response too.
	scanner.next("a scan response", func(p []byte) bool { return leMeta(subLEAdvertisingReport)(p) && p[5] == reportScanRsp })
	select {
	case p := <-far.pkts:
		if leMeta(subLEAdvertisingReport)(p) {
			t.Fatal("a controller out of range heard the advert")
		}
	case <-time.After(5 * AdvInterval):
	}
}

func TestConnectionCarriesACLUnderFlowControl(t *testing.T) {
	a := newTestAir(t)
	m := newHost(t, a, Options{ACLBufferSize: 27, ACLBuffers: 2})
	s := newHost(t, a, Options{LinkPayload: 10})
	hm, hs := connect(t, m, s)
	if s.c.Advertising() {
		t.Fatal("the slave still advertises after accepting a connection")
	}

	// Start packet and a continuation; the slave's host gets them cut to
	// LinkPayload with the controller-to-host boundary flags.
	data := bytes.Repeat([]byte{0xAB}, 27)
	m.write(acl(hm, pbFirstNonFlushable, data))
	m.write(acl(hm, pbContinuing, data[:5]))
	var got []byte
	var flags []byte
	for len(got) < 32 {
		p := s.next("ACL data", func(p []byte) bool { return p[0] == pktACL })
		h := binary.LittleEndian.Uint16(p[1:])
		if h&0x0FFF != hs {
			t.Fatalf("ACL on handle 0x%03X, want 0x%03X", h&0x0FFF, hs)
		}
		flags = append(flags, byte(h>>12))
		got = append(got, p[5:]...)
	}
	if !bytes.Equal(flags, []byte{pbFirstFlushable, pbContinuing, pbContinuing, pbContinuing}) {
		t.Fatalf("boundary flags %v", flags)
	}
	for range 2 {
		p := m.next("Number Of Completed Packets", func(p []byte) bool { return p[0] == pktEvent && p[1] == evtNumCompletedPackets })
		if binary.LittleEndian.Uint16(p[4:]) != hm || binary.LittleEndian.Uint16(p[6:]) != 1 {
			t.Fatalf("completed packets % X", p)
		}
	}

	// Withheld completions: a third packet over two buffers is a violation.
	m.c.HoldCompletedPackets(true)
	m.write(acl(hm, pbFirstNonFlushable, data[:1]))
	m.write(acl(hm, pbFirstNonFlushable, data[:1]))
	m.write(acl(hm, pbFirstNonFlushable, data[:1]))
	if v := m.c.Violations(); len(v) != 1 {
		t.Fatalf("violations %q, want one for the overrun", v)
	}
	m.c.HoldCompletedPackets(false)
	m.next("the released completions", func(p []byte) bool {
		return p[0] == pktEvent && p[1] == evtNumCompletedPackets && binary.LittleEndian.Uint16(p[6:]) == 2
	})
}

func TestDisconnect(t *testing.T) {
	a := newTestAir(t)
	m, s := newHost(t, a, Options{}), newHost(t, a, Options{})
	hm, hs := connect(t, m, s)
	m.command(opDisconnect, byte(hm), byte(hm>>8), 0x13)
	if st := m.complete(opDisconnect); st[0] != statusOK {
		t.Fatalf("Disconnect: status 0x%02X", st[0])
	}
	isDisc := func(p []byte) bool { return p[0] == pktEvent && p[1] == evtDisconnectionComplete }
	if p := m.next("the master's disconnection", isDisc); binary.LittleEndian.Uint16(p[4:]) != hm || p[6] != statusLocalHostEnded {
		t.Fatalf("master: % X", p)
	}
	if p := s.next("the slave's disconnection", isDisc); binary.LittleEndian.Uint16(p[4:]) != hs || p[6] != 0x13 {
		t.Fatalf("slave: % X", p)
	}
	m.command(opDisconnect, byte(hm), byte(hm>>8), 0x13)
	if st := m.complete(opDisconnect); st[0] != statusUnknownConnection {
		t.Fatalf("second Disconnect: status 0x%02X, want Unknown Connection Identifier", st[0])
	}

	// Out of range is a supervision timeout on both sides.
	connect(t, m, s)
	a.OutOfRange(m.c, s.c)
	if p := m.next("the timeout", isDisc); p[6] != statusConnectionTimeout {
		t.Fatalf("master: % X", p)
	}
	if m.c.Connections() != 0 || s.c.Connections() != 0 {
		t.Fatal("connections left after the timeout")
	}
}

func TestCreateConnectionCancel(t *testing.T) {
	tests := []struct {
		name       string
		faults     Faults
		wantCancel byte
		wantConn   byte
	}{
		{name: "cancelled", wantCancel: statusOK, wantConn: statusUnknownConnection},
		{name: "completed as cancelled", faults: Faults{ConnectOnCancel: true}, wantCancel: statusCommandDisallowed, wantConn: statusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAir(t)
			m, s := newHost(t, a, Options{Faults: tt.faults}), newHost(t, a, Options{})
			// s advertises only data a scanner can see, not connectably:
			// the connection waits.
			params := make([]byte, 15)
			params[4] = advScanInd
			s.ok(opLESetAdvParams, params...)
			s.ok(opLESetAdvEnable, 1)
			m.createConnection(s.c.Addr())
			m.complete(opLECreateConnection)
			if tt.faults.ConnectOnCancel {
				// Connectable again just as the host gives up (whether
				// the air or the cancel gets there first, the
				// connection is made and the cancel refused).
				s.ok(opLESetAdvEnable, 0)
				s.ok(opLESetAdvParams, make([]byte, 15)...)
				s.ok(opLESetAdvEnable, 1)
			}
			m.command(opLECreateConnCancel)
			isCancel := func(p []byte) bool {
				return p[0] == pktEvent && p[1] == evtCommandComplete && binary.LittleEndian.Uint16(p[4:]) == opLECreateConnCancel
			}
			var conn, cancel []byte
			for conn == nil || cancel == nil {
				p := m.next("the cancel's completion and the connection complete", func(p []byte) bool {
					return isCancel(p) || leMeta(subLEConnectionComplete)(p)
				})
				if isCancel(p) {
					cancel = p
				} else {
					conn = p
				}
			}
			if cancel[6] != tt.wantCancel {
				t.Fatalf("cancel: status 0x%02X, want 0x%02X", cancel[6], tt.wantCancel)
			}
			if conn[4] != tt.wantConn {
				t.Fatalf("connection complete status 0x%02X, want 0x%02X", conn[4], tt.wantConn)
			}
			m.command(opLECreateConnCancel)
			if st := m.complete(opLECreateConnCancel); st[0] != statusCommandDisallowed {
				t.Fatalf("cancel with nothing pending: status 0x%02X", st[0])
			}
		})
	}
}

func TestConnectRefusedWhileScanning(t *testing.T) {
	a := newTestAir(t)
	m := newHost(t, a, Options{Faults: Faults{RefuseConnectWhileScanning: true}})
	s := newHost(t, a, Options{})
	m.scan(false)
	m.createConnection(s.c.Addr())
	if st := m.complete(opLECreateConnection); st[0] != statusCommandDisallowed {
		t.Fatalf("connect while scanning: status 0x%02X, want Command Disallowed", st[0])
	}
	m.ok(opLESetScanEnable, 0, 0)
	connect(t, m, s)
}

func TestPowerOff(t *testing.T) {
	a := newTestAir(t)
	m, s := newHost(t, a, Options{}), newHost(t, a, Options{})
	connect(t, m, s)
	m.c.Host().Close()
	p := s.next("the timeout", func(p []byte) bool { return p[0] == pktEvent && p[1] == evtDisconnectionComplete })
	if p[6] != statusConnectionTimeout {
		t.Fatalf("peer of a powered-off controller: % X", p)
	}
	if _, err := m.c.Host().Read(make([]byte, 16)); err != io.EOF {
		t.Fatalf("Read after power off: got %v, want EOF", err)
	}
}
