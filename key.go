package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"postern/access/softkey"
)

// key is the reference soft key. Its exit codes are its interface: 0
// success (or granted), 1 refused (or denied), 2 an error such as a
// malformed state file; every error it returns is an *exitError.
func key(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("key", flag.ContinueOnError)
	fs.SetOutput(std.err)
	state := fs.String("state", "", "the key's state file (one credential per file)")
	if err := parseKeyFlags(fs, args); err != nil {
		return err
	}
	if *state == "" || fs.NArg() == 0 {
		return exitf(2, "usage: postern key --state FILE register CODE|LINK [--site URL] [--pin-file F] | present --reader NAME [--air ADDR] [--rssi DBM] [--touch] [--unlocked] [--json] | share --first F --last L --admin-email E | migrate | status | delete")
	}
	k := &softKey{path: *state, std: std}
	rest := fs.Args()[1:]
	var err error
	switch fs.Arg(0) {
	case "register":
		err = k.register(ctx, rest)
	case "status":
		err = k.status()
	case "delete":
		err = k.delete()
	case "present":
		err = k.present(ctx, rest)
	case "share":
		err = k.share(ctx, rest)
	case "migrate":
		err = k.migrate(ctx, rest)
	default:
		return exitf(2, "postern key: unknown command %q", fs.Arg(0))
	}
	if err != nil && ctx.Err() != nil {
		// The holder stopped whatever the key was waiting for: that is no
		// refusal, nor "no reader answered".
		return exitf(2, "Interrupted.")
	}
	return err
}

// parseKeyFlags is parseFlags for the key and each of its actions, so that
// every flag of theirs can come from POSTERN_<FLAG> as well. Usage errors
// exit 2: a bad POSTERN_* value is reported here, a bad flag the flag
// package has reported already.
func parseKeyFlags(fs *flag.FlagSet, args []string) error {
	if err := envDefault(fs); err != nil {
		return exitf(2, "%v", err)
	}
	if err := fs.Parse(args); err != nil {
		return exitQuiet(2)
	}
	return nil
}

// softKey is one key: its state file, and where it talks to its holder.
type softKey struct {
	path string
	std  stdio
}

// readPIN reads the key's passphrase (a version 1 key's PIN) from a file,
// or asks on the terminal.
func (k *softKey) readPIN(ctx context.Context, pinFile string, confirm bool) (string, error) {
	if pinFile != "" {
		b, err := os.ReadFile(pinFile)
		if err != nil {
			return "", fmt.Errorf("read --pin-file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	fd, ok := terminal(k.std.in)
	if !ok {
		return "", errors.New("give the key's passphrase with --pin-file FILE (there is no terminal to ask on)")
	}
	a, err := askSecret(ctx, fd, k.std.err, "Passphrase that unlocks the key: ")
	if err != nil || !confirm {
		return a, err
	}
	b, err := askSecret(ctx, fd, k.std.err, "The same passphrase again: ")
	if err != nil {
		return "", err
	}
	if a != b {
		return "", errors.New("the two passphrases are not the same")
	}
	return a, nil
}

// status shows the credential this key holds; 1 when it holds none.
func (k *softKey) status() error {
	format, err := softkey.Format(k.path)
	if errors.Is(err, softkey.ErrNoCredential) {
		fmt.Fprintln(k.std.out, "No credential. Register one with the code from your invitation email.")
		return exitQuiet(1)
	}
	if err != nil {
		return exitf(2, "%v", err)
	}
	if format == softkey.FormatVersion2 {
		return k.statusV2()
	}
	state, err := softkey.Load(k.path)
	if err != nil {
		return exitf(2, "%v", err)
	}
	fmt.Fprintln(k.std.out, "Protocol version 1: move it to version 2 with `migrate`.")
	fmt.Fprintf(k.std.out, "Credential %s\nHolder: %s %s\nHome site: %s (%s)\nRegistered: %s\n", state.CredentialID, state.FirstName, state.LastName, state.Home.Name, state.Home.URL, state.RegisteredAt.Format(time.RFC3339))
	if !state.Home.LastUsed.IsZero() {
		fmt.Fprintf(k.std.out, "Last used at %s: %s\n", state.Home.Name, state.Home.LastUsed.Format(time.RFC3339))
	}
	for _, s := range state.Sites {
		fmt.Fprintf(k.std.out, "Also used at: %s, last %s\n", s.Name, s.LastUsed.Format(time.RFC3339))
	}
	return nil
}

// statusV2 shows a version 2 key: what is public in its state file, so it
// needs no passphrase.
func (k *softKey) statusV2() error {
	state, err := softkey.LoadV2(k.path)
	if err != nil {
		return exitf(2, "%v", err)
	}
	home := state.Home()
	fmt.Fprintf(k.std.out, "Protocol version 2\nHolder: %s %s\nHome site: %s (%s), credential %s, site key %s\nRegistered: %s\n",
		state.FirstName, state.LastName, home.Name, home.URL, home.CredentialID, home.KeyID, state.RegisteredAt.Format(time.RFC3339))
	for _, s := range state.Sites {
		if s.Home {
			continue
		}
		fmt.Fprintf(k.std.out, "Also added at: %s, as credential %s, site key %s\n", s.Name, s.CredentialID, s.KeyID)
	}
	for _, s := range state.Sites {
		if !s.LastUsed.IsZero() {
			fmt.Fprintf(k.std.out, "Last used at %s: %s\n", s.Name, s.LastUsed.Format(time.RFC3339))
		}
	}
	for _, p := range state.Pending {
		fmt.Fprintf(k.std.out, "Sent to %s on %s: waiting for their site to introduce itself at a reader\n", p.AdminEmail, p.SentAt.Format("2 Jan 2006"))
	}
	return nil
}

// delete removes the state file, and with it the credential's keys.
func (k *softKey) delete() error {
	if _, err := os.Stat(k.path); errors.Is(err, os.ErrNotExist) {
		return exitf(1, "No credential to delete in %s.", k.path)
	}
	if err := os.Remove(k.path); err != nil {
		return exitf(2, "%v", err)
	}
	fmt.Fprintln(k.std.out, "Credential deleted from this key. To use a key again, register with a new code from your administrator.")
	return nil
}
