package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/web"
)

// migrate moves a version 1 key to version 2 without a new registration
// code: new keys, signed for by the old ones, accepted once by the home
// site. Until the site confirms, the new state waits beside the old file
// (FILE.migrating), so running migrate again resumes with the same keys
// and the old key keeps working.
func (k *softKey) migrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("key migrate", flag.ContinueOnError)
	fs.SetOutput(k.std.err)
	pinFile := fs.String("pin-file", "", "file holding the version 1 key's PIN")
	newPinFile := fs.String("new-pin-file", "", "file holding the passphrase that will seal the version 2 key (at least 8 characters; default: the PIN, if it is that long)")
	fingerprint := fs.String("fingerprint", "", "the site key's fingerprint, when the site has rolled its key since this key registered")
	certPin := fs.String("tls-fingerprint", "", "the SHA-256 fingerprint of the site's self-signed HTTPS certificate (its Settings page shows it)")
	if err := parseKeyFlags(fs, args); err != nil {
		return err
	}
	if f, err := softkey.Format(k.path); err != nil {
		return exitf(2, "%v", err)
	} else if f == softkey.FormatVersion2 {
		return exitf(1, "This key already speaks protocol version 2: nothing to migrate.")
	}
	old, err := softkey.Load(k.path)
	if err != nil {
		return exitf(2, "%v", err)
	}
	if err := checkSiteURL(old.Home.URL); err != nil {
		return exitf(1, "Could not migrate: %v", err)
	}
	pin, err := k.readPIN(ctx, *pinFile, false)
	if err != nil {
		return exitf(2, "%v", err)
	}
	oldUV, err := old.UV(pin)
	if errors.Is(err, softkey.ErrWrongPIN) {
		return exitf(1, "Could not migrate: wrong PIN")
	} else if err != nil {
		return exitf(2, "%v", err)
	}
	oldTap, err := old.Tap()
	if err != nil {
		return exitf(2, "%v", err)
	}
	side := k.path + ".migrating"
	next, err := k.migration(ctx, side, pin, *newPinFile, softkey.Keys{Tap: oldTap, UV: oldUV})
	if err != nil {
		return err
	}
	keys, err := next.Legacy()
	if err != nil {
		return exitf(2, "%v", err)
	}
	home := next.Home()
	newKeys, err := next.Keys(home.CredentialID)
	if err != nil {
		return exitf(2, "%v", err)
	}
	id, err := access.ParseCredentialID(old.CredentialID)
	if err != nil {
		return exitf(2, "the state file is damaged: %v", err)
	}
	tapPub, uvPub, err := newKeys.PublicKeys()
	if err != nil {
		return exitf(2, "%v", err)
	}
	nonce := make([]byte, protocol.NonceSize)
	rand.Read(nonce)
	proof, err := protocol.SignMigration(protocol.CredentialID(id), nonce, keys.Tap, keys.UV, newKeys.Tap, newKeys.UV)
	if err != nil {
		return exitf(2, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &keyClient{Site: old.Home.URL, CertPin: *certPin}
	resp, err := client.Migrate(ctx, web.KeyMigrateRequest{CredentialID: old.CredentialID, Nonce: nonce, TapKey: tapPub, UVKey: uvPub,
		OldTapSig: proof.OldTapSig, OldUVSig: proof.OldUVSig, TapSig: proof.TapSig, UVSig: proof.UVSig, Device: "postern key " + versionString()})
	var apiErr *keyAPIError
	switch {
	case errors.As(err, &apiErr):
		return exitf(1, "Could not migrate: %s", apiErr.Message)
	case err != nil:
		return exitf(2, "Could not migrate: %v. Run migrate again to try once more: the key is unchanged until the site confirms.", err)
	}
	want := *fingerprint
	if want == "" {
		// Without a word from the holder, only the key this one pinned at
		// registration may sign the answer.
		pub, err := protocol.ParsePublicKey(old.Home.PublicKey)
		if err != nil {
			return exitf(2, "the state file holds a bad site key: %v", err)
		}
		want = protocol.KeyFingerprint(pub)
	}
	site, err := checkAnswer(protocol.MigrationDigest(protocol.CredentialID(id), nonce, tapPub, uvPub), resp, want)
	if err != nil {
		return exitf(1, "Could not migrate: %v", err)
	}
	if site.ID != old.Home.ID || site.CredentialID != old.CredentialID {
		return exitf(1, "Could not migrate: the answer names another site or credential")
	}
	*home = site
	home.Home, home.AddedAt, home.Name, home.CertPin = true, old.RegisteredAt, old.Home.Name, *certPin
	next.Migrating = false
	if err := next.SetLegacy(nil); err != nil {
		return exitf(2, "%v", err)
	}
	if err := next.Save(k.path); err != nil {
		return exitf(2, "migrated at the site, but the state file could not be written: %v (run migrate again)", err)
	}
	os.Remove(side)
	fmt.Fprintf(k.std.out, "Migrated: this key now speaks protocol version 2 at %s (credential %s), sealed under its passphrase.\n", home.Name, home.CredentialID)
	if len(old.Sites) > 0 {
		var names []string
		for _, s := range old.Sites {
			names = append(names, s.Name)
		}
		fmt.Fprintf(k.std.out, "It was also used at %s: those sites keep the version 1 credential until they turn version 1 off. Send it to them again with `share` to add it there with version 2.\n", strings.Join(names, ", "))
	}
	return nil
}

// migration returns the version 2 state being migrated to: the one a
// previous attempt left beside the file (the same new keys, so the site
// can answer it again), or a new one sealed under the new passphrase.
func (k *softKey) migration(ctx context.Context, side, pin, newPinFile string, legacy softkey.Keys) (*softkey.StateV2, error) {
	if next, err := softkey.LoadV2(side); err == nil {
		pass := pin
		if newPinFile != "" {
			if pass, err = k.readPIN(ctx, newPinFile, false); err != nil {
				return nil, exitf(2, "%v", err)
			}
		}
		if err := next.Open(pass); err != nil {
			return nil, exitf(2, "the unfinished migration in %s does not open with that passphrase: %v", side, err)
		}
		if keys, err := next.Legacy(); err != nil || !keys.Tap.Equal(legacy.Tap) {
			return nil, exitf(2, "%s is another key's unfinished migration: remove it and run migrate again", side)
		}
		return next, nil
	}
	pass := pin
	if newPinFile != "" || len(pin) < softkey.MinPassphraseLength {
		var err error
		if pass, err = k.readPIN(ctx, newPinFile, true); err != nil {
			return nil, exitf(2, "a version 2 key is sealed under a passphrase of at least %d characters, longer than this PIN: give one with --new-pin-file (%v)", softkey.MinPassphraseLength, err)
		}
	}
	next, err := softkey.NewStateV2(pass)
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	old, err := softkey.Load(k.path)
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	keys, err := softkey.NewKeys()
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	home := softkey.SiteV2{ID: old.Home.ID, Name: old.Home.Name, URL: old.Home.URL, PublicKey: bytes.Clone(old.Home.PublicKey), CredentialID: old.CredentialID, Home: true}
	if err := next.AddSite(home, keys); err != nil {
		return nil, exitf(2, "%v", err)
	}
	if err := next.SetLegacy(&legacy); err != nil {
		return nil, exitf(2, "%v", err)
	}
	next.FirstName, next.LastName, next.RegisteredAt, next.Migrating = old.FirstName, old.LastName, old.RegisteredAt, true
	if err := next.Save(side); err != nil {
		return nil, exitf(2, "%v", err)
	}
	return next, nil
}
