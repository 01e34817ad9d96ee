package web_test

import (
	"net/url"
	"sync"
	"testing"

	"postern/access"
	"postern/web"
)

// fakeReaders plays the running readers for Calibrate: what each access
// point's reader measured, or why it could not.
type fakeReaders struct {
	mu   sync.Mutex
	cals map[int64]web.Calibration
	errs map[int64]error
}

func (f *fakeReaders) set(id int64, c web.Calibration, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cals[id], f.errs[id] = c, err
}

func (f *fakeReaders) calibrate(id int64) (web.Calibration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.cals[id]
	if !ok {
		return c, access.Conflict("the reader of this access point is not running")
	}
	return c, f.errs[id]
}

func newFakeReaders() *fakeReaders {
	return &fakeReaders{cals: map[int64]web.Calibration{}, errs: map[int64]error{}}
}

func TestAPIAccessPointCalibrate(t *testing.T) {
	t.Parallel()
	readers := newFakeReaders()
	env := newAdminEnv(t, func(c *web.Config) { c.Calibrate = readers.calibrate })
	front := env.create(t, "access-points", `{"name":"Front door","reader":"hci0","mode":"direct"}`)
	back := env.create(t, "access-points", `{"name":"Back door","reader":"hci1","mode":"direct","rssi_offset":-4}`)
	idle := env.create(t, "access-points", `{"name":"Shed","reader":"hci2","mode":"direct"}`)
	ff := "/api/v1/access-points/" + itoa(front)
	readers.set(front, web.Calibration{Samples: []int{-71, -70, -69}, Median: -70, Offset: 10}, nil)
	readers.set(back, web.Calibration{}, access.Conflict("no phone heard at this reader in the last few seconds"))

	env.runAPI(t, []scenario{
		{name: "the offset is part of an access point", method: "GET", url: "/api/v1/access-points/" + itoa(back), wantStatus: 200,
			wantContains: []string{`"rssi_offset":-4`}},
		{name: "a new access point has none", method: "GET", url: ff, wantStatus: 200, wantContains: []string{`"rssi_offset":0`}},
		{name: "set by hand", method: "PATCH", url: ff, body: `{"rssi_offset":3}`, wantStatus: 200, wantContains: []string{`"rssi_offset":3`}},
		{name: "beyond the bound", method: "PATCH", url: ff, body: `{"rssi_offset":41}`, wantStatus: 422, wantContains: []string{"rssi_offset"}},
		{name: "calibrate", method: "POST", url: ff + "/calibrate", wantStatus: 200,
			wantContains: []string{`"rssi_offset":10`, `"median_dbm":-70`, `"samples_dbm":[-71,-70,-69]`, `"access_point":{`, `"name":"Front door"`}},
		{name: "the offset was saved", method: "GET", url: ff, wantStatus: 200, wantContains: []string{`"rssi_offset":10`, `"rssi_threshold":-60`}},
		{name: "no phone heard", method: "POST", url: "/api/v1/access-points/" + itoa(back) + "/calibrate", wantStatus: 409,
			wantContains: []string{`"error":"conflict"`, "no phone heard"}},
		{name: "the failed calibration left the offset alone", method: "GET", url: "/api/v1/access-points/" + itoa(back), wantStatus: 200,
			wantContains: []string{`"rssi_offset":-4`}},
		{name: "no reader running", method: "POST", url: "/api/v1/access-points/" + itoa(idle) + "/calibrate", wantStatus: 409,
			wantContains: []string{"not running"}},
		{name: "no such access point", method: "POST", url: "/api/v1/access-points/999/calibrate", wantStatus: 404},
	})
	evs := env.events(t)
	if e := evs[0]; e.Kind != "access_point.calibrated" || e.AccessPointID != front || e.Actor != "api:"+adminEmail ||
		e.Detail != "offset +10 dB: the nearest phone read -70 dBm (the median of 3 samples) against a threshold of -60 dBm" {
		t.Errorf("latest event %+v, want the calibration of the front door", e)
	}
}

func TestAPIAccessPointCalibrateWithoutReaders(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	front := env.create(t, "access-points", `{"name":"Front door","reader":"hci0","mode":"direct"}`)
	env.runAPI(t, []scenario{
		{name: "no readers on this appliance", method: "POST", url: "/api/v1/access-points/" + itoa(front) + "/calibrate", wantStatus: 409,
			wantContains: []string{"not running"}},
	})
}

func TestAccessPointCalibratePage(t *testing.T) {
	t.Parallel()
	readers := newFakeReaders()
	env := newLoggedInEnv(t, func(c *web.Config) { c.Calibrate = readers.calibrate })
	front := env.create(t, "access-points", `{"name":"Front door","reader":"hci0","mode":"touch"}`)
	aa := "/access-points/" + itoa(front)
	form := func(offset string) string {
		return url.Values{"name": {"Front door"}, "reader": {"hci0"}, "mode": {"touch"}, "rssi_offset": {offset}, "state": {"normal"}}.Encode()
	}
	env.runPages(t, []scenario{
		{name: "the page offers to calibrate", method: "GET", url: aa, wantStatus: 200,
			wantTestIDs: map[string]string{"calibrate-form": "threshold (-75 dBm)", "calibrate": "Calibrate"},
			wantFields:  map[string]string{"rssi_offset": "0"}},
		{name: "a new access point's form has no calibration", method: "GET", url: "/access-points/new", wantStatus: 200,
			wantNotContains: []string{`data-testid="calibrate-form"`}},
		{name: "the reader is not running", method: "POST", url: aa + "/calibrate", wantStatus: 409,
			wantTestIDs: map[string]string{"error-calibrate": "not running"}, wantFields: map[string]string{"rssi_offset": "0"}},
		{name: "offset by hand", method: "POST", url: aa, body: form("-6"), wantStatus: 303, wantLocation: aa + "?flash=saved"},
		{name: "the offset shows", method: "GET", url: aa, wantStatus: 200, wantFields: map[string]string{"rssi_offset": "-6"}},
		{name: "an offset that is not a number", method: "POST", url: aa, body: form("loud"), wantStatus: 422,
			wantTestIDs: map[string]string{"error-rssi_offset": "whole number of dB"}, wantFields: map[string]string{"rssi_offset": "loud"}},
		{name: "an offset beyond the bound", method: "POST", url: aa, body: form("50"), wantStatus: 422,
			wantTestIDs: map[string]string{"error-rssi_offset": "between -40 and 40"}},
	})
	readers.set(front, web.Calibration{Samples: []int{-63, -63, -64, -62}, Median: -63, Offset: -12}, nil)
	env.runPages(t, []scenario{
		{name: "calibrate", method: "POST", url: aa + "/calibrate", wantStatus: 303, wantLocation: aa + "?flash=calibrated"},
		{name: "calibrated", method: "GET", url: aa + "?flash=calibrated", wantStatus: 200,
			wantTestIDs: map[string]string{"flash": "where the phone stood now reads as the threshold"},
			wantFields:  map[string]string{"rssi_offset": "-12", "rssi_threshold": "-75"}},
		{name: "no such access point", method: "POST", url: "/access-points/999/calibrate", wantStatus: 404},
	})
	if e := env.events(t)[0]; e.Kind != "access_point.calibrated" || e.Actor != "admin:"+adminEmail {
		t.Errorf("latest event %+v, want the calibration by the signed-in admin", e)
	}
}
