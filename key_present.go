package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/ble"
)

// present presents the key at a reader on the simulated air: 0 granted,
// 1 denied or not taken up, 2 an error.
func (k *softKey) present(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("key present", flag.ContinueOnError)
	fs.SetOutput(k.std.err)
	air := fs.String("air", ble.DefaultAirAddr, "the simulated air's address")
	reader := fs.String("reader", "", "the reader to present at (its name on the air, e.g. front for sim:front)")
	rssi := fs.Int("rssi", -55, "signal strength the reader hears, in dBm")
	touch := fs.Bool("touch", false, "touch the reader (touch-mode access points)")
	unlocked := fs.Bool("unlocked", false, "prove the phone is unlocked (asks for the PIN)")
	pinFile := fs.String("pin-file", "", "file holding the PIN, for --unlocked in scripts")
	strict := fs.Bool("strict", false, "answer no site this key does not know")
	connect := fs.Bool("connect", false, "connect to the reader's service instead of advertising (like a backgrounded iPhone)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up when no reader takes the key up within this time")
	if err := parseKeyFlags(fs, args); err != nil {
		return err
	}
	if *reader == "" {
		return exitf(2, "give --reader NAME: the reader to present at")
	}
	state, err := softkey.Load(k.path)
	if err != nil {
		return exitf(2, "%v", err)
	}
	cred, err := k.credential(ctx, state, *pinFile)
	if err != nil {
		return exitf(2, "%v", err)
	}
	cred.Strict = *strict || state.Strict
	if *unlocked {
		// Unlock before going near the reader: the PIN's key derivation
		// takes longer than the reader waits for an answer.
		uv, err := cred.UV()
		if errors.Is(err, softkey.ErrWrongPIN) {
			return exitf(1, "Access denied: wrong PIN")
		}
		if err != nil {
			return exitf(2, "%v", err)
		}
		cred.UV = func() (*ecdsa.PrivateKey, error) { return uv, nil }
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	discovery := ble.DiscoverAdvertise
	if *connect {
		discovery = ble.DiscoverConnect
	}
	presence, err := ble.DialAir(ctx, *air, ble.Presence{Reader: *reader, RSSI: *rssi, Touch: *touch, Discovery: discovery})
	if err != nil {
		if errors.Is(err, ble.ErrNoReader) {
			return exitf(2, "Error: %v", err)
		}
		return exitf(2, "Error: cannot join the simulated air at %s: %v", *air, err)
	}
	defer presence.Close()
	link, err := presence.Link(ctx)
	if err != nil {
		if errors.Is(err, ble.ErrNotTakenUp) {
			return exitf(1, "No reader answered: %v", err)
		}
		return exitf(2, "Error: %v", err)
	}
	defer link.Close()
	out, err := ble.PresentKey(ctx, link, cred, *unlocked)
	switch {
	case errors.Is(err, ble.ErrUnknownSite):
		return exitf(1, "Access denied: this reader belongs to a site this key does not know (strict mode)")
	case errors.Is(err, protocol.ErrUnsupportedVersion):
		return exitf(2, "Error: this reader speaks a newer protocol: update postern key")
	case errors.Is(err, softkey.ErrWrongPIN):
		return exitf(1, "Access denied: wrong PIN")
	case errors.Is(err, ble.ErrNoResult):
		fmt.Fprintln(k.std.out, "Access denied: the reader did not accept the answer (too late, or not valid)")
		return exitQuiet(1)
	case errors.Is(err, ble.ErrNoAnswer):
		// Cut off, or nothing heard before --timeout: nothing was decided.
		return exitf(2, "No answer from the reader: try again")
	case err != nil:
		return exitf(2, "Error: %v", err)
	}
	now := time.Now().UTC()
	siteID := hex.EncodeToString(out.Site[:])
	if known, ok := state.Site(siteID); ok {
		state.Remember(known, now)
	} else if out.Result.Granted {
		// Learned on first contact: a site this key was added to.
		state.Remember(softkey.Site{ID: siteID, Name: "site " + siteID[:8]}, now)
	}
	if err := state.Save(k.path); err != nil {
		fmt.Fprintf(k.std.err, "warning: could not update the state file: %v\n", err)
	}
	if out.Result.Granted {
		fmt.Fprintln(k.std.out, "Access granted")
		return nil
	}
	msg := "Access denied: " + out.Result.Reason.String()
	if out.Result.Message != "" {
		msg += " (" + out.Result.Message + ")"
	}
	fmt.Fprintln(k.std.out, msg)
	if out.Result.Reason == protocol.ReasonUnlockRequired && !*unlocked {
		fmt.Fprintln(k.std.err, "This door needs the phone unlocked: present again with --unlocked.")
	}
	return exitQuiet(1)
}

// credential turns the key's state into what the exchange needs; it asks
// for the PIN only when the exchange needs the user-verification key.
func (k *softKey) credential(ctx context.Context, state *softkey.State, pinFile string) (ble.KeyCredential, error) {
	var cred ble.KeyCredential
	id, err := access.ParseCredentialID(state.CredentialID)
	if err != nil {
		return cred, fmt.Errorf("the state file is damaged: %w", err)
	}
	cred.ID = protocol.CredentialID(id)
	if cred.Tap, err = state.Tap(); err != nil {
		return cred, err
	}
	cred.UV = func() (*ecdsa.PrivateKey, error) {
		pin, err := k.readPIN(ctx, pinFile, false)
		if err != nil {
			return nil, err
		}
		return state.UV(pin)
	}
	cred.Sites = map[protocol.SiteID]*ecdsa.PublicKey{}
	for _, s := range append([]softkey.Site{state.Home}, state.Sites...) {
		if len(s.PublicKey) == 0 {
			continue
		}
		pub, err := protocol.ParsePublicKey(s.PublicKey)
		if err != nil {
			return cred, fmt.Errorf("the state file holds a bad key for %s: %w", s.Name, err)
		}
		raw, err := hex.DecodeString(s.ID)
		if err != nil || len(raw) != 16 {
			return cred, fmt.Errorf("the state file holds a bad site id %q", s.ID)
		}
		cred.Sites[protocol.SiteID(raw)] = pub
	}
	return cred, nil
}
