// Command postern is a self-hosted access-control appliance: it turns staff
// phones into door keys. See README.md.
package main

import (
	"bufio"
	"context"
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
	"syscall"
	"time"

	"golang.org/x/term"

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

	e := web.New(web.Config{Store: st, Log: log, PublicURL: cfg.publicURL, SetupToken: setupToken})
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
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
