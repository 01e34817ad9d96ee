//go:build linux

package ble

import (
	"context"
	"testing"

	goble "github.com/go-ble/ble"
	"github.com/go-ble/ble/linux"

	"postern/ble/hcisim"
)

// Tests of the patches to go-ble (third_party/go-ble/PATCHES.md), each
// through go-ble's own stack on the software controller, and each failing
// on upstream's code.

// hciOf returns the go-ble HCI under a device the software air opened.
func hciOf(t *testing.T, dev goble.Device) *linux.Device {
	t.Helper()
	d, ok := dev.(*linux.Device)
	if !ok {
		t.Fatalf("device %T is not go-ble's Linux device", dev)
	}
	return d
}

// Patch adv-copy: an advertisement handed to the scan handler is not
// changed afterwards, when its scan response arrives.
func TestGoBLEAdvertisementIsNotChangedByItsScanResponse(t *testing.T) {
	air := newSimAir(t)
	scanner, _ := air.device(hcisim.Options{})
	adv, _ := air.device(hcisim.Options{})
	// Advertising data (flags) and a scan response (a complete local name).
	ad := []byte{0x02, 0x01, 0x06}
	sr := []byte{0x04, 0x09, 'd', 'o', 'g'}
	if err := hciOf(t, adv).HCI.SetAdvertisement(ad, sr); err != nil {
		t.Fatal(err)
	}
	if err := hciOf(t, adv).HCI.Advertise(); err != nil {
		t.Fatal(err)
	}

	got := make(chan goble.Advertisement, 64)
	ctx, cancel := context.WithCancel(guardCtx(t))
	defer cancel()
	go scanner.Scan(ctx, true, func(a goble.Advertisement) {
		select {
		case got <- a:
		default:
		}
	})
	var first goble.Advertisement
	for first == nil {
		if a := recv(t, got, "an advert"); a.LocalName() == "" {
			first = a // the advertising data alone
		}
	}
	for {
		if a := recv(t, got, "the advert with its scan response"); a.LocalName() == "dog" {
			break
		}
	}
	if name := first.LocalName(); name != "" {
		t.Fatalf("an advertisement already delivered changed under its handler: it now has the name %q of a later scan response", name)
	}
}
