package ble

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"postern/access"
)

// RSSI window defaults, where a ReaderConfig leaves a field zero.
const (
	DefaultRSSIWindow  = time.Second
	DefaultRSSISamples = 3
)

// maxRSSISamples is how many of a key's latest samples the reader keeps:
// enough for a median that one reflection cannot move, few enough that a
// person walking up is followed within a few adverts.
const maxRSSISamples = 8

// calibrationAge is how far back Calibrate looks for the nearest key: the
// installer stands at the door with the phone presenting, then turns to
// press the button.
const calibrationAge = 5 * time.Second

type rssiSample struct {
	at  time.Time
	dBm int
}

// rssiWindow is a key's latest signal samples, oldest first, as measured
// (before the reader's offset).
type rssiWindow struct {
	samples []rssiSample
}

func (w *rssiWindow) add(at time.Time, dBm int) {
	if len(w.samples) == maxRSSISamples {
		w.samples = slices.Delete(w.samples, 0, 1)
	}
	w.samples = append(w.samples, rssiSample{at, dBm})
}

// since returns the samples heard at or after t, oldest first.
func (w *rssiWindow) since(t time.Time) []int {
	var out []int
	for _, s := range w.samples {
		if !s.at.Before(t) {
			out = append(out, s.dBm)
		}
	}
	return out
}

// median is the middle of the samples, the weaker middle of an even
// count: a door opens on what most of them say, never on one.
func median(dBm []int) int {
	s := slices.Sorted(slices.Values(dBm))
	return s[(len(s)-1)/2]
}

// Calibration is what Reader.Calibrate measured.
type Calibration struct {
	// Key is the address of the nearest key, whose samples were used.
	Key string
	// Samples are its signal samples, in dBm as measured, oldest first.
	Samples []int
	// Median is their median.
	Median int
	// Threshold is the access point's.
	Threshold int
	// Offset is what makes the key's position read as the threshold.
	Offset int
}

// ErrNoKeyToCalibrate is returned by Calibrate when no key was heard well
// enough in the last few seconds.
var ErrNoKeyToCalibrate = errors.New("no phone heard at this reader in the last few seconds: stand at the door with a phone presenting, then calibrate")

// ErrCalibrationOutOfRange is returned by Calibrate when the offset it
// measured is beyond what a reader may be corrected by.
var ErrCalibrationOutOfRange = fmt.Errorf("the phone's signal is more than %d dB from the threshold: is it at the door?", access.MaxRSSIOffset)

// Calibrate measures the nearest key heard in the last few seconds and
// returns the offset that makes its position read as the access point's
// threshold: the installer stands where a phone should open the door, with
// the phone presenting, and presses Calibrate. It does not apply the
// offset: the caller saves it with the access point, and it reaches the
// reader as any edit does.
func (r *Reader) Calibrate() (Calibration, error) {
	now := time.Now()
	r.mu.Lock()
	cfg := r.cfg
	var best Calibration
	found := false
	for addr, s := range r.seen {
		samples := s.rssi.since(now.Add(-calibrationAge))
		if len(samples) < cfg.RSSISamples {
			continue
		}
		m := median(samples)
		if !found || m > best.Median || (m == best.Median && addr < best.Key) {
			best = Calibration{Key: addr, Samples: samples, Median: m}
			found = true
		}
	}
	r.mu.Unlock()
	if !found {
		return Calibration{}, ErrNoKeyToCalibrate
	}
	best.Threshold = cfg.RSSIThreshold
	best.Offset = cfg.RSSIThreshold - best.Median
	if best.Offset > access.MaxRSSIOffset || best.Offset < -access.MaxRSSIOffset {
		return best, ErrCalibrationOutOfRange
	}
	r.log.Info("calibrated", "key", best.Key, "samples", best.Samples, "median", best.Median, "offset", best.Offset)
	return best, nil
}
