package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"postern/store"
	"postern/web"
)

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
