package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"postern/access"
	"postern/ble"
	"postern/fleet"
	"postern/store"
)

// reader runs a remote reader: a small board at a door that decides from
// its own copy of the hub's policy, online or offline, and hands its
// events to the hub.
func reader(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("reader", flag.ContinueOnError)
	fs.SetOutput(std.err)
	var cfg serveConfig
	var hub, token, logLevel string
	var watchdog time.Duration
	fs.StringVar(&hub, "hub", "", "the hub's reader address, HOST:PORT (its --fleet-listen)")
	fs.StringVar(&token, "enrol", "", "the one-time enrolment token from the hub's Readers page (first start only)")
	fs.StringVar(&cfg.data, "data", "./postern-reader-data", "data folder (this reader's copy of the policy and its events)")
	fs.StringVar(&cfg.radio, "radio", "auto", "auto, or a comma-separated list of sim and hciN (one reader per adapter)")
	fs.StringVar(&cfg.air, "air", "127.0.0.1:7390", "the simulated air's listen address")
	fs.StringVar(&cfg.door, "door", "log", "door output: log, or exec:COMMAND run on each grant")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&cfg.deadline, "deadline", 800*time.Millisecond, "how long after its challenge a reader accepts a key's response")
	fs.DurationVar(&watchdog, "watchdog", 2*time.Minute, "restart the link to the hub after it has been down this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if hub == "" {
		return exitf(2, "postern reader: --hub HOST:PORT is required")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(std.err, &slog.HandlerOptions{Level: level}))

	st, err := store.Open(ctx, cfg.data)
	if err != nil {
		return fmt.Errorf("open database in %s: %w", cfg.data, err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()
	workers, stopWorkers := context.WithCancel(context.Background())
	defer stopWorkers()
	// The radios and the simulated air's port are taken before enrolment,
	// so a board whose adapter or port is wrong says so at once.
	radios, useAir, err := openRadios(workers, cfg, log)
	if err != nil {
		return err
	}
	var airLn net.Listener
	if useAir {
		if airLn, err = net.Listen("tcp", cfg.air); err != nil {
			return fmt.Errorf("the simulated air (--air %s): %w", cfg.air, err)
		}
		defer airLn.Close()
	}
	node, err := fleet.StartNode(ctx, fleet.NodeConfig{Store: st, Dir: filepath.Join(cfg.data, "fleet"), Hub: hub, Token: strings.TrimSpace(token),
		Log: log, Version: versionString(), Watchdog: watchdog})
	if err != nil {
		return err
	}
	defer node.Close()
	select {
	case <-node.Synced():
	default:
		log.Info("waiting for the first copy of the policy from the hub", "hub", hub)
		select {
		case <-node.Synced():
		case <-ctx.Done():
			return nil
		}
	}

	output, err := ble.ParseDoor(cfg.door, log)
	if err != nil {
		return fmt.Errorf("--door: %w", err)
	}
	site := readerSite{st: st, store: node.Store(), prefix: node.Name() + "/", relyingParty: node.Store().RelyingParty}
	// The doors this board drives follow their state in its copy of the
	// policy (held open, lockdown) as the appliance's do; their events go
	// to the hub with its decisions.
	doors := ble.NewDoors(ble.DoorsOptions{Output: output, Lines: ble.ChardevLines(), Clock: clockwork.NewRealClock(), Logger: log,
		Events: func(ctx context.Context, e *access.Event) error { return site.store.AppendEvent(ctx, e) }})
	doorsCtx, stopDoors := context.WithCancel(workers)
	doorsDone := followDoors(doorsCtx, site, doors, time.Now, log)
	defer func() {
		stopDoors()
		<-doorsDone
		if err := doors.Close(); err != nil {
			log.Error("putting the door relays in their safe state", "err", err)
		}
	}()
	readers := startReaders(workers, cfg, site, radios, airLn, doors, time.Now, log)
	defer readers.Close()
	log.Info("postern reader is running", "version", versionString(), "reader", node.Name(), "hub", hub, "data", cfg.data)
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

var _ ble.SiteStore = (*fleet.SiteStore)(nil)
