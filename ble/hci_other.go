//go:build !linux

package ble

import goble "github.com/go-ble/ble"

// OpenHCI is unavailable off Linux: go-ble drives adapters through Linux's
// HCI sockets.
func OpenHCI(index int) (goble.Device, error) { return nil, ErrNoHCI }
