package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jonboulle/clockwork"

	"postern/access"
	"postern/ble"
	"postern/store"
)

// testClockOffset names an environment variable for tests only: a
// duration (such as -3h or 26h15m) added to the appliance's clock, so a
// test can bring an unlock schedule's edge to within seconds. It is not a
// flag, because nobody should set it on a real site: decisions, events
// and schedules would all run on the shifted clock.
const testClockOffset = "POSTERN_TEST_CLOCK_OFFSET"

// siteClock returns the appliance's clock: time.Now, shifted by
// POSTERN_TEST_CLOCK_OFFSET in tests.
func siteClock(log *slog.Logger) (func() time.Time, clockwork.Clock, error) {
	v := os.Getenv(testClockOffset)
	if v == "" {
		return time.Now, clockwork.NewRealClock(), nil
	}
	off, err := time.ParseDuration(v)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", testClockOffset, err)
	}
	log.Warn("the clock is shifted for a test", "offset", off)
	c := offsetClock{Clock: clockwork.NewRealClock(), off: off}
	return c.Now, c, nil
}

// offsetClock is the real clock, read off by a fixed offset; its timers
// and tickers run on real time, which an offset does not change.
type offsetClock struct {
	clockwork.Clock
	off time.Duration
}

func (c offsetClock) Now() time.Time                  { return c.Clock.Now().Add(c.off) }
func (c offsetClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c offsetClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// doorPlans computes the state now of every door this gateway runs (ours),
// from the store's inputs.
func doorPlans(ctx context.Context, st *store.Store, now time.Time, ours func(access.AccessPoint) bool) ([]ble.DoorPlan, error) {
	ins, err := st.DoorInputs(ctx)
	if err != nil {
		return nil, err
	}
	plans := make([]ble.DoorPlan, 0, len(ins))
	for _, in := range ins {
		if !ours(in.AccessPoint) {
			continue
		}
		in.Now = now
		plans = append(plans, ble.DoorPlan{AP: in.AccessPoint, State: access.DoorStateOf(in)})
	}
	return plans, nil
}

// followDoors applies the doors' states once, before it returns, so every
// relay is set from its state before a reader starts, then every second
// until ctx ends; done is closed when it has stopped. The doors' watchdog
// runs beside it.
func followDoors(ctx context.Context, site readerSite, doors *ble.Doors, now func() time.Time, log *slog.Logger) (done chan struct{}) {
	apply := func() {
		plans, err := doorPlans(ctx, site.st, now(), site.ours)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("reading the doors' states", "err", err)
			}
			return // the watchdog makes the relays safe if this lasts
		}
		doors.Apply(ctx, plans)
	}
	apply()
	done = make(chan struct{})
	go doors.Run(ctx)
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				apply()
			}
		}
	}()
	return done
}

// simDoorInputs takes the simulated air's door inputs to the door of the
// access point bound to that reader.
func simDoorInputs(site readerSite, doors *ble.Doors) ble.DoorInputFunc {
	return func(ctx context.Context, reader string, in ble.DoorInput) error {
		ap, err := site.st.AccessPointByReader(ctx, site.prefix+ble.RadioSim+":"+reader)
		if errors.Is(err, access.ErrNotFound) {
			return fmt.Errorf("%w: no access point is bound to sim:%s", ble.ErrNoReader, reader)
		}
		if err != nil {
			return err
		}
		return doors.Input(ctx, ap.ID, in)
	}
}
