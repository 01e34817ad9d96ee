// Command postern is a self-hosted access-control appliance: it turns staff
// phones into door keys. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// stdio is what a command reads from and writes to: the process's own, or a
// test's buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command runs one subcommand with the arguments after its name. An
// *exitError it returns chooses the exit code; any other error exits 1.
type command func(ctx context.Context, args []string, std stdio) error

func main() {
	os.Exit(run(os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}))
}

// run picks the command, runs it until it returns or an interrupt or
// SIGTERM ends its context, and turns its error into the exit code.
func run(args []string, std stdio) int {
	if len(args) == 0 {
		usage(std.err)
		return 2
	}
	var cmd command
	switch args[0] {
	case "serve":
		cmd = serve
	case "reader":
		cmd = reader
	case "admin":
		cmd = admin
	case "key":
		cmd = key
	case "service":
		cmd = service
	case "door":
		cmd = door
	case "backup":
		cmd = backupCmd
	case "restore":
		cmd = restoreCmd
	case "bench":
		cmd = bench
	case "version", "--version", "-v":
		cmd = printVersion
	case "help", "-h", "--help":
		cmd = help
	default:
		fmt.Fprintf(std.err, "postern: unknown command %q\n\n", args[0])
		usage(std.err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(cmd(ctx, args[1:], std), std.err)
}

// exitError ends a command with an exit code of its own: the soft key's
// 1 (refused, denied) and 2 (an error). Its message, when it has one, is
// printed as it is, in the key's words.
type exitError struct {
	code int
	err  error // nil: the command has already said what went wrong
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitf is an exitError with a message.
func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// exitQuiet is an exitError for a failure already reported, such as a bad
// flag the flag package has printed.
func exitQuiet(code int) error {
	return &exitError{code: code}
}

// exitCode reports err on stderr and returns the process's exit code.
func exitCode(err error, stderr io.Writer) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(stderr, ee.err)
		}
		return ee.code
	case errors.Is(err, flag.ErrHelp):
		return 1
	default:
		fmt.Fprintln(stderr, "postern:", err)
		return 1
	}
}

func printVersion(_ context.Context, _ []string, std stdio) error {
	fmt.Fprintln(std.out, "postern", versionString())
	return nil
}

func help(_ context.Context, _ []string, std stdio) error {
	usage(std.out)
	return nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Postern: phones as door keys, on your own gateway.

Usage:
  postern serve [flags]                      run the appliance
  postern reader --hub ADDR [--enrol TOKEN]  run a remote reader at a door
  postern admin create --email E [--data D]  add an administrator (password on stdin)
  postern admin list | remove --email E      list or remove administrators (never the last one)
  postern admin token --email E --name N [--expires 90d]
                                             print a new API token
  postern admin tokens | revoke-token --id N list or revoke API tokens
  postern key --state FILE COMMAND           the reference soft key (register, present, share, status, delete)
  postern backup --data D --out FILE [--encrypt | --passphrase-file F]
                                             write a backup while serve runs or not
  postern restore --data D --in FILE [--passphrase-file F]
                                             restore a backup into an empty data folder
  postern service print [--binary P] [--data D]  print a hardened systemd unit
  postern door --reader NAME open|close|exit a simulated door contact or exit button on the simulated air
  postern bench [--keys N --readers M --duration D --browse B]
                                             load test on a made-up site: decisions per second and latency
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
