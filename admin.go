package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"postern/store"
	"postern/web"
)

// admin adds an administrator or an API token to a data folder, while
// serve runs on it or not.
func admin(ctx context.Context, args []string, std stdio) error {
	if len(args) == 0 {
		return errors.New("admin: give create or token")
	}
	fs := flag.NewFlagSet("admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(std.err)
	data := fs.String("data", "./postern-data", "data folder")
	email := fs.String("email", "", "the administrator's email")
	name := fs.String("name", "", "token name (admin token)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("--email is required")
	}
	st, err := store.Open(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "create":
		pw, err := readPassword(ctx, std)
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
		fmt.Fprintf(std.out, "administrator %s created\n", *email)
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
		fmt.Fprintf(std.err, "API token %q for %s (shown once; send it as Authorization: Bearer TOKEN):\n", *name, *email)
		fmt.Fprintln(std.out, token)
		return nil
	}
	return fmt.Errorf("admin: unknown command %q (create or token)", args[0])
}
