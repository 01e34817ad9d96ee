// Package hcisim is a software Bluetooth LE controller for tests. Each
// Controller speaks HCI (Bluetooth Core Specification, Vol 4, Part E) to one
// host over an io.ReadWriteCloser, one HCI packet per Read and per Write, as
// Linux's HCI user channel does; an Air links the controllers, so what one
// advertises the others' scans hear, a create connection reaches an
// advertiser, and ACL data crosses a connection under the controller's
// buffer flow control.
//
// It implements the commands and events a host such as go-ble uses for LE:
// reset, addresses, buffer sizes, event masks, scan and advertising
// parameters, data and enable, create connection and its cancel, ACL data
// with Number Of Completed Packets, read RSSI and disconnect. It is written
// from the specification, not from any host's code, so a host's mistakes
// show up as failures (and as Violations when the host breaks a rule the
// controller can see) instead of being mirrored.
//
// What it does not model: timing beyond the order of events, radio
// frequency behaviour, packet loss, encryption and pairing, and the quirks
// of real controllers other than the few in Faults.
package hcisim

import (
	"encoding/binary"
	"fmt"
)

// HCI packet types [Vol 4, Part A, 2].
const (
	pktCommand = 0x01
	pktACL     = 0x02
	pktEvent   = 0x04
)

// Event codes [Vol 4, Part E, 7.7].
const (
	evtDisconnectionComplete = 0x05
	evtCommandComplete       = 0x0E
	evtCommandStatus         = 0x0F
	evtNumCompletedPackets   = 0x13
	evtLEMeta                = 0x3E

	subLEConnectionComplete = 0x01
	subLEAdvertisingReport  = 0x02
)

// Command opcodes: OGF<<10 | OCF [Vol 4, Part E, 7].
const (
	opDisconnect         = 0x01<<10 | 0x0006
	opSetEventMask       = 0x03<<10 | 0x0001
	opReset              = 0x03<<10 | 0x0003
	opWriteLEHostSupport = 0x03<<10 | 0x006D
	opReadBufferSize     = 0x04<<10 | 0x0005
	opReadBDADDR         = 0x04<<10 | 0x0009
	opReadRSSI           = 0x05<<10 | 0x0005
	opLESetEventMask     = 0x08<<10 | 0x0001
	opLEReadBufferSize   = 0x08<<10 | 0x0002
	opLESetRandomAddress = 0x08<<10 | 0x0005
	opLESetAdvParams     = 0x08<<10 | 0x0006
	opLEReadAdvTxPower   = 0x08<<10 | 0x0007
	opLESetAdvData       = 0x08<<10 | 0x0008
	opLESetScanRspData   = 0x08<<10 | 0x0009
	opLESetAdvEnable     = 0x08<<10 | 0x000A
	opLESetScanParams    = 0x08<<10 | 0x000B
	opLESetScanEnable    = 0x08<<10 | 0x000C
	opLECreateConnection = 0x08<<10 | 0x000D
	opLECreateConnCancel = 0x08<<10 | 0x000E
	opLELTKNegativeReply = 0x08<<10 | 0x001B
)

// Error codes [Vol 1, Part F].
const (
	statusOK                = 0x00
	statusUnknownCommand    = 0x01
	statusUnknownConnection = 0x02
	statusInvalidParameters = 0x12
	statusLocalHostEnded    = 0x16
	statusCommandDisallowed = 0x0C
	statusConnectionTimeout = 0x08
)

// Advertising PDU types as LE Set Advertising Parameters names them, and
// the event types an LE Advertising Report gives them [Vol 4, Part E,
// 7.8.5 and 7.7.65.2].
const (
	advInd     = 0x00
	advScanInd = 0x02

	reportScanRsp = 0x04
)

// Packet boundary flags of an ACL data packet [Vol 4, Part E, 5.4.2].
const (
	pbFirstNonFlushable = 0x00 // host to controller: start of an L2CAP PDU
	pbContinuing        = 0x01
	pbFirstFlushable    = 0x02 // controller to host: start of an L2CAP PDU
)

// Address types, as LE events and commands carry them.
const (
	AddrPublic = 0x00
	AddrRandom = 0x01
)

// event builds an HCI event packet.
func event(code byte, params ...[]byte) []byte {
	b := []byte{pktEvent, code, 0}
	for _, p := range params {
		b = append(b, p...)
	}
	if len(b)-3 > 255 {
		panic(fmt.Sprintf("hcisim: event 0x%02X with %d bytes of parameters", code, len(b)-3))
	}
	b[2] = byte(len(b) - 3)
	return b
}

func commandComplete(op uint16, ret ...byte) []byte {
	return event(evtCommandComplete, []byte{1}, le16(op), ret)
}

func commandStatus(op uint16, status byte) []byte {
	return event(evtCommandStatus, []byte{status, 1}, le16(op))
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// acl builds an ACL data packet.
func acl(handle uint16, pb byte, data []byte) []byte {
	b := []byte{pktACL}
	b = binary.LittleEndian.AppendUint16(b, handle&0x0FFF|uint16(pb)<<12)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}
