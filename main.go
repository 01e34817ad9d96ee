// Command postern is a self-hosted access-control appliance: it turns staff
// phones into door keys. See README.md.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/ble"
	"postern/mail"
	"postern/store"
	"postern/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stdout, stderr)
	case "admin":
		err = adminCmd(args[1:], stdin, stdout, stderr)
	case "key":
		return keyCmd(args[1:], stdin, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "postern", versionString())
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "postern: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "postern:", err)
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Postern: phones as door keys, on your own gateway.

Usage:
  postern serve [flags]                      run the appliance
  postern admin create --email E [--data D]  add an administrator (password on stdin)
  postern admin token --email E --name N     print a new API token
  postern key --state FILE COMMAND           the reference soft key (register, status, delete)
  postern version

Run "postern COMMAND -h" for a command's flags.
`)
}

func versionString() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// envDefault lets every flag be set by POSTERN_<FLAG> as well.
func envDefault(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "POSTERN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

// parseFlags applies environment defaults, then the command line, which wins.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := envDefault(fs); err != nil {
		return err
	}
	return fs.Parse(args)
}

type serveConfig struct {
	data      string
	listen    string
	publicURL string
	radio     string
	air       string
	smtp      string
	mailFrom  string
	door      string
	logLevel  string
	deadline  time.Duration
	faults    ble.Faults
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.data, "data", "./postern-data", "data folder (the SQLite database lives here)")
	fs.StringVar(&cfg.listen, "listen", ":8080", "address the admin pages and APIs listen on")
	fs.StringVar(&cfg.publicURL, "public-url", "", "URL people reach this appliance at, used in emailed links (default http://localhost:PORT)")
	fs.StringVar(&cfg.radio, "radio", "auto", "auto, sim or hciN: auto uses the first Bluetooth adapter, else the simulated air")
	fs.StringVar(&cfg.air, "air", "127.0.0.1:7390", "the simulated air's listen address")
	fs.StringVar(&cfg.smtp, "smtp", "", "SMTP server: smtp://user:pass@host:port?tls=starttls|tls|none (also settable in the admin pages)")
	fs.StringVar(&cfg.mailFrom, "mail-from", "", "From address of the emails Postern sends")
	fs.StringVar(&cfg.door, "door", "log", "door output: log, or exec:COMMAND run on each grant")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&cfg.deadline, "deadline", 800*time.Millisecond, "how long after its challenge a reader accepts a key's response")
	fs.DurationVar(&cfg.faults.Latency, "air-latency", 0, "simulated air: delay added to every message (fault tests)")
	fs.Float64Var(&cfg.faults.Drop, "air-drop", 0, "simulated air: probability from 0 to 1 that a message is lost (fault tests)")
	fs.DurationVar(&cfg.faults.RelayDelay, "air-relay-delay", 0, "simulated air: extra one-way delay of a relay (fault tests)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := store.Open(ctx, cfg.data)
	if err != nil {
		return fmt.Errorf("open database in %s: %w", cfg.data, err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	if cfg.publicURL == "" {
		cfg.publicURL = "http://" + displayAddr(ln.Addr().String())
	}

	var setupToken string
	if n, err := st.CountAdmins(ctx); err != nil {
		return err
	} else if n == 0 {
		setupToken = randomHex(16)
		fmt.Fprintf(stdout, "\nPostern has no administrator yet. Open this one-time link to create one:\n\n    %s/setup?token=%s\n\n", strings.TrimRight(cfg.publicURL, "/"), setupToken)
	}

	mailer, err := mail.NewMailer(web.MailOutbox(st), st, mail.MailerConfig{SMTP: cfg.smtp, From: cfg.mailFrom, Log: log})
	if err != nil {
		return err
	}
	if !mailer.Configured(ctx) {
		log.Warn("no SMTP server set: emails wait in the outbox until one is set with --smtp or on the settings page")
	}
	if _, err := st.Site(ctx); err != nil {
		return err
	}
	// Background work stops, and is waited for, before the database closes.
	workers, stopWorkers := context.WithCancel(context.Background())
	var mailDone sync.WaitGroup
	defer func() {
		stopWorkers()
		mailDone.Wait()
	}()
	mailDone.Go(func() { mailer.Run(workers) })

	readers, err := startReaders(workers, cfg, st, log)
	if err != nil {
		return err
	}
	defer readers.Close()

	touch := func(id int64) bool {
		r := readers.Reader(id)
		return r != nil && r.Touch()
	}
	stopping := make(chan struct{})
	e := web.New(web.Config{Store: st, Log: log, PublicURL: cfg.publicURL, SetupToken: setupToken, Mailer: mailer, Touch: touch, Stopping: stopping})
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	// Live event streams never go idle: end them, so Shutdown only waits
	// for ordinary requests.
	srv.RegisterOnShutdown(func() { close(stopping) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("postern is running", "version", versionString(), "listen", ln.Addr().String(), "url", cfg.publicURL, "data", cfg.data)

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

// displayAddr turns ":8080" or "[::]:8080" into "localhost:8080" for links.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func adminCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("admin: give create or token")
	}
	fs := flag.NewFlagSet("admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./postern-data", "data folder")
	email := fs.String("email", "", "the administrator's email")
	name := fs.String("name", "", "token name (admin token)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("--email is required")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "create":
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		hash, err := web.HashPassword(pw)
		if err != nil {
			return err
		}
		if _, err := st.CreateAdmin(ctx, "cli", *email, hash, false); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "administrator %s created\n", *email)
		return nil
	case "token":
		if *name == "" {
			return errors.New("--name is required: say what the token is for")
		}
		a, err := st.AdminByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("no administrator %s", *email)
		}
		token := web.NewAPIToken()
		if err := st.CreateAPIToken(ctx, "cli", a.ID, *name, token); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "API token %q for %s (shown once; send it as Authorization: Bearer TOKEN):\n", *name, *email)
		fmt.Fprintln(stdout, token)
		return nil
	}
	return fmt.Errorf("admin: unknown command %q (create or token)", args[0])
}

// readPassword reads a password from the terminal without echo, or the
// first line of stdin when it is not a terminal.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("give the password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// keyCmd is the reference soft key. Exit codes: 0 success (or granted), 1
// refused (or denied), 2 an error such as a malformed state file.
func keyCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "the key's state file (one credential per file)")
	if err := parseFlags(fs, args); err != nil {
		return 2
	}
	if *state == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: postern key --state FILE register CODE|LINK [--site URL] [--pin-file F] | present --reader NAME [--air ADDR] [--rssi DBM] [--touch] [--unlocked] | share --first F --last L --admin-email E | status | delete")
		return 2
	}
	k := &softKey{state: *state, stdin: stdin, stdout: stdout, stderr: stderr}
	rest := fs.Args()[1:]
	switch fs.Arg(0) {
	case "register":
		return k.register(rest)
	case "status":
		return k.status()
	case "delete":
		return k.delete()
	case "present":
		return k.present(rest)
	case "share":
		return k.share(rest)
	}
	fmt.Fprintf(stderr, "postern key: unknown command %q\n", fs.Arg(0))
	return 2
}

type softKey struct {
	state          string
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (k *softKey) fail(code int, format string, args ...any) int {
	fmt.Fprintf(k.stderr, format+"\n", args...)
	return code
}

// readPIN reads the PIN from a file, or asks on the terminal.
func (k *softKey) readPIN(pinFile string, confirm bool) (string, error) {
	if pinFile != "" {
		b, err := os.ReadFile(pinFile)
		if err != nil {
			return "", fmt.Errorf("read --pin-file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	f, ok := k.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("give the key's PIN with --pin-file FILE (there is no terminal to ask on)")
	}
	fmt.Fprint(k.stderr, "PIN for unlocking the key: ")
	a, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(k.stderr)
	if err != nil || !confirm {
		return string(a), err
	}
	fmt.Fprint(k.stderr, "The same PIN again: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(k.stderr)
	if err != nil {
		return "", err
	}
	if string(a) != string(b) {
		return "", errors.New("the two PINs are not the same")
	}
	return string(a), nil
}

func (k *softKey) register(args []string) int {
	fs := flag.NewFlagSet("key register", flag.ContinueOnError)
	fs.SetOutput(k.stderr)
	site := fs.String("site", "", "the site's address, when giving a bare code")
	pinFile := fs.String("pin-file", "", "file holding the PIN that protects the user-verification key")
	// Accept flags before or after the code.
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		return k.fail(2, "usage: postern key --state FILE register CODE|LINK [--site URL] [--pin-file F]")
	}
	if st, err := softkey.Load(k.state); err == nil {
		return k.fail(1, "Registration Error: this key already holds a credential for %s. Delete it first (postern key --state %s delete) or use another --state file: one credential per key.", st.Home.Name, k.state)
	} else if !errors.Is(err, softkey.ErrNoCredential) {
		return k.fail(2, "%v", err)
	}
	siteURL, rawCode, err := web.ParseRegistrationInput(positional[0], *site)
	if err != nil {
		return k.fail(1, "Registration Error: %v", err)
	}
	code, ok := access.NormalizeCode(rawCode)
	if !ok {
		return k.fail(1, "Registration Error: a registration code is 32 digits; check that you copied all of it.")
	}
	pin, err := k.readPIN(*pinFile, true)
	if err != nil {
		return k.fail(2, "%v", err)
	}
	keys, err := softkey.NewKeys()
	if err != nil {
		return k.fail(2, "%v", err)
	}
	st := &softkey.State{}
	if err := st.Seal(keys, pin); err != nil {
		return k.fail(2, "%v", err)
	}
	tapPub, _ := keys.Tap.PublicKey.Bytes()
	tapSig, uvSig, err := protocol.SignRegistration(code, keys.Tap, keys.UV)
	if err != nil {
		return k.fail(2, "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &web.KeyClient{Site: siteURL}
	resp, err := client.Register(ctx, web.KeyRegisterRequest{Code: code, TapKey: tapPub, UVKey: st.UVKeyPublic, TapSig: tapSig, UVSig: uvSig, Device: "postern key " + versionString()})
	var apiErr *web.KeyAPIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == web.KeyErrRegistration:
		return k.fail(1, "Registration Error: %s", apiErr.Message)
	case errors.As(err, &apiErr):
		return k.fail(1, "Registration Error: %s", apiErr.Message)
	case errors.Is(err, web.ErrSiteUnreachable):
		return k.fail(2, "Registration Error: %v. Check the address and that this device can reach the site's network.", err)
	case err != nil:
		return k.fail(2, "Registration Error: %v", err)
	}
	if _, err := protocol.ParsePublicKey(resp.Site.PublicKey); err != nil {
		return k.fail(2, "Registration Error: the site sent an unusable identity: %v", err)
	}
	st.CredentialID = resp.CredentialID
	st.FirstName, st.LastName = resp.FirstName, resp.LastName
	st.Home = softkey.Site{ID: resp.Site.ID, Name: resp.Site.Name, URL: resp.Site.URL, PublicKey: resp.Site.PublicKey}
	st.RegisteredAt = time.Now().UTC()
	if err := st.Save(k.state); err != nil {
		return k.fail(2, "registered, but the state file could not be written: %v", err)
	}
	fmt.Fprintf(k.stdout, "Registered: this key is now %s's credential at %s (credential %s).\n", strings.TrimSpace(st.FirstName+" "+st.LastName), st.Home.Name, st.CredentialID)
	return 0
}

func (k *softKey) status() int {
	st, err := softkey.Load(k.state)
	if errors.Is(err, softkey.ErrNoCredential) {
		fmt.Fprintln(k.stdout, "No credential. Register one with the code from your invitation email.")
		return 1
	}
	if err != nil {
		return k.fail(2, "%v", err)
	}
	fmt.Fprintf(k.stdout, "Credential %s\nHolder: %s %s\nHome site: %s (%s)\nRegistered: %s\n", st.CredentialID, st.FirstName, st.LastName, st.Home.Name, st.Home.URL, st.RegisteredAt.Format(time.RFC3339))
	if !st.Home.LastUsed.IsZero() {
		fmt.Fprintf(k.stdout, "Last used at %s: %s\n", st.Home.Name, st.Home.LastUsed.Format(time.RFC3339))
	}
	for _, s := range st.Sites {
		fmt.Fprintf(k.stdout, "Also used at: %s, last %s\n", s.Name, s.LastUsed.Format(time.RFC3339))
	}
	return 0
}

func (k *softKey) delete() int {
	if _, err := os.Stat(k.state); errors.Is(err, os.ErrNotExist) {
		return k.fail(1, "No credential to delete in %s.", k.state)
	}
	if err := os.Remove(k.state); err != nil {
		return k.fail(2, "%v", err)
	}
	fmt.Fprintln(k.stdout, "Credential deleted from this key. To use a key again, register with a new code from your administrator.")
	return 0
}

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

func (k *softKey) present(args []string) int {
	fs := flag.NewFlagSet("key present", flag.ContinueOnError)
	fs.SetOutput(k.stderr)
	air := fs.String("air", ble.DefaultAirAddr, "the simulated air's address")
	reader := fs.String("reader", "", "the reader to present at (its name on the air, e.g. front for sim:front)")
	rssi := fs.Int("rssi", -55, "signal strength the reader hears, in dBm")
	touch := fs.Bool("touch", false, "touch the reader (touch-mode access points)")
	unlocked := fs.Bool("unlocked", false, "prove the phone is unlocked (asks for the PIN)")
	pinFile := fs.String("pin-file", "", "file holding the PIN, for --unlocked in scripts")
	strict := fs.Bool("strict", false, "answer no site this key does not know")
	connect := fs.Bool("connect", false, "connect to the reader's service instead of advertising (like a backgrounded iPhone)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up when no reader takes the key up within this time")
	if err := envDefault(fs); err != nil {
		return k.fail(2, "%v", err)
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *reader == "" {
		return k.fail(2, "give --reader NAME: the reader to present at")
	}
	st, err := softkey.Load(k.state)
	if err != nil {
		if errors.Is(err, softkey.ErrNoCredential) {
			return k.fail(2, "%v", err)
		}
		return k.fail(2, "%v", err)
	}
	cred, err := keyCredential(st, *pinFile, k)
	if err != nil {
		return k.fail(2, "%v", err)
	}
	cred.Strict = *strict || st.Strict
	if *unlocked {
		// Unlock before going near the reader: the PIN's key derivation
		// takes longer than the reader waits for an answer.
		uv, err := cred.UV()
		if errors.Is(err, softkey.ErrWrongPIN) {
			return k.fail(1, "Access denied: wrong PIN")
		}
		if err != nil {
			return k.fail(2, "%v", err)
		}
		cred.UV = func() (*ecdsa.PrivateKey, error) { return uv, nil }
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	discovery := ble.DiscoverAdvertise
	if *connect {
		discovery = ble.DiscoverConnect
	}
	presence, err := ble.DialAir(ctx, *air, ble.Presence{Reader: *reader, RSSI: *rssi, Touch: *touch, Discovery: discovery})
	if err != nil {
		if errors.Is(err, ble.ErrNoReader) {
			return k.fail(2, "Error: %v", err)
		}
		return k.fail(2, "Error: cannot join the simulated air at %s: %v", *air, err)
	}
	defer presence.Close()
	link, err := presence.Link(ctx)
	if err != nil {
		if errors.Is(err, ble.ErrNotTakenUp) {
			return k.fail(1, "No reader answered: %v", err)
		}
		return k.fail(2, "Error: %v", err)
	}
	defer link.Close()
	out, err := ble.PresentKey(ctx, link, cred, *unlocked)
	switch {
	case errors.Is(err, ble.ErrUnknownSite):
		return k.fail(1, "Access denied: this reader belongs to a site this key does not know (strict mode)")
	case errors.Is(err, protocol.ErrUnsupportedVersion):
		return k.fail(2, "Error: this reader speaks a newer protocol: update postern key")
	case errors.Is(err, softkey.ErrWrongPIN):
		return k.fail(1, "Access denied: wrong PIN")
	case errors.Is(err, ble.ErrNoResult):
		fmt.Fprintln(k.stdout, "Access denied: the reader did not accept the answer (too late, or not valid)")
		return 1
	case err != nil:
		return k.fail(2, "Error: %v", err)
	}
	now := time.Now().UTC()
	siteID := hex.EncodeToString(out.Site[:])
	if known, ok := st.Site(siteID); ok {
		st.Remember(known, now)
	} else if out.Result.Granted {
		// Learned on first contact: a site this key was added to.
		st.Remember(softkey.Site{ID: siteID, Name: "site " + siteID[:8]}, now)
	}
	if err := st.Save(k.state); err != nil {
		fmt.Fprintf(k.stderr, "warning: could not update the state file: %v\n", err)
	}
	if out.Result.Granted {
		fmt.Fprintln(k.stdout, "Access granted")
		return 0
	}
	msg := "Access denied: " + out.Result.Reason.String()
	if out.Result.Message != "" {
		msg += " (" + out.Result.Message + ")"
	}
	fmt.Fprintln(k.stdout, msg)
	if out.Result.Reason == protocol.ReasonUnlockRequired && !*unlocked {
		fmt.Fprintln(k.stderr, "This door needs the phone unlocked: present again with --unlocked.")
	}
	return 1
}

// keyCredential turns a state file into what the exchange needs.
func keyCredential(st *softkey.State, pinFile string, k *softKey) (ble.KeyCredential, error) {
	var cred ble.KeyCredential
	id, err := access.ParseCredentialID(st.CredentialID)
	if err != nil {
		return cred, fmt.Errorf("the state file is damaged: %w", err)
	}
	cred.ID = protocol.CredentialID(id)
	if cred.Tap, err = st.Tap(); err != nil {
		return cred, err
	}
	cred.UV = func() (*ecdsa.PrivateKey, error) {
		pin, err := k.readPIN(pinFile, false)
		if err != nil {
			return nil, err
		}
		return st.UV(pin)
	}
	cred.Sites = map[protocol.SiteID]*ecdsa.PublicKey{}
	for _, s := range append([]softkey.Site{st.Home}, st.Sites...) {
		if len(s.PublicKey) == 0 {
			continue
		}
		pub, err := protocol.ParsePublicKey(s.PublicKey)
		if err != nil {
			return cred, fmt.Errorf("the state file holds a bad key for %s: %w", s.Name, err)
		}
		raw, err := hex.DecodeString(s.ID)
		if err != nil || len(raw) != 16 {
			return cred, fmt.Errorf("the state file holds a bad site id %q", s.ID)
		}
		cred.Sites[protocol.SiteID(raw)] = pub
	}
	return cred, nil
}

// share is "Add credential to new site": the home site emails this
// credential to another site's administrator.
func (k *softKey) share(args []string) int {
	fs := flag.NewFlagSet("key share", flag.ContinueOnError)
	fs.SetOutput(k.stderr)
	first := fs.String("first", "", "your first name, so the other site's administrator knows who is asking")
	last := fs.String("last", "", "your last name")
	adminEmail := fs.String("admin-email", "", "the other site's administrator's email address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *adminEmail == "" || (*first == "" && *last == "") {
		return k.fail(2, "usage: postern key --state FILE share --first F --last L --admin-email E")
	}
	st, err := softkey.Load(k.state)
	if err != nil {
		return k.fail(2, "%v", err)
	}
	tap, err := st.Tap()
	if err != nil {
		return k.fail(2, "%v", err)
	}
	id, err := access.ParseCredentialID(st.CredentialID)
	if err != nil {
		return k.fail(2, "the state file is damaged: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &web.KeyClient{Site: st.Home.URL}
	req := web.KeyShareRequest{CredentialID: st.CredentialID, FirstName: *first, LastName: *last, AdminEmail: *adminEmail}
	resp, err := client.Share(ctx, req, func(body []byte, at time.Time) []byte {
		return protocol.SignShare(protocol.CredentialID(id), body, at, tap)
	}, time.Now())
	var apiErr *web.KeyAPIError
	switch {
	case errors.As(err, &apiErr):
		return k.fail(1, "Could not send the credential: %s", apiErr.Message)
	case err != nil:
		return k.fail(2, "Could not send the credential: %v", err)
	}
	fmt.Fprintf(k.stdout, "Sent: %s will email your credential to %s. They add it to your user record there (valid until %s).\n",
		st.Home.Name, *adminEmail, resp.ExpiresAt.Local().Format("2 Jan 2006"))
	return 0
}
