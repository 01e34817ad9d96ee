package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access"
	"postern/ble"
	"postern/mail"
	"postern/store"
	"postern/web"
	"postern/web/webhook"
)

// serveConfig is serve's flags.
type serveConfig struct {
	data         string
	listen       string
	publicURL    string
	tls          tlsFlags
	trustedProxy string
	radio        string
	air          string
	airIdle      time.Duration
	smtp         string
	mailFrom     string
	door         string
	observe      observeFlags
	deadline     time.Duration
	// helloWait is how long a reader listens for a version 2 hello before
	// it challenges a silent key; zero is ble.DefaultHelloWait. Only
	// bench sets it.
	helloWait time.Duration
	backups   scheduleFlags
	faults    ble.Faults
	// fleetListen is the remote readers' listener, opened once the site
	// has one.
	fleetListen string
	// openAdapter opens the Bluetooth adapter hciN (ble.OpenHCI; tests
	// give software controllers).
	openAdapter func(index int) (goble.Device, error)
}

// serve runs the appliance until ctx ends. Everything that can fail at
// start-up (the database, the door output, SMTP settings, the radios and
// every listener) is done before it prints the setup link or says it is
// running. It shuts down in order: the web server finishes its requests,
// the readers stop, then the mail worker and the event log, then the
// database closes.
func serve(ctx context.Context, args []string, std stdio) error {
	return serveWith(ctx, args, std, ble.OpenHCI)
}

// serveWith is serve with the adapters opened by openAdapter.
func serveWith(ctx context.Context, args []string, std stdio, openAdapter func(int) (goble.Device, error)) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(std.err)
	cfg := serveConfig{openAdapter: openAdapter}
	fs.StringVar(&cfg.data, "data", "./postern-data", "data folder (the SQLite database lives here)")
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address the admin pages and APIs listen on: this machine only by default; :8443 (with TLS) for the network")
	fs.StringVar(&cfg.publicURL, "public-url", "", "URL people reach this appliance at, used in emailed links (default http(s)://localhost:PORT)")
	cfg.tls.register(fs)
	fs.StringVar(&cfg.trustedProxy, "trusted-proxy", "", "reverse proxies (CIDRs or addresses, comma-separated) whose X-Forwarded-For and X-Forwarded-Proto are believed")
	fs.StringVar(&cfg.radio, "radio", "auto", "auto, or a comma-separated list of sim and hciN (one reader per adapter): auto uses the first Bluetooth adapter, else the simulated air")
	fs.StringVar(&cfg.air, "air", "127.0.0.1:7390", "the simulated air's listen address")
	fs.DurationVar(&cfg.airIdle, "air-idle", ble.DefaultAirIdle, "simulated air: how long a key no reader takes up may wait before the air hangs up")
	fs.StringVar(&cfg.smtp, "smtp", "", "SMTP server: smtp://user:pass@host:port?tls=starttls|tls|none (also settable in the admin pages)")
	fs.StringVar(&cfg.mailFrom, "mail-from", "", "From address of the emails Postern sends")
	fs.StringVar(&cfg.door, "door", "log", "door output: log, or exec:COMMAND run on each grant")
	cfg.observe.register(fs)
	cfg.backups.register(fs)
	fs.DurationVar(&cfg.deadline, "deadline", 800*time.Millisecond, "how long after its challenge a reader accepts a key's response")
	fs.StringVar(&cfg.fleetListen, "fleet-listen", ":7422", "address remote readers connect to (TLS), opened once a reader is added on the Readers page")
	fs.DurationVar(&cfg.faults.Latency, "air-latency", 0, "simulated air: delay added to every message (fault tests)")
	fs.Float64Var(&cfg.faults.Drop, "air-drop", 0, "simulated air: probability from 0 to 1 that a message is lost (fault tests)")
	fs.DurationVar(&cfg.faults.RelayDelay, "air-relay-delay", 0, "simulated air: extra one-way delay of a relay (fault tests)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := cfg.observe.logger(std.err)
	if err != nil {
		return err
	}
	proxies, err := web.ParsePrefixes(cfg.trustedProxy)
	if err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	metricsAllow, err := cfg.observe.allowed()
	if err != nil {
		return err
	}
	backupPass, err := cfg.backups.check()
	if err != nil {
		return err
	}

	now, clock, err := siteClock(log)
	if err != nil {
		return err
	}
	output, err := ble.ParseDoor(cfg.door, log)
	if err != nil {
		return fmt.Errorf("--door: %w", err)
	}
	if was, changed, err := store.PrivateDir(cfg.data); err != nil {
		return err
	} else if changed {
		log.Warn("the data folder was open to other accounts: it is now private (0700)", "data", cfg.data, "was", fmt.Sprintf("%04o", was))
	}
	st, err := store.Open(ctx, cfg.data)
	if err != nil {
		return fmt.Errorf("open database in %s: %w", cfg.data, err)
	}
	st.SetClock(now)
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()

	metrics := web.NewMetrics(st, versionString())
	mailer, err := mail.NewMailer(web.MailOutbox(st), st, mail.MailerConfig{SMTP: cfg.smtp, From: cfg.mailFrom, Log: log,
		Options: []mail.Option{mailMetrics(metrics)}})
	if err != nil {
		return err
	}
	if !mailer.Configured(ctx) {
		log.Warn("no SMTP server set: emails wait in the outbox until one is set with --smtp or on the settings page")
	}
	if _, err := st.Site(ctx); err != nil {
		return err
	}
	// Load what readers decide from now, not at the first presentation.
	if _, err := st.LoadPolicy(ctx); err != nil {
		return err
	}
	events, err := newEventLog(ctx, st, log, metrics.Event)
	if err != nil {
		return err
	}
	// Background work stops, and is waited for, before the database
	// closes; the readers stop first, so the event log's last read
	// sees their last decisions.
	workers, stopWorkers := context.WithCancel(context.Background())
	// stopping ends the web server's long-lived work: live streams, the
	// summary of refused attempts.
	stopping := make(chan struct{})
	stopWeb := sync.OnceFunc(func() { close(stopping) })
	var background sync.WaitGroup
	fleetDone := runFleetHub(workers, cfg, st, log)
	defer func() {
		stopWeb()
		stopWorkers()
		background.Wait()
		fleetDone()
	}()
	radios, useAir, err := openRadios(workers, cfg, log)
	if err != nil {
		return err
	}
	airAddr := ""
	if useAir {
		airAddr = cfg.air
	}
	lns, err := bindListeners(cfg.listen, airAddr)
	if err != nil {
		return err
	}
	defer lns.close()
	ln := lns.http
	mode, err := cfg.tls.chooseMode(ln.Addr(), cfg.publicURL, len(proxies) > 0)
	if err != nil {
		return err
	}
	if cfg.publicURL == "" {
		scheme := "https://"
		if mode == tlsOff {
			scheme = "http://"
		}
		cfg.publicURL = scheme + displayAddr(ln.Addr().String())
	}
	if err := keepPublicURL(ctx, st, cfg.publicURL); err != nil {
		return err
	}
	tlsSet, err := cfg.tls.setup(mode, cfg.data, cfg.publicURL, ln.Addr(), log)
	if err != nil {
		return err
	}
	httpLn, err := tlsSet.listenHTTP(log)
	if err != nil {
		return err
	}
	if httpLn != nil {
		defer httpLn.Close()
	}
	var setupToken string
	if n, err := st.CountAdmins(ctx); err != nil {
		return err
	} else if n == 0 {
		setupToken = randomHex(16)
	}

	background.Go(func() { mailer.Run(workers) })
	background.Go(func() { events.run(workers) })
	// Alarms and webhooks follow the event log; like the mail worker they
	// keep their place in the database, so a restart loses nothing.
	hooks := webhook.NewWorker(web.WebhookQueue(st), webhook.Options{Now: now, Logger: log})
	alarms := web.NewAlarms(web.AlarmsConfig{Store: st, Mailer: mailer, Webhooks: hooks, PublicURL: cfg.publicURL, Now: now, Log: log})
	background.Go(func() { hooks.Run(workers) })
	background.Go(func() { alarms.Run(workers) })
	background.Go(func() {
		runBackups(workers, st, cfg.backups.BackupSchedule, store.BackupOptions{Passphrase: backupPass, Version: versionString()}, now, log)
	})

	doors := ble.NewDoors(ble.DoorsOptions{Output: output, Lines: ble.ChardevLines(), Clock: clock, Logger: log,
		Events: func(ctx context.Context, e *access.Event) error { return st.AppendEvent(ctx, e) }})
	doorsCtx, stopDoors := context.WithCancel(workers)
	doorsDone := followDoors(doorsCtx, localSite(st), doors, now, log)
	defer func() {
		// After the readers: no grant pulses a door that is let go.
		stopDoors()
		<-doorsDone
		if err := doors.Close(); err != nil {
			log.Error("putting the door relays in their safe state", "err", err)
		}
	}()

	readers := startReaders(workers, cfg, localSite(st), radios, lns.air, doors, now, log)
	defer readers.Close()
	readerMetrics(metrics, readers.Manager)

	touch := func(id int64) bool {
		r := readers.Reader(id)
		return r != nil && r.Touch()
	}
	doorInput := func(ctx context.Context, id int64, in string) error { return doors.Input(ctx, id, ble.DoorInput(in)) }
	e := web.New(web.Config{Store: st, Log: log, PublicURL: cfg.publicURL, SetupToken: setupToken, Now: now, Mailer: mailer,
		Touch: touch, Calibrate: calibrateWith(readers), DoorInput: doorInput, Readers: readers, Stopping: stopping, Background: &background,
		TLS: tlsSet.status(ln.Addr()), TrustedProxies: proxies, Metrics: metrics, MetricsAllow: metricsAllow,
		FleetToken: fleetToken(cfg.data), FleetAddress: fleetAddress(cfg.publicURL, cfg.fleetListen),
		Version: versionString(), BackupFlags: cfg.backups.BackupSchedule, PhoneExchange: readers.phone})
	exempt := proxyAddr(proxies)
	srv := newHTTPServer(e, defaultHTTPLimits, exempt, log)
	srv.TLSConfig = tlsSet.config
	// Live event streams never go idle: end them, so Shutdown only waits
	// for ordinary requests.
	srv.RegisterOnShutdown(stopWeb)
	errc := make(chan error, 2)
	go func() { errc <- tlsSet.serve(srv, ln) }()
	if httpLn != nil {
		redirect := newHTTPServer(tlsSet.redirect, defaultHTTPLimits, exempt, log)
		go func() { errc <- redirect.Serve(httpLn) }()
		defer redirect.Close()
	}
	if setupToken != "" {
		fmt.Fprintf(std.out, "\nPostern has no administrator yet. Open this one-time link to create one:\n\n    %s/setup?token=%s\n\n", strings.TrimRight(cfg.publicURL, "/"), setupToken)
		if tlsSet.fingerprint != "" {
			fmt.Fprintf(std.out, "The certificate is self-signed, so the browser will warn. Go on only if the SHA-256 fingerprint it shows is:\n\n    %s\n\n", tlsSet.fingerprint)
		}
	}
	log.Info("postern is running", "version", versionString(), "listen", ln.Addr().String(), "url", cfg.publicURL, "data", cfg.data, "tls", mode)
	tlsSet.announce(workers, log, ln.Addr(), httpLn)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	return nil
}

// displayAddr turns ":8080", "[::]:8080" or "127.0.0.1:8080" into
// "localhost:8080" for links.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsUnspecified() || ip.IsLoopback())) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
