package ble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"postern/access"
)

// Reader defaults, where a ReaderConfig leaves a field zero.
const (
	DefaultExchangeTimeout          = 2 * time.Second
	DefaultLongRangeExchangeTimeout = 5 * time.Second
	DefaultTouchWindow              = 1500 * time.Millisecond
	DefaultMaxConcurrent            = 16
	DefaultDebounce                 = 5 * time.Second
)

// ReaderConfig is one access point's reader, as the loop needs it. Admins
// edit access points in the browser, so it can change under a running
// Reader (Update).
type ReaderConfig struct {
	// ID and Name are the access point's, handed to the Exchanger and logs.
	ID   int64
	Name string
	// Binding says where the reader is: "sim:NAME" on the simulated air,
	// or "hciN" for a local BLE adapter (see ParseBinding).
	Binding string
	Mode    access.Mode
	// RSSIThreshold is the weakest signal, in dBm, taken up; zero means the
	// mode's default. RSSI is a convenience, not a proof (relays extend it).
	RSSIThreshold int
	// RSSIOffset is the access point's calibration, in dB, added to every
	// signal measured (see Reader.Calibrate).
	RSSIOffset int
	// A key is judged on the median of its signal samples heard in the
	// last RSSIWindow, once there are at least RSSISamples of them, so one
	// strong reading (a reflection) does not open a door nor one weak one
	// hold it shut. Defaults DefaultRSSIWindow and DefaultRSSISamples.
	RSSIWindow  time.Duration
	RSSISamples int
	// ExchangeTimeout is the hard limit for one key, connect included:
	// a key that has not finished by then is cut off. Long-range links are
	// poorer, so that mode defaults to a longer window.
	ExchangeTimeout time.Duration
	// TouchWindow is how long a touch arms a touch-mode reader; the
	// nearest key heard in the window is taken up when it closes.
	TouchWindow time.Duration
	// MaxConcurrent bounds exchanges in flight, so a crowd or a hostile
	// key costs at most this many slots, each for at most ExchangeTimeout.
	MaxConcurrent int
	// Debounce: a key heard again within this time of its last sighting is
	// still the same stay in range and is not taken up again.
	Debounce time.Duration
}

// WithDefaults fills the zero fields.
func (c ReaderConfig) WithDefaults() ReaderConfig {
	if c.Mode == "" {
		c.Mode = access.ModeDirect
	}
	if c.RSSIThreshold == 0 {
		c.RSSIThreshold = c.Mode.DefaultRSSI()
	}
	if c.ExchangeTimeout <= 0 {
		c.ExchangeTimeout = DefaultExchangeTimeout
		if c.Mode == access.ModeLongRange {
			c.ExchangeTimeout = DefaultLongRangeExchangeTimeout
		}
	}
	if c.RSSIWindow <= 0 {
		c.RSSIWindow = DefaultRSSIWindow
	}
	if c.RSSISamples <= 0 {
		c.RSSISamples = DefaultRSSISamples
	}
	if c.TouchWindow <= 0 {
		c.TouchWindow = DefaultTouchWindow
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.Debounce <= 0 {
		c.Debounce = DefaultDebounce
	}
	return c
}

// Validate checks a config after WithDefaults.
func (c ReaderConfig) Validate() error {
	if _, err := ParseBinding(c.Binding); err != nil {
		return err
	}
	if !c.Mode.Valid() {
		return fmt.Errorf("ble: unknown reader mode %q", c.Mode)
	}
	if c.RSSIThreshold > 0 || c.RSSIThreshold < -127 {
		return fmt.Errorf("ble: RSSI threshold %d dBm is out of range", c.RSSIThreshold)
	}
	if c.RSSIOffset > access.MaxRSSIOffset || c.RSSIOffset < -access.MaxRSSIOffset {
		return fmt.Errorf("ble: RSSI offset %d dB is beyond ±%d dB", c.RSSIOffset, access.MaxRSSIOffset)
	}
	if c.RSSISamples > maxRSSISamples {
		return fmt.Errorf("ble: a reader keeps %d RSSI samples a key, not %d", maxRSSISamples, c.RSSISamples)
	}
	return nil
}

// Exchanger runs the protocol on a connected key: challenge, response,
// decision, result. It must return by ctx's deadline; the reader closes the
// link when the deadline passes, which unblocks any Send or Recv.
type Exchanger interface {
	Exchange(ctx context.Context, ap ReaderConfig, c Candidate, link Link) error
}

// ExchangerFunc adapts a function to Exchanger.
type ExchangerFunc func(ctx context.Context, ap ReaderConfig, c Candidate, link Link) error

// Exchange calls f.
func (f ExchangerFunc) Exchange(ctx context.Context, ap ReaderConfig, c Candidate, link Link) error {
	return f(ctx, ap, c, link)
}

// ErrExchangeTimeout matches (errors.Is) an exchange cut off at its hard
// limit.
var ErrExchangeTimeout = errors.New("exchange timed out")

// SkipReason says why a heard key was not processed. A skip is not a
// decision: nobody was let in or refused.
type SkipReason int

// Skip reasons.
const (
	// SkipWeakSignal: RSSI below the access point's threshold.
	SkipWeakSignal SkipReason = iota + 1
	// SkipNotArmed: a touch-mode reader heard a key with no touch.
	SkipNotArmed
	// SkipNotNearest: a touch window closed on a nearer key.
	SkipNotNearest
	// SkipBusy: too many keys waiting; the key is retried on its next advert.
	SkipBusy
)

// String returns the reason as logs and counters show it.
func (r SkipReason) String() string {
	switch r {
	case SkipWeakSignal:
		return "weak signal"
	case SkipNotArmed:
		return "not armed"
	case SkipNotNearest:
		return "not nearest"
	case SkipBusy:
		return "busy"
	}
	return fmt.Sprintf("SkipReason(%d)", int(r))
}

// ReaderHooks observe a reader, for logs and counters. Each is optional,
// called from the reader's goroutines, and must not block.
type ReaderHooks struct {
	// Skipped reports a key heard and not processed, once per reason per
	// stay in range (adverts repeat many times a second).
	Skipped func(ap ReaderConfig, c Candidate, why SkipReason)
	// Finished reports the end of an exchange attempt: err is nil when the
	// Exchanger returned nil.
	Finished func(ap ReaderConfig, c Candidate, err error)
}

// ReaderOptions are a Reader's collaborators.
type ReaderOptions struct {
	Exchanger Exchanger
	Hooks     ReaderHooks
	Logger    *slog.Logger
}
