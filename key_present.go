package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/ble"
)

// presentFlags are present's options.
type presentFlags struct {
	air, reader   string
	rssi          int
	touch         bool
	unlocked      bool
	pinFile       string
	strict        bool
	connect, json bool
	timeout       time.Duration
}

// present presents the key at a reader on the simulated air: 0 granted,
// 1 denied or not taken up, 2 an error.
func (k *softKey) present(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("key present", flag.ContinueOnError)
	fs.SetOutput(k.std.err)
	var f presentFlags
	fs.StringVar(&f.air, "air", ble.DefaultAirAddr, "the simulated air's address")
	fs.StringVar(&f.reader, "reader", "", "the reader to present at (its name on the air, e.g. front for sim:front)")
	fs.IntVar(&f.rssi, "rssi", -55, "signal strength the reader hears, in dBm")
	fs.BoolVar(&f.touch, "touch", false, "touch the reader (touch-mode access points)")
	fs.BoolVar(&f.unlocked, "unlocked", false, "prove the phone is unlocked (answer with the user-verification key)")
	fs.StringVar(&f.pinFile, "pin-file", "", "file holding the key's passphrase, for scripts")
	fs.BoolVar(&f.strict, "strict", false, "(protocol version 1 keys) answer no site this key does not know; version 2 keys always are")
	fs.BoolVar(&f.connect, "connect", false, "connect to the reader's service instead of advertising (like a backgrounded iPhone)")
	fs.BoolVar(&f.json, "json", false, `print {"result","reason","round_trips","bytes_sent","bytes_received","ms"} instead of a sentence`)
	fs.DurationVar(&f.timeout, "timeout", 5*time.Second, "give up when no reader takes the key up within this time")
	if err := parseKeyFlags(fs, args); err != nil {
		return err
	}
	if f.reader == "" {
		return exitf(2, "give --reader NAME: the reader to present at")
	}
	format, err := softkey.Format(k.path)
	if err != nil {
		return exitf(2, "%v", err)
	}
	if format == softkey.FormatVersion2 {
		return k.presentV2(ctx, f)
	}
	state, err := softkey.Load(k.path)
	if err != nil {
		return exitf(2, "%v", err)
	}
	cred, err := k.credential(ctx, state, f.pinFile)
	if err != nil {
		return exitf(2, "%v", err)
	}
	cred.Strict = f.strict || state.Strict
	if f.unlocked {
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
	link, done, err := k.join(ctx, f)
	if err != nil {
		return err
	}
	defer done()
	start := time.Now()
	out, err := ble.PresentKey(ctx, link, cred, f.unlocked)
	switch {
	case errors.Is(err, ble.ErrUnknownSite):
		return exitf(1, "Access denied: this reader belongs to a site this key does not know (strict mode)")
	case errors.Is(err, protocol.ErrUnsupportedVersion):
		return exitf(2, "Error: this reader speaks a newer protocol: update postern key")
	case errors.Is(err, softkey.ErrWrongPIN):
		return exitf(1, "Access denied: wrong PIN")
	case errors.Is(err, ble.ErrNoResult):
		return k.report(f, presentation{noResult: true, stats: link.Stats(), took: time.Since(start), protocol: "v1"})
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
	return k.report(f, presentation{result: out.Result, unlocked: f.unlocked, stats: link.Stats(), took: time.Since(start), protocol: "v1"})
}

// join puts the key on the simulated air at the reader and waits until the
// reader takes it up; done leaves the air.
func (k *softKey) join(ctx context.Context, f presentFlags) (*ble.CountingLink, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	discovery := ble.DiscoverAdvertise
	if f.connect {
		discovery = ble.DiscoverConnect
	}
	presence, err := ble.DialAir(ctx, f.air, ble.Presence{Reader: f.reader, RSSI: f.rssi, Touch: f.touch, Discovery: discovery})
	if err != nil {
		cancel()
		if errors.Is(err, ble.ErrNoReader) {
			return nil, nil, exitf(2, "Error: %v", err)
		}
		return nil, nil, exitf(2, "Error: cannot join the simulated air at %s: %v", f.air, err)
	}
	link, err := presence.Link(ctx)
	if err != nil {
		presence.Close()
		cancel()
		if errors.Is(err, ble.ErrNotTakenUp) {
			return nil, nil, exitf(1, "No reader answered: %v", err)
		}
		return nil, nil, exitf(2, "Error: %v", err)
	}
	return ble.Count(link), func() { link.Close(); presence.Close(); cancel() }, nil
}

// presentation is what a presentation came to, for the holder to read.
type presentation struct {
	result   protocol.Result
	noResult bool // the reader hung up without a result
	unlocked bool
	stats    ble.LinkStats
	took     time.Duration
	protocol string // "v1", "v2" or "v2 expedited"
}

// presentJSON is present --json's line: the outcome, and what it cost on
// the air, so the expedited path shows from outside.
type presentJSON struct {
	Result        string `json:"result"` // "granted" or "denied"
	Reason        string `json:"reason"`
	RoundTrips    int    `json:"round_trips"`
	BytesSent     int    `json:"bytes_sent"`
	BytesReceived int    `json:"bytes_received"`
	MS            int64  `json:"ms"`
	Protocol      string `json:"protocol"`
}

// report tells the holder the outcome, as a sentence or as JSON, and
// exits 0 for granted, 1 otherwise.
func (k *softKey) report(f presentFlags, p presentation) error {
	reason := p.result.Reason.String()
	if p.noResult {
		reason = "the reader did not accept the answer (too late, or not valid)"
	} else if p.result.Message != "" && !p.result.Granted {
		reason += " (" + p.result.Message + ")"
	}
	if f.json {
		j := presentJSON{Result: "denied", Reason: reason, RoundTrips: p.stats.RoundTrips(), BytesSent: p.stats.BytesSent,
			BytesReceived: p.stats.BytesReceived, MS: p.took.Milliseconds(), Protocol: p.protocol}
		if p.result.Granted && !p.noResult {
			j.Result, j.Reason = "granted", "granted"
		}
		b, _ := json.Marshal(j)
		fmt.Fprintln(k.std.out, string(b))
	} else if p.result.Granted && !p.noResult {
		fmt.Fprintln(k.std.out, "Access granted")
	} else {
		fmt.Fprintln(k.std.out, "Access denied: "+reason)
	}
	switch {
	case p.result.Granted && !p.noResult:
		return nil
	case p.result.Reason == protocol.ReasonUnlockRequired && !p.unlocked:
		fmt.Fprintln(k.std.err, "This door needs the phone unlocked: present again with --unlocked.")
	case p.result.Reason == protocol.ReasonUpdateRequired:
		fmt.Fprintln(k.std.err, "This site no longer accepts keys of protocol version 1: move this key to version 2 with `postern key --state "+k.path+" migrate`.")
	}
	return exitQuiet(1)
}

// credential turns a version 1 key's state into what the exchange needs;
// it asks for the PIN only when the exchange needs the user-verification
// key.
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
