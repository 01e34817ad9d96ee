package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/web"
)

// register binds a new credential to this key with the code (or the link)
// from an invitation.
func (k *softKey) register(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("key register", flag.ContinueOnError)
	fs.SetOutput(k.std.err)
	site := fs.String("site", "", "the site's address, when giving a bare code")
	pinFile := fs.String("pin-file", "", "file holding the PIN that protects the user-verification key")
	if err := parseKeyFlags(fs, args); err != nil {
		return err
	}
	// Accept flags after the code as well as before it.
	var positional []string
	for fs.NArg() > 0 {
		positional = append(positional, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitQuiet(2)
		}
	}
	if len(positional) != 1 {
		return exitf(2, "usage: postern key --state FILE register CODE|LINK [--site URL] [--pin-file F]")
	}
	if existing, err := softkey.Load(k.path); err == nil {
		return exitf(1, "Registration Error: this key already holds a credential for %s. Delete it first (postern key --state %s delete) or use another --state file: one credential per key.", existing.Home.Name, k.path)
	} else if !errors.Is(err, softkey.ErrNoCredential) {
		return exitf(2, "%v", err)
	}
	siteURL, rawCode, err := parseRegistrationInput(positional[0], *site)
	if err != nil {
		return exitf(1, "Registration Error: %v", err)
	}
	code, ok := access.NormalizeCode(rawCode)
	if !ok {
		return exitf(1, "Registration Error: a registration code is 32 digits; check that you copied all of it.")
	}
	pin, err := k.readPIN(ctx, *pinFile, true)
	if err != nil {
		return exitf(2, "%v", err)
	}
	keys, err := softkey.NewKeys()
	if err != nil {
		return exitf(2, "%v", err)
	}
	state := &softkey.State{}
	if err := state.Seal(keys, pin); err != nil {
		return exitf(2, "%v", err)
	}
	tapPub, _ := keys.Tap.PublicKey.Bytes()
	tapSig, uvSig, err := protocol.SignRegistration(code, keys.Tap, keys.UV)
	if err != nil {
		return exitf(2, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &keyClient{Site: siteURL}
	resp, err := client.Register(ctx, web.KeyRegisterRequest{Code: code, TapKey: tapPub, UVKey: state.UVKeyPublic, TapSig: tapSig, UVSig: uvSig, Device: "postern key " + versionString()})
	var apiErr *keyAPIError
	switch {
	case errors.As(err, &apiErr):
		return exitf(1, "Registration Error: %s", apiErr.Message)
	case errors.Is(err, errSiteUnreachable):
		return exitf(2, "Registration Error: %v. Check the address and that this device can reach the site's network.", err)
	case err != nil:
		return exitf(2, "Registration Error: %v", err)
	}
	if _, err := protocol.ParsePublicKey(resp.Site.PublicKey); err != nil {
		return exitf(2, "Registration Error: the site sent an unusable identity: %v", err)
	}
	state.CredentialID = resp.CredentialID
	state.FirstName, state.LastName = resp.FirstName, resp.LastName
	state.Home = softkey.Site{ID: resp.Site.ID, Name: resp.Site.Name, URL: resp.Site.URL, PublicKey: resp.Site.PublicKey}
	state.RegisteredAt = time.Now().UTC()
	if err := state.Save(k.path); err != nil {
		return exitf(2, "registered, but the state file could not be written: %v", err)
	}
	fmt.Fprintf(k.std.out, "Registered: this key is now %s's credential at %s (credential %s).\n", strings.TrimSpace(state.FirstName+" "+state.LastName), state.Home.Name, state.CredentialID)
	return nil
}
