package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"postern/ble"
	"postern/store"
)

// startReaders opens the radio and runs a reader per access point, kept in
// step with the access points as admins edit them.
func startReaders(ctx context.Context, cfg serveConfig, st *store.Store, log *slog.Logger) (*ble.Manager, error) {
	radios := map[string]ble.Radio{}
	useAir := cfg.radio == "sim"
	switch {
	case cfg.radio == "sim":
	case cfg.radio == "auto" || strings.HasPrefix(cfg.radio, "hci"):
		name := cfg.radio
		if name == "auto" {
			name = "hci0"
		}
		idx, err := ble.HCIIndex(name)
		if err != nil {
			return nil, fmt.Errorf("--radio: %w", err)
		}
		dev, err := ble.OpenHCI(idx)
		switch {
		case err == nil:
			radios[name] = ble.NewGATTRadio(dev, ble.GATTOptions{Logger: log})
			log.Info("using the Bluetooth adapter", "adapter", name)
		case cfg.radio == "auto":
			log.Warn("no Bluetooth adapter found: using the simulated air instead; keys join it with postern key present", "err", err, "air", cfg.air)
			useAir = true
		default:
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
	default:
		return nil, fmt.Errorf("--radio %q: want auto, sim or hciN", cfg.radio)
	}
	if useAir {
		air := ble.NewAir(ble.AirOptions{Faults: cfg.faults, Logger: log})
		l, err := net.Listen("tcp", cfg.air)
		if err != nil {
			return nil, fmt.Errorf("the simulated air: %w", err)
		}
		go air.Serve(l)
		go func() {
			<-ctx.Done()
			air.Close()
		}()
		radios[ble.RadioSim] = air.Radio()
		log.Info("the simulated air is listening", "air", l.Addr().String())
	}
	door, err := ble.ParseDoor(cfg.door, log)
	if err != nil {
		return nil, fmt.Errorf("--door: %w", err)
	}
	ex := ble.NewSiteExchange(st, door, cfg.deadline, log)
	mgr := ble.NewManager(ble.ManagerOptions{Radios: radios, Exchanger: ex, Logger: log, Hooks: ble.ReaderHooks{
		Skipped: func(ap ble.ReaderConfig, c ble.Candidate, why ble.SkipReason) {
			log.Debug("key heard, not processed", "access_point", ap.Name, "rssi", c.RSSI, "why", why.String())
		},
		Finished: func(ap ble.ReaderConfig, c ble.Candidate, err error) {
			if err != nil {
				log.Info("exchange ended without a decision", "access_point", ap.Name, "err", err)
			}
		},
	}})
	held := ble.NewHeldDoors(door, log)
	// Access points change in the browser; a second's poll of a table of
	// tens of rows keeps the readers in step without a hook in every handler.
	// The manager stops the poll, and waits for it, before its readers.
	mgr.Follow(time.Second, func(ctx context.Context) ([]ble.ReaderConfig, error) {
		aps, err := st.AllAccessPoints(ctx)
		if err != nil {
			return nil, err
		}
		held.Apply(ctx, aps)
		var cfgs []ble.ReaderConfig
		for _, ap := range aps {
			b, err := ble.ParseBinding(ap.Reader)
			if err != nil || radios[b.Radio] == nil {
				continue
			}
			rc := ble.ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader, Mode: ap.Mode, RSSIThreshold: ap.RSSIThreshold}
			// The exchange must outlast the response deadline, or a long
			// --deadline would never be reached.
			if limit := cfg.deadline + time.Second; limit > rc.WithDefaults().ExchangeTimeout {
				rc.ExchangeTimeout = limit
			}
			cfgs = append(cfgs, rc)
		}
		return cfgs, nil
	})
	return mgr, nil
}
