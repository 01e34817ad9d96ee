//go:build linux

package ble

import (
	"fmt"
	"io"

	goble "github.com/go-ble/ble"
	"github.com/go-ble/ble/linux"
	"github.com/go-ble/ble/linux/hci"
)

// OpenHCI opens the local Bluetooth adapter hciN as a go-ble Device, to be
// handed to NewGATTRadio or NewGATTKey (never set as go-ble's default).
// The GAP name is generic: it is readable by anyone who connects.
func OpenHCI(index int) (goble.Device, error) {
	d, err := linux.NewDeviceWithName("Postern", goble.OptDeviceID(index))
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
	d, err := linux.NewDeviceWithName("Postern", hci.OptTransport(rwc))
	if err != nil {
		return nil, fmt.Errorf("ble: open HCI transport: %w", err)
	}
	return d, nil
}
