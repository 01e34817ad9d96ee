//go:build linux

package ble

import (
	"fmt"

	goble "github.com/go-ble/ble"
	"github.com/go-ble/ble/linux"
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
