package main

import (
	"context"
	"crypto/rand"
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
	pinFile := fs.String("pin-file", "", "file holding the key's passphrase: sending the credential takes the holder's unlock")
	if err := parseKeyFlags(fs, args); err != nil {
		return err
	}
	if *adminEmail == "" || (*first == "" && *last == "") {
		return exitf(2, "usage: postern key --state FILE share --first F --last L --admin-email E")
	}
	format, err := softkey.Format(k.path)
	if err != nil {
		return exitf(2, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req := web.KeyShareRequest{FirstName: *first, LastName: *last, AdminEmail: *adminEmail}
	if format == softkey.FormatVersion2 {
		return k.shareV2(ctx, req, *pinFile)
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
	req.CredentialID = state.CredentialID
	client := &keyClient{Site: state.Home.URL}
	resp, err := client.Share(ctx, req, func(body []byte, at time.Time) []byte {
		return protocol.SignShare(protocol.CredentialID(id), body, at, tap)
	}, time.Now())
	if err := shareFailed(err); err != nil {
		return err
	}
	fmt.Fprintf(k.std.out, "Sent: %s will email your credential to %s. They add it to your user record there (valid until %s).\n",
		state.Home.Name, *adminEmail, resp.ExpiresAt.Local().Format("2 Jan 2006"))
	return nil
}

// shareV2 sends a version 2 share: a key pair, a credential id and an
// introduction secret made for the other site alone, kept as a pending
// share until that site introduces itself at a reader.
func (k *softKey) shareV2(ctx context.Context, req web.KeyShareRequest, pinFile string) error {
	state, _, err := k.openV2(ctx, pinFile, "Could not send the credential")
	if err != nil {
		return err
	}
	home := state.Home()
	homeKeys, err := state.Keys(home.CredentialID)
	if err != nil {
		return exitf(2, "%v", err)
	}
	homeID, err := access.ParseCredentialID(home.CredentialID)
	if err != nil {
		return exitf(2, "the state file is damaged: %v", err)
	}
	keys, tapPub, uvPub, err := newSiteKeys()
	if err != nil {
		return err
	}
	siteCred := access.NewCredentialID()
	intro := make([]byte, protocol.SecretSize)
	rand.Read(intro)
	req.CredentialID = home.CredentialID
	v2 := web.KeyShareV2Request{KeyShareRequest: req, SiteCredentialID: siteCred.String(), TapKey: tapPub, UVKey: uvPub, Introduction: intro}
	// Kept before it is sent: a token out without its keys here would be
	// useless; one kept and not sent expires harmlessly.
	pending := softkey.PendingShare{CredentialID: siteCred.String(), AdminEmail: req.AdminEmail, SentAt: time.Now().UTC()}
	pending.ExpiresAt = pending.SentAt.Add(365 * 24 * time.Hour)
	if err := state.AddPending(pending, keys, intro); err != nil {
		return exitf(2, "%v", err)
	}
	if err := state.Save(k.path); err != nil {
		return exitf(2, "%v", err)
	}
	client := &keyClient{Site: home.URL, CertPin: home.CertPin}
	resp, err := client.ShareV2(ctx, v2, func(body []byte, at time.Time) []byte {
		sig, _ := protocol.SignShare2(protocol.CredentialID(homeID), body, at, homeKeys.UV)
		return sig
	}, time.Now())
	if failed := shareFailed(err); failed != nil {
		state.ForgetPending(siteCred.String())
		if err := state.Save(k.path); err != nil {
			fmt.Fprintf(k.std.err, "warning: could not update the state file: %v\n", err)
		}
		return failed
	}
	if p := pendingShare(state, siteCred.String()); p != nil {
		p.ExpiresAt = resp.ExpiresAt
	}
	if err := state.Save(k.path); err != nil {
		fmt.Fprintf(k.std.err, "warning: could not update the state file: %v\n", err)
	}
	fmt.Fprintf(k.std.out, "Sent: %s will email your credential to %s. They add it to your user record there (valid until %s); the first time you present this key at one of their readers, their site introduces itself and this key learns it.\n",
		home.Name, req.AdminEmail, resp.ExpiresAt.Local().Format("2 Jan 2006"))
	return nil
}

func pendingShare(state *softkey.StateV2, id string) *softkey.PendingShare {
	for i := range state.Pending {
		if state.Pending[i].CredentialID == id {
			return &state.Pending[i]
		}
	}
	return nil
}

// shareFailed turns the key API's answer to a share into what the holder
// reads.
func shareFailed(err error) error {
	var apiErr *keyAPIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr):
		return exitf(1, "Could not send the credential: %s", apiErr.Message)
	case errors.Is(err, errPlainHTTP):
		return exitf(1, "Could not send the credential: %v", err)
	}
	return exitf(2, "Could not send the credential: %v", err)
}
