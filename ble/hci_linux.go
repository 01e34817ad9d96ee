//go:build linux

package ble

import (
	"fmt"
	"io"
	"net"
	"sync/atomic"

	goble "github.com/go-ble/ble"
	"github.com/go-ble/ble/linux"
	"github.com/go-ble/ble/linux/hci"
	"github.com/go-ble/ble/linux/hci/cmd"
	"github.com/go-ble/ble/linux/hci/evt"
)

// OpenHCI opens the local Bluetooth adapter hciN as a go-ble Device, to be
// handed to NewGATTRadio or NewGATTKey (never set as go-ble's default).
// The GAP name is generic: it is readable by anyone who connects.
func OpenHCI(index int) (goble.Device, error) {
	d, err := openHCI(goble.OptDeviceID(index))
	if err != nil {
		return nil, fmt.Errorf("ble: open hci%d: %w", index, err)
	}
	return d, nil
}

// OpenHCITransport opens a controller reached over rwc, one HCI packet per
// Read and per Write, as OpenHCI opens a local adapter: the same go-ble
// stack above it, only the transport differs. The tests' software
// controller (package hcisim) is reached this way.
func OpenHCITransport(rwc io.ReadWriteCloser) (goble.Device, error) {
	d, err := openHCI(hci.OptTransport(rwc))
	if err != nil {
		return nil, fmt.Errorf("ble: open HCI transport: %w", err)
	}
	return d, nil
}

// hciDevice is go-ble's Linux device, which also tells a listening reader
// of the connections centrals open to it (see inboundWatch).
type hciDevice struct {
	*linux.Device
	watch atomic.Pointer[inboundWatch]
}

var _ inboundWatcher = (*hciDevice)(nil)

func openHCI(opts ...goble.Option) (*hciDevice, error) {
	d := &hciDevice{}
	opts = append(opts, goble.OptConnectHandler(d.connected), goble.OptDisconnectHandler(d.disconnected))
	dev, err := linux.NewDeviceWithName("Postern", opts...)
	if err != nil {
		return nil, err
	}
	d.Device = dev
	return d, nil
}

func (d *hciDevice) watchInbound(w *inboundWatch) { d.watch.Store(w) }

// connected runs on go-ble's event loop for every new connection.
func (d *hciDevice) connected(e evt.LEConnectionComplete) {
	const peripheral = 0x01 // the central connected to us
	w := d.watch.Load()
	if w == nil || e.Status() != 0 || e.Role() != peripheral {
		return
	}
	h := e.ConnectionHandle()
	w.connected(h, peerAddr(e.PeerAddress()), func() {
		// 0x13: remote user terminated the connection.
		d.HCI.Send(&cmd.Disconnect{ConnectionHandle: h, Reason: 0x13}, nil)
	})
}

// disconnected runs on go-ble's event loop for every connection's end.
func (d *hciDevice) disconnected(e evt.DisconnectionComplete) {
	if w := d.watch.Load(); w != nil {
		w.disconnected(e.ConnectionHandle())
	}
}

// peerAddr prints an address from an HCI event as go-ble's Conn does.
func peerAddr(a [6]byte) string {
	return net.HardwareAddr{a[5], a[4], a[3], a[2], a[1], a[0]}.String()
}
