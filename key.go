package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"postern/access/softkey"
)

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
