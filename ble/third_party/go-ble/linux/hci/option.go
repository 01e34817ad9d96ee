package hci

import (
	"errors"
	"github.com/go-ble/ble/linux/hci/evt"
	"io"
	"time"

	"github.com/go-ble/ble"

	"github.com/go-ble/ble/linux/hci/cmd"
)

// SetDeviceID sets HCI device ID.
func (h *HCI) SetDeviceID(id int) error {
	h.id = id
	return nil
}

// SetDialerTimeout sets dialing timeout for Dialer.
func (h *HCI) SetDialerTimeout(d time.Duration) error {
	h.dialerTmo = d
	return nil
}

// SetListenerTimeout sets dialing timeout for Listener.
func (h *HCI) SetListenerTimeout(d time.Duration) error {
	h.listenerTmo = d
	return nil
}

// SetConnParams overrides default connection parameters.
func (h *HCI) SetConnParams(param cmd.LECreateConnection) error {
	h.params.connParams = param
	return nil
}

// SetScanParams overrides default scanning parameters.
func (h *HCI) SetScanParams(param cmd.LESetScanParameters) error {
	h.params.scanParams = param
	return nil
}

// SetConnectedHandler sets handler to be called when new connection is established.
func (h *HCI) SetConnectedHandler(f func(complete evt.LEConnectionComplete)) error {
	h.connectedHandler = f
	return nil
}

// SetDisconnectedHandler sets handler to be called on disconnect.
func (h *HCI) SetDisconnectedHandler(f func(evt.DisconnectionComplete)) error {
	h.disconnectedHandler = f
	return nil
}

// SetAdvParams overrides default advertising parameters.
func (h *HCI) SetAdvParams(param cmd.LESetAdvertisingParameters) error {
	h.params.advParams = param
	return nil
}

// SetPeripheralRole is not supported
func (h *HCI) SetPeripheralRole() error {
	return errors.New("Not supported")
}

// SetCentralRole is not supported
func (h *HCI) SetCentralRole() error {
	return errors.New("Not supported")
}

// POSTERN PATCH (transport): OptTransport makes the HCI speak to its
// controller over rwc, one HCI packet (with its packet type byte) per Read
// and per Write, instead of opening a local adapter's HCI user channel
// socket. It lets go-ble's own HCI, L2CAP, ATT and GATT code run against a
// controller reached another way, such as a software controller in tests.
func OptTransport(rwc io.ReadWriteCloser) ble.Option {
	return func(opt ble.DeviceOption) error {
		h, ok := opt.(*HCI)
		if !ok {
			return errors.New("OptTransport: not a Linux HCI device")
		}
		h.skt = rwc
		return nil
	}
}
