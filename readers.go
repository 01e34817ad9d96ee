package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access"
	"postern/access/protocol"
	"postern/ble"
	"postern/store"
	"postern/web"
)

// readerSite is what a gateway's readers decide from and which access
// points are theirs: the appliance's own database, or a remote reader's
// copy of the hub's.
type readerSite struct {
	st    *store.Store  // the access points and the doors' inputs
	store ble.SiteStore // what decisions read and are recorded in
	// prefix is a remote reader's "NAME/", before the bindings of the
	// access points it runs; "" on the appliance, which runs the bindings
	// with no prefix.
	prefix string
	// relyingParty is who web keys' passkeys were made for when this
	// process was given no public URL: a remote reader's follows the
	// hub's in its copy of the policy. nil on the appliance.
	relyingParty func() protocol.RelyingParty
}

// passkeysFor returns who the readers check web keys' passkeys against:
// this process's public URL when it has one, else the site's.
func (s readerSite) passkeysFor(publicURL string) func() protocol.RelyingParty {
	if publicURL == "" && s.relyingParty != nil {
		return s.relyingParty
	}
	rp, _ := web.RelyingParty(publicURL)
	return func() protocol.RelyingParty { return rp }
}

// localSite is the appliance's own: every access point not bound to a
// remote reader.
func localSite(st *store.Store) readerSite { return readerSite{st: st, store: st} }

// binding returns where on this gateway's radios an access point's reader
// is, or false when another gateway runs it.
func (s readerSite) binding(b string) (string, bool) {
	if s.prefix == "" {
		_, _, remote := access.RemoteBinding(b)
		return b, !remote
	}
	return strings.CutPrefix(b, s.prefix)
}

// ours reports whether this gateway runs an access point's reader.
func (s readerSite) ours(ap access.AccessPoint) bool {
	_, ok := s.binding(ap.Reader)
	return ok
}

// startReaders runs a reader per access point of site on radios and, when
// airLn is set, on the simulated air serving it (whose door inputs go to
// doors); the readers are kept in step with the access points as admins
// edit them. The set also holds the exchange that web keys opening from
// the phone run: the readers' own, with the same doors.
func startReaders(ctx context.Context, cfg serveConfig, site readerSite, radios map[string]ble.Radio, airLn net.Listener, doors *ble.Doors, now func() time.Time, log *slog.Logger) *readerSet {
	st := site.store
	var air *ble.Air
	if airLn != nil {
		air = ble.NewAir(ble.AirOptions{Faults: cfg.faults, IdleLimit: cfg.airIdle, Logger: log})
		air.SetDoorInputs(simDoorInputs(site, doors))
		go air.Serve(airLn)
		go func() {
			<-ctx.Done()
			air.Close()
		}()
		radios[ble.RadioSim] = air.Radio()
		log.Info("the simulated air is listening", "air", airLn.Addr().String())
	}
	ex := ble.NewSiteExchange(st, doors, cfg.deadline, log)
	// One clock for the challenge, its deadline and the decision, so a
	// test's shifted clock shifts them all alike.
	ex.Now, ex.Pending = now, protocol.NewPending(now, cfg.deadline)
	ex.HelloWait = cfg.helloWait
	ex.RelyingParty = site.passkeysFor(cfg.publicURL)
	phone := func(ctx context.Context, accessPointID int64, from string, link web.Link) error {
		return ex.Exchange(ctx, ble.ReaderConfig{ID: accessPointID}, ble.Candidate{Addr: from, Phone: true}, link)
	}
	// A reader whose radio failed has gone silent: an event, so an alarm.
	stopped := func(rc ble.ReaderConfig, err error) {
		e := &access.Event{Kind: access.AlarmSilent, Actor: "reader:" + rc.Binding, AccessPointID: rc.ID, Reason: "radio failed", Detail: err.Error()}
		if err := st.AppendEvent(context.WithoutCancel(ctx), e); err != nil {
			log.Error("recording a silent reader", "err", err)
		}
	}
	mgr := ble.NewManager(ble.ManagerOptions{Radios: radios, Exchanger: ex, Logger: log, Stopped: stopped, Hooks: ble.ReaderHooks{
		Skipped: func(ap ble.ReaderConfig, c ble.Candidate, why ble.SkipReason) {
			log.Debug("key heard, not processed", "access_point", ap.Name, "rssi", c.RSSI, "why", why.String())
		},
		Finished: func(ap ble.ReaderConfig, c ble.Candidate, err error) {
			if err != nil {
				log.Info("exchange ended without a decision", "access_point", ap.Name, "err", err)
			}
		},
	}})
	// The store's change feed brings the readers in step with an access
	// point as the call that changed it returns; the slow poll restarts a
	// reader whose radio failed. The manager stops both, and waits for
	// them, before its readers.
	mgr.Follow(readerRetry, func(ctx context.Context) ([]ble.ReaderConfig, error) {
		aps, err := site.st.AllAccessPoints(ctx)
		if err != nil {
			return nil, err
		}
		var cfgs []ble.ReaderConfig
		for _, ap := range aps {
			local, ok := site.binding(ap.Reader)
			if !ok {
				continue
			}
			ap.Reader = local
			b, err := ble.ParseBinding(ap.Reader)
			if err != nil || radios[b.Radio] == nil {
				continue
			}
			rc := ble.ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader, Mode: ap.Mode, RSSIThreshold: ap.RSSIThreshold, RSSIOffset: ap.RSSIOffset}
			// The exchange must outlast the wait for a hello and the access
			// point's response deadline (its unlock window where it asks for
			// an unlock), or a long one would never be reached.
			if limit := ble.DefaultHelloWait + ap.Deadline(cfg.deadline) + time.Second; limit > rc.WithDefaults().ExchangeTimeout {
				rc.ExchangeTimeout = limit
			}
			cfgs = append(cfgs, rc)
		}
		return cfgs, nil
	})
	unsubscribe := site.st.Subscribe(func(c store.Change) {
		if len(c.AccessPoints) == 0 {
			return
		}
		mgr.Refresh()
		if air != nil {
			waitOnAir(ctx, air, mgr.Running())
		}
	})
	rs := &readerSet{Manager: mgr, unsubscribe: unsubscribe, phone: phone, air: air}
	if airLn != nil {
		rs.airAddr = airLn.Addr().String()
	}
	return rs
}

// readerRetry is how often the readers are checked against the access
// points without a change to prompt it.
const readerRetry = 5 * time.Second

// readerSet is the running readers, following the store's changes.
type readerSet struct {
	*ble.Manager
	unsubscribe func()
	airAddr     string // where the simulated air listens; "" without one
	air         *ble.Air
	phone       web.PhoneExchange
}

// Close stops following the store, then stops the readers.
func (r *readerSet) Close() error {
	r.unsubscribe()
	return r.Manager.Close()
}

// waitOnAir waits, briefly, until each reader on the simulated air has
// joined it: a reader is started on a goroutine of its own, and a key
// presented as soon as the admin's call returns must find it.
func waitOnAir(ctx context.Context, air *ble.Air, running []ble.ReaderConfig) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for _, rc := range running {
		if b, err := ble.ParseBinding(rc.Binding); err == nil && b.Radio == ble.RadioSim {
			air.WaitReader(ctx, b.Reader)
		}
	}
}

// radioPlan is what --radio asks for.
type radioPlan struct {
	auto     bool     // hci0 if there is one, else the simulated air
	sim      bool     // the simulated air
	adapters []string // Bluetooth adapters, hciN, one reader each
}

// parseRadio reads --radio: auto, or a comma-separated list of sim and
// hciN ("hci0,hci1" for a gateway between two doors).
func parseRadio(spec string) (radioPlan, error) {
	if strings.TrimSpace(spec) == "auto" {
		return radioPlan{auto: true, adapters: []string{"hci0"}}, nil
	}
	var p radioPlan
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		switch {
		case seen[item]:
			return p, fmt.Errorf("--radio %q: %s is named twice", spec, item)
		case item == ble.RadioSim:
			p.sim = true
		case strings.HasPrefix(item, "hci"):
			if _, err := ble.HCIIndex(item); err != nil {
				return p, fmt.Errorf("--radio %q: %w", spec, err)
			}
			p.adapters = append(p.adapters, item)
		default:
			return p, fmt.Errorf("--radio %q: want auto, or a comma-separated list of sim and hciN", spec)
		}
		seen[item] = true
	}
	return p, nil
}

// openRadios opens the Bluetooth adapters --radio names, and reports
// whether the simulated air is wanted too (serve binds it with its other
// listeners). An adapter that cannot be opened is an error, except for
// auto, which falls back to the simulated air. The adapters are closed
// when ctx ends.
func openRadios(ctx context.Context, cfg serveConfig, log *slog.Logger) (map[string]ble.Radio, bool, error) {
	plan, err := parseRadio(cfg.radio)
	if err != nil {
		return nil, false, err
	}
	open := cfg.openAdapter
	if open == nil {
		open = ble.OpenHCI
	}
	radios := map[string]ble.Radio{}
	var devs []goble.Device
	for _, name := range plan.adapters {
		idx, _ := ble.HCIIndex(name)
		dev, err := open(idx)
		switch {
		case err == nil:
			devs = append(devs, dev)
			radios[name] = ble.NewGATTRadio(dev, ble.GATTOptions{Logger: log})
			log.Info("using the Bluetooth adapter", "adapter", name)
		case plan.auto:
			log.Warn("no Bluetooth adapter found: using the simulated air instead; keys join it with postern key present", "err", err, "air", cfg.air)
			plan.sim = true
		default:
			for _, d := range devs {
				d.Stop()
			}
			return nil, false, fmt.Errorf("open %s: %w", name, err)
		}
	}
	go func() {
		<-ctx.Done()
		for _, d := range devs {
			d.Stop()
		}
	}()
	return radios, plan.sim, nil
}

// calibrateWith is web's Calibrate on the running readers: what cannot be
// measured now (no reader, no phone heard, a phone not at the door) is a
// conflict, told to the installer as it is.
func calibrateWith(readers *readerSet) func(id int64) (web.Calibration, error) {
	return func(id int64) (web.Calibration, error) {
		r := readers.Reader(id)
		if r == nil {
			return web.Calibration{}, access.Conflict("the reader of this access point is not running")
		}
		cal, err := r.Calibrate()
		if errors.Is(err, ble.ErrNoKeyToCalibrate) || errors.Is(err, ble.ErrCalibrationOutOfRange) {
			return web.Calibration{}, access.Conflict("%v", err)
		}
		if err != nil {
			return web.Calibration{}, err
		}
		return web.Calibration{Samples: cal.Samples, Median: cal.Median, Offset: cal.Offset}, nil
	}
}
