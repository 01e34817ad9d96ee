//go:build !linux

package ble

import (
	"io"

	goble "github.com/go-ble/ble"
)

// OpenHCI is unavailable off Linux: go-ble drives adapters through Linux's
// HCI sockets.
func OpenHCI(index int) (goble.Device, error) { return nil, ErrNoHCI }

// OpenHCITransport is unavailable off Linux: go-ble's HCI host is Linux's.
func OpenHCITransport(rwc io.ReadWriteCloser) (goble.Device, error) { return nil, ErrNoHCI }
