package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/web"
)

// share is "Add credential to new site": the home site emails this
// credential to another site's administrator.
func (k *softKey) share(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("key share", flag.ContinueOnError)
	fs.SetOutput(k.std.err)
	first := fs.String("first", "", "your first name, so the other site's administrator knows who is asking")
	last := fs.String("last", "", "your last name")
	adminEmail := fs.String("admin-email", "", "the other site's administrator's email address")
	if err := parseKeyFlags(fs, args); err != nil {
		return err
	}
	if *adminEmail == "" || (*first == "" && *last == "") {
		return exitf(2, "usage: postern key --state FILE share --first F --last L --admin-email E")
	}
	state, err := softkey.Load(k.path)
	if err != nil {
		return exitf(2, "%v", err)
	}
	tap, err := state.Tap()
	if err != nil {
		return exitf(2, "%v", err)
	}
	id, err := access.ParseCredentialID(state.CredentialID)
	if err != nil {
		return exitf(2, "the state file is damaged: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &keyClient{Site: state.Home.URL}
	req := web.KeyShareRequest{CredentialID: state.CredentialID, FirstName: *first, LastName: *last, AdminEmail: *adminEmail}
	resp, err := client.Share(ctx, req, func(body []byte, at time.Time) []byte {
		return protocol.SignShare(protocol.CredentialID(id), body, at, tap)
	}, time.Now())
	var apiErr *keyAPIError
	switch {
	case errors.As(err, &apiErr):
		return exitf(1, "Could not send the credential: %s", apiErr.Message)
	case err != nil:
		return exitf(2, "Could not send the credential: %v", err)
	}
	fmt.Fprintf(k.std.out, "Sent: %s will email your credential to %s. They add it to your user record there (valid until %s).\n",
		state.Home.Name, *adminEmail, resp.ExpiresAt.Local().Format("2 Jan 2006"))
	return nil
}
