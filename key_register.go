package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net/url"
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
	pinFile := fs.String("pin-file", "", "file holding the passphrase that seals the key (at least 8 characters)")
	fingerprint := fs.String("fingerprint", "", "the site key's fingerprint from the invitation email, when giving a bare code")
	version := fs.Int("protocol", 2, "protocol version: 2, or 1 to play a key of the previous app (to try a site's migration)")
	certPin := fs.String("tls-fingerprint", "", "the SHA-256 fingerprint of the site's self-signed HTTPS certificate (its Settings page shows it), to trust that certificate")
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
	if len(positional) != 1 || (*version != 1 && *version != 2) {
		return exitf(2, "usage: postern key --state FILE register CODE|LINK [--site URL] [--fingerprint F] [--pin-file F]")
	}
	if _, err := softkey.Format(k.path); err == nil {
		return exitf(1, "Registration Error: this key already holds a credential. Delete it first (postern key --state %s delete) or use another --state file: one credential per key.", k.path)
	} else if !errors.Is(err, softkey.ErrNoCredential) {
		return exitf(2, "%v", err)
	}
	siteURL, rawCode, err := parseRegistrationInput(positional[0], *site)
	if err != nil {
		return exitf(1, "Registration Error: %v", err)
	}
	if err := checkSiteURL(siteURL); err != nil {
		return exitf(1, "Registration Error: %v", err)
	}
	code, ok := access.NormalizeCode(rawCode)
	if !ok {
		return exitf(1, "Registration Error: a registration code is 32 digits; check that you copied all of it.")
	}
	want := *fingerprint
	if fp := linkFingerprint(positional[0]); fp != "" {
		want = fp
	}
	pin, err := k.readPIN(ctx, *pinFile, true)
	if err != nil {
		return exitf(2, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &keyClient{Site: siteURL, CertPin: *certPin}
	if *version == 1 {
		return k.registerV1(ctx, client, code, pin)
	}
	state, err := softkey.NewStateV2(pin)
	if err != nil {
		return exitf(2, "%v", err)
	}
	keys, tapPub, uvPub, err := newSiteKeys()
	if err != nil {
		return err
	}
	nonce := make([]byte, protocol.NonceSize)
	rand.Read(nonce)
	tapSig, uvSig, err := protocol.SignRegistration2(code, nonce, keys.Tap, keys.UV)
	if err != nil {
		return exitf(2, "%v", err)
	}
	resp, err := client.RegisterV2(ctx, web.KeyRegisterV2Request{Code: code, Nonce: nonce, TapKey: tapPub, UVKey: uvPub, TapSig: tapSig, UVSig: uvSig, Device: "postern key " + versionString()})
	if err := registrationFailed(err); err != nil {
		return err
	}
	home, err := checkAnswer(protocol.RegistrationDigest2(code, nonce, tapPub, uvPub), resp, want)
	if err != nil {
		return exitf(1, "Registration Error: %v", err)
	}
	home.Home, home.AddedAt, home.CertPin = true, time.Now().UTC(), *certPin
	if err := state.AddSite(home, keys); err != nil {
		return exitf(2, "%v", err)
	}
	state.FirstName, state.LastName, state.RegisteredAt = resp.FirstName, resp.LastName, home.AddedAt
	if err := state.Save(k.path); err != nil {
		return exitf(2, "registered, but the state file could not be written: %v", err)
	}
	fmt.Fprintf(k.std.out, "Registered: this key is now %s's credential at %s (credential %s).\n", strings.TrimSpace(state.FirstName+" "+state.LastName), home.Name, home.CredentialID)
	if want == "" {
		fmt.Fprintf(k.std.out, "The site's key fingerprint is %s: check that your invitation email shows the same.\n", protocol.KeyFingerprint(mustKey(home.PublicKey)))
	}
	return nil
}

// newSiteKeys makes the key pair a version 2 key uses at one site, with
// its public halves as the protocol carries them.
func newSiteKeys() (softkey.Keys, []byte, []byte, error) {
	keys, err := softkey.NewKeys()
	if err != nil {
		return keys, nil, nil, exitf(2, "%v", err)
	}
	tapPub, uvPub, err := keys.PublicKeys()
	if err != nil {
		return keys, nil, nil, exitf(2, "%v", err)
	}
	return keys, tapPub, uvPub, nil
}

// registrationFailed turns the key API's answer into what the holder reads.
func registrationFailed(err error) error {
	var apiErr *keyAPIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr):
		return exitf(1, "Registration Error: %s", apiErr.Message)
	case errors.Is(err, errSiteUnreachable):
		return exitf(2, "Registration Error: %v. Check the address and that this device can reach the site's network.", err)
	case errors.Is(err, errPlainHTTP):
		return exitf(1, "Registration Error: %v", err)
	}
	return exitf(2, "Registration Error: %v", err)
}

// checkAnswer checks a site's signed answer to the request whose digest is
// request, and, when the invitation gave one, that it is signed by the key
// with that fingerprint. It returns the site as the key pins it.
func checkAnswer(request [32]byte, resp web.KeySiteAnswer, fingerprint string) (softkey.SiteV2, error) {
	a, err := resp.ProtocolAnswer()
	if err != nil {
		return softkey.SiteV2{}, fmt.Errorf("the site's answer is not usable: %v", err)
	}
	if len(resp.Signature) == 0 {
		return softkey.SiteV2{}, errors.New("the site's answer is not signed: it may not come from the site (nothing is stored; ask your administrator)")
	}
	if err := protocol.VerifySiteAnswer(request, a, resp.Signature); err != nil {
		return softkey.SiteV2{}, fmt.Errorf("the site's answer does not verify: it may not come from the site (nothing is stored): %v", err)
	}
	id := a.KeyID()
	if resp.Site.KeyID != fmt.Sprintf("%x", id[:]) {
		return softkey.SiteV2{}, errors.New("the site's answer names another key than the one that signed it")
	}
	if fingerprint != "" && !strings.EqualFold(strings.TrimSpace(fingerprint), a.Fingerprint()) {
		return softkey.SiteV2{}, fmt.Errorf("the site's key fingerprint is %s, but your invitation says %s: this is not the site that invited you (nothing is stored; tell your administrator)", a.Fingerprint(), fingerprint)
	}
	return softkey.SiteV2{ID: resp.Site.ID, Name: resp.Site.Name, URL: resp.Site.URL, KeyID: resp.Site.KeyID, PublicKey: resp.Site.PublicKey, CredentialID: resp.CredentialID}, nil
}

// linkFingerprint is the site key fingerprint an invitation link carries.
func linkFingerprint(arg string) string {
	u, err := url.Parse(strings.TrimSpace(arg))
	if err != nil {
		return ""
	}
	return u.Query().Get("fp")
}

// mustKey parses a public key the key already checked.
func mustKey(b []byte) *ecdsa.PublicKey {
	pub, _ := protocol.ParsePublicKey(b)
	return pub
}

// registerV1 registers as a key of the previous app: protocol version 1,
// its state file as that app kept it.
func (k *softKey) registerV1(ctx context.Context, client *keyClient, code, pin string) error {
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
	resp, err := client.Register(ctx, web.KeyRegisterRequest{Code: code, TapKey: tapPub, UVKey: state.UVKeyPublic, TapSig: tapSig, UVSig: uvSig, Device: "postern key " + versionString() + " (protocol 1)"})
	if err := registrationFailed(err); err != nil {
		return err
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
	fmt.Fprintf(k.std.out, "Registered (protocol version 1): this key is now %s's credential at %s (credential %s).\n", strings.TrimSpace(state.FirstName+" "+state.LastName), state.Home.Name, state.CredentialID)
	return nil
}
