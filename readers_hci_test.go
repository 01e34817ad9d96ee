//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access/softkey"
	"postern/ble"
	"postern/ble/hcisim"
)

// The test in this file runs the appliance in this process with
// `--radio hci0,hci1`, its two adapters being software controllers
// (package hcisim) under go-ble's real stack, as a gateway between two
// doors. Keys are go-ble peripherals on a third controller.

// startApplianceOn runs serve in this process with the software
// controllers as its adapters hci0, hci1, … and waits until it answers.
func startApplianceOn(t *testing.T, data string, ctrls []*hcisim.Controller, extra ...string) *appliance {
	t.Helper()
	listen := freeAddr(t)
	a := &appliance{t: t, data: data, url: "http://" + listen}
	logs := writerFunc(func(p []byte) (int, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.out.Write(p)
	})
	open := func(i int) (goble.Device, error) {
		if i >= len(ctrls) {
			return nil, fmt.Errorf("no adapter hci%d", i)
		}
		return ble.OpenHCITransport(ctrls[i].Host())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := append([]string{"--data", data, "--listen", listen, "--public-url", a.url}, extra...)
	go func() { done <- serveWith(ctx, args, stdio{out: logs, err: logs}, open) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v\n%s", err, a.output())
			}
		case <-time.After(e2eGuard):
			t.Errorf("serve did not stop\n%s", a.output())
		}
	})
	deadline := time.Now().Add(e2eGuard)
	for {
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, a.output())
		default:
		}
		if resp, err := http.Get(a.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the appliance did not come up:\n%s", a.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeTwoAdaptersServeTwoDoors(t *testing.T) {
	air := hcisim.NewAir()
	t.Cleanup(air.Close)
	adapters := []*hcisim.Controller{air.NewController(hcisim.Options{}), air.NewController(hcisim.Options{})}
	data := t.TempDir()
	a := startApplianceOn(t, data, adapters, "--radio", "hci0,hci1")
	s := newE2ESite(t, a)
	front := s.accessPoint("Front door", "hci0")
	back := s.accessPoint("Back door", "hci1")
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": front})
	s.permit(map[string]any{"user_id": annID, "access_point_id": back})
	ann := s.register(annID, "ann")

	ctx, cancel := context.WithTimeout(context.Background(), e2eGuard)
	defer cancel()
	key, phoneCtrl, cred := s.phone(ctx, air, ann)

	// Ann at each door in turn: near that door's adapter, too far from the
	// other's for a direct reader, then as a backgrounded iPhone (it
	// connects to the reader it hears).
	visits := []struct {
		at        int64
		near, far *hcisim.Controller
		discovery ble.Discovery
	}{
		{front, adapters[0], adapters[1], ble.DiscoverAdvertise},
		{back, adapters[1], adapters[0], ble.DiscoverAdvertise},
		{front, adapters[0], adapters[1], ble.DiscoverConnect},
		{back, adapters[1], adapters[0], ble.DiscoverConnect},
	}
	for i, v := range visits {
		if i == 2 {
			// Away from both doors long enough for the next visit to be a
			// new stay at each.
			time.Sleep(ble.DefaultDebounce)
		}
		air.SetRSSI(phoneCtrl, v.near, -50)
		if v.discovery == ble.DiscoverConnect {
			air.OutOfRange(phoneCtrl, v.far)
		} else {
			air.SetRSSI(phoneCtrl, v.far, -90)
		}
		out, err := presentOnce(ctx, key, v.discovery, cred)
		if err != nil || !out.Result.Granted {
			t.Fatalf("visit %d: %+v, %v; want granted\n%s", i, out.Result, err, a.output())
		}
	}
	got := s.decisions("")
	if len(got) != len(visits) {
		t.Fatalf("%d decisions, want %d: %+v", len(got), len(visits), got)
	}
	for i, e := range got {
		if e.Kind != "access.granted" || e.AccessPointID != visits[i].at || e.RSSI != -50 {
			t.Errorf("decision %d: %+v, want granted at access point %d at -50 dBm", i, e, visits[i].at)
		}
	}
}

// phone is the registered soft key k on a phone of its own on the air:
// go-ble's peripheral on a new software controller.
func (s *e2eSite) phone(ctx context.Context, air *hcisim.Air, k e2eKey) (*ble.GATTKey, *hcisim.Controller, ble.KeyCredentialV2) {
	s.t.Helper()
	state, err := softkey.LoadV2(k.state)
	if err != nil {
		s.t.Fatal(err)
	}
	pass, err := os.ReadFile(s.pin)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := state.Open(strings.TrimRight(string(pass), "\r\n")); err != nil {
		s.t.Fatal(err)
	}
	cred, _, err := keyCredentialV2(state, time.Now(), func() error { return ble.ErrCannotUnlock })
	if err != nil {
		s.t.Fatal(err)
	}
	ctrl := air.NewController(hcisim.Options{})
	dev, err := ble.OpenHCITransport(ctrl.Host())
	if err != nil {
		s.t.Fatal(err)
	}
	return ble.NewGATTKey(dev, ble.GATTOptions{}), ctrl, cred
}

// presentOnce presents the key, retrying while the readers the appliance
// has just been told of start up (it polls its access points every
// second). The key speaks version 2 over the GATT link: its hello first.
func presentOnce(ctx context.Context, key *ble.GATTKey, d ble.Discovery, cred ble.KeyCredentialV2) (ble.KeyOutcomeV2, error) {
	for {
		try, cancel := context.WithTimeout(ctx, 3*time.Second)
		l, err := key.Present(try, ble.Presence{Discovery: d})
		if err == nil {
			out, err := ble.PresentKeyV2(try, l, cred)
			l.Close()
			cancel()
			return out, err
		}
		cancel()
		if !errors.Is(err, ble.ErrNotTakenUp) || ctx.Err() != nil {
			return ble.KeyOutcomeV2{}, err
		}
	}
}

// An installer calibrates a door whose adapter reads phones weak: the
// phone at the door is not taken up, Calibrate on the API measures it
// there, and once the appliance has handed the offset to the reader the
// same phone opens the door.
func TestServeCalibrateAtTheDoor(t *testing.T) {
	air := hcisim.NewAir()
	t.Cleanup(air.Close)
	adapter := air.NewController(hcisim.Options{})
	data := t.TempDir()
	a := startApplianceOn(t, data, []*hcisim.Controller{adapter}, "--radio", "hci0")
	s := newE2ESite(t, a)
	front := s.accessPoint("Front door", "hci0") // direct: -60 dBm
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": front})
	ann := s.register(annID, "ann")
	ctx, cancel := context.WithTimeout(context.Background(), e2eGuard)
	defer cancel()
	key, phoneCtrl, cred := s.phone(ctx, air, ann)
	air.SetRSSI(phoneCtrl, adapter, -70)

	p := make(chan error, 1)
	go func() {
		out, err := presentOnce(ctx, key, ble.DiscoverAdvertise, cred)
		if err == nil && !out.Result.Granted {
			err = fmt.Errorf("denied: %v", out.Result.Reason)
		}
		p <- err
	}()
	var cal struct {
		Offset int `json:"rssi_offset"`
		Median int `json:"median_dbm"`
	}
	path := fmt.Sprintf("/api/v1/access-points/%d/calibrate", front)
	for {
		// 409 until the reader runs and has heard the phone a few times.
		code := api(t, a.url, s.token, "POST", path, nil, &cal)
		if code == http.StatusOK {
			break
		}
		if code != http.StatusConflict || ctx.Err() != nil {
			t.Fatalf("calibrate: %d\n%s", code, a.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cal.Offset != 10 || cal.Median != -70 {
		t.Fatalf("calibration %+v, want the phone's -70 dBm and an offset of 10 dB", cal)
	}
	select {
	case err := <-p:
		if err != nil {
			t.Fatalf("the phone at the door once calibrated: %v\n%s", err, a.output())
		}
	case <-ctx.Done():
		t.Fatalf("the phone was not taken up once calibrated\n%s", a.output())
	}
	got := s.decisions("")
	if len(got) != 1 || got[0].Kind != "access.granted" || got[0].RSSI != -60 {
		t.Fatalf("decisions %+v, want one grant at the calibrated -60 dBm", got)
	}
}
