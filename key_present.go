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

func (k *softKey) present(args []string) int {
	fs := flag.NewFlagSet("key present", flag.ContinueOnError)
	fs.SetOutput(k.stderr)
	air := fs.String("air", ble.DefaultAirAddr, "the simulated air's address")
	reader := fs.String("reader", "", "the reader to present at (its name on the air, e.g. front for sim:front)")
	rssi := fs.Int("rssi", -55, "signal strength the reader hears, in dBm")
	touch := fs.Bool("touch", false, "touch the reader (touch-mode access points)")
	unlocked := fs.Bool("unlocked", false, "prove the phone is unlocked (asks for the PIN)")
	pinFile := fs.String("pin-file", "", "file holding the PIN, for --unlocked in scripts")
	strict := fs.Bool("strict", false, "answer no site this key does not know")
	connect := fs.Bool("connect", false, "connect to the reader's service instead of advertising (like a backgrounded iPhone)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up when no reader takes the key up within this time")
	if err := envDefault(fs); err != nil {
		return k.fail(2, "%v", err)
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *reader == "" {
		return k.fail(2, "give --reader NAME: the reader to present at")
	}
	st, err := softkey.Load(k.state)
	if err != nil {
		if errors.Is(err, softkey.ErrNoCredential) {
			return k.fail(2, "%v", err)
		}
		return k.fail(2, "%v", err)
	}
	cred, err := keyCredential(st, *pinFile, k)
	if err != nil {
		return k.fail(2, "%v", err)
	}
	cred.Strict = *strict || st.Strict
	if *unlocked {
		// Unlock before going near the reader: the PIN's key derivation
		// takes longer than the reader waits for an answer.
		uv, err := cred.UV()
		if errors.Is(err, softkey.ErrWrongPIN) {
			return k.fail(1, "Access denied: wrong PIN")
		}
		if err != nil {
			return k.fail(2, "%v", err)
		}
		cred.UV = func() (*ecdsa.PrivateKey, error) { return uv, nil }
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	discovery := ble.DiscoverAdvertise
	if *connect {
		discovery = ble.DiscoverConnect
	}
	presence, err := ble.DialAir(ctx, *air, ble.Presence{Reader: *reader, RSSI: *rssi, Touch: *touch, Discovery: discovery})
	if err != nil {
		if errors.Is(err, ble.ErrNoReader) {
			return k.fail(2, "Error: %v", err)
		}
		return k.fail(2, "Error: cannot join the simulated air at %s: %v", *air, err)
	}
	defer presence.Close()
	link, err := presence.Link(ctx)
	if err != nil {
		if errors.Is(err, ble.ErrNotTakenUp) {
			return k.fail(1, "No reader answered: %v", err)
		}
		return k.fail(2, "Error: %v", err)
	}
	defer link.Close()
	out, err := ble.PresentKey(ctx, link, cred, *unlocked)
	switch {
	case errors.Is(err, ble.ErrUnknownSite):
		return k.fail(1, "Access denied: this reader belongs to a site this key does not know (strict mode)")
	case errors.Is(err, protocol.ErrUnsupportedVersion):
		return k.fail(2, "Error: this reader speaks a newer protocol: update postern key")
	case errors.Is(err, softkey.ErrWrongPIN):
		return k.fail(1, "Access denied: wrong PIN")
	case errors.Is(err, ble.ErrNoResult):
		fmt.Fprintln(k.stdout, "Access denied: the reader did not accept the answer (too late, or not valid)")
		return 1
	case err != nil:
		return k.fail(2, "Error: %v", err)
	}
	now := time.Now().UTC()
	siteID := hex.EncodeToString(out.Site[:])
	if known, ok := st.Site(siteID); ok {
		st.Remember(known, now)
	} else if out.Result.Granted {
		// Learned on first contact: a site this key was added to.
		st.Remember(softkey.Site{ID: siteID, Name: "site " + siteID[:8]}, now)
	}
	if err := st.Save(k.state); err != nil {
		fmt.Fprintf(k.stderr, "warning: could not update the state file: %v\n", err)
	}
	if out.Result.Granted {
		fmt.Fprintln(k.stdout, "Access granted")
		return 0
	}
	msg := "Access denied: " + out.Result.Reason.String()
	if out.Result.Message != "" {
		msg += " (" + out.Result.Message + ")"
	}
	fmt.Fprintln(k.stdout, msg)
	if out.Result.Reason == protocol.ReasonUnlockRequired && !*unlocked {
		fmt.Fprintln(k.stderr, "This door needs the phone unlocked: present again with --unlocked.")
	}
	return 1
}

// keyCredential turns a state file into what the exchange needs.
func keyCredential(st *softkey.State, pinFile string, k *softKey) (ble.KeyCredential, error) {
	var cred ble.KeyCredential
	id, err := access.ParseCredentialID(st.CredentialID)
	if err != nil {
		return cred, fmt.Errorf("the state file is damaged: %w", err)
	}
	cred.ID = protocol.CredentialID(id)
	if cred.Tap, err = st.Tap(); err != nil {
		return cred, err
	}
	cred.UV = func() (*ecdsa.PrivateKey, error) {
		pin, err := k.readPIN(pinFile, false)
		if err != nil {
			return nil, err
		}
		return st.UV(pin)
	}
	cred.Sites = map[protocol.SiteID]*ecdsa.PublicKey{}
	for _, s := range append([]softkey.Site{st.Home}, st.Sites...) {
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
