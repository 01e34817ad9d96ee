package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/ble"
)

// presentV2 presents a version 2 key: it offers the ticket of the site it
// last used (and forgets it: a ticket is shown once) and the pending share
// offered longest ago, and keeps what the reader gives back.
func (k *softKey) presentV2(ctx context.Context, f presentFlags) error {
	state, pass, err := k.openV2(ctx, f.pinFile, "Access denied")
	if err != nil {
		return err
	}
	// The passphrase that opened the vault stands for the phone being at
	// hand; unlocking, which an access point may ask for, is the holder's
	// act now: --unlocked beforehand, or the passphrase again when asked.
	unlock := func() error {
		if f.unlocked {
			return nil
		}
		fd, ok := terminal(k.std.in)
		if !ok {
			return ble.ErrCannotUnlock
		}
		again, err := askSecret(ctx, fd, k.std.err, "This door asks you to unlock the key. Passphrase: ")
		if err != nil || subtle.ConstantTimeCompare([]byte(again), []byte(pass)) != 1 {
			return ble.ErrCannotUnlock
		}
		return nil
	}
	cred, pending, err := keyCredentialV2(state, time.Now(), unlock)
	if err != nil {
		return exitf(2, "%v", err)
	}
	cred.Unlocked = f.unlocked
	// The ticket and the introduction leave with the hello: save the
	// state without the ticket first, so a crash cannot show it twice.
	if err := state.Save(k.path); err != nil {
		return exitf(2, "%v", err)
	}
	link, done, err := k.join(ctx, f)
	if err != nil {
		return err
	}
	defer done()
	start := time.Now()
	out, err := ble.PresentKeyV2(ctx, link, cred)
	p := presentation{result: out.Result, unlocked: out.UserVerified, stats: link.Stats(), took: time.Since(start), protocol: "v2"}
	if out.Path == protocol.PathExpedited {
		p.protocol = "v2 expedited"
	}
	switch {
	case errors.Is(err, ble.ErrUnknownSite):
		return exitf(1, "Access denied: this reader belongs to a site this key does not know, and it was told nothing about the key")
	case errors.Is(err, ble.ErrReaderTooOld):
		return exitf(2, "Error: %v", err)
	case errors.Is(err, ble.ErrNoResult):
		p.noResult = true
		return k.report(f, p)
	case errors.Is(err, ble.ErrNoAnswer):
		// Cut off, or nothing heard before --timeout: nothing was decided.
		return exitf(2, "No answer from the reader: try again")
	case err != nil:
		return exitf(2, "Error: %v", err)
	}
	remember(state, out, pending, time.Now().UTC())
	if err := state.Save(k.path); err != nil {
		fmt.Fprintf(k.std.err, "warning: could not update the state file: %v\n", err)
	}
	return k.report(f, p)
}

// openV2 loads a version 2 key's state and opens its vault with the
// passphrase; a wrong one is refused (exit 1) with what the action says.
func (k *softKey) openV2(ctx context.Context, pinFile, refusal string) (*softkey.StateV2, string, error) {
	state, err := softkey.LoadV2(k.path)
	if err != nil {
		return nil, "", exitf(2, "%v", err)
	}
	pass, err := k.readPIN(ctx, pinFile, false)
	if err != nil {
		return nil, "", exitf(2, "%v", err)
	}
	if err := state.Open(pass); errors.Is(err, softkey.ErrWrongPIN) {
		return nil, "", exitf(1, "%s: wrong passphrase", refusal)
	} else if err != nil {
		return nil, "", exitf(2, "%v", err)
	}
	return state, pass, nil
}

// keyCredentialV2 is what the exchange needs from a version 2 key's state:
// its pinned sites and their keys, the ticket of the site it last used
// (taken out of the state), and a pending share to offer.
func keyCredentialV2(state *softkey.StateV2, now time.Time, unlock func() error) (ble.KeyCredentialV2, *softkey.PendingShare, error) {
	cred := ble.KeyCredentialV2{Sites: map[protocol.SiteID]ble.KeySite{}}
	var last *softkey.SiteV2
	for i := range state.Sites {
		s := &state.Sites[i]
		ks, err := keySite(state, *s, unlock)
		if err != nil {
			return cred, nil, err
		}
		cred.Sites[ks.Pin.Site] = ks
		if _, ok := state.Ticket(s.ID, now); ok && (last == nil || s.LastUsed.After(last.LastUsed)) {
			last = s
		}
	}
	if last != nil {
		t, _ := state.Ticket(last.ID, now)
		cred.Ticket = &protocol.KeyTicket{ID: protocol.TicketID(t.ID), Secret: [protocol.SecretSize]byte(t.Secret)}
		cred.TicketSite = cred.Sites[mustSiteID(last.ID)].Pin.Site
		state.DropTicket(last.ID)
	}
	p, keys, intro, err := state.NextPending(now)
	if err != nil || p == nil {
		return cred, nil, err
	}
	id, err := access.ParseCredentialID(p.CredentialID)
	if err != nil {
		return cred, nil, fmt.Errorf("the state file is damaged: %w", err)
	}
	cred.Intro = &ble.KeyIntroduction{Secret: intro, Site: ble.KeySite{Credential: protocol.CredentialID(id), Tap: keys.Tap, UV: unlocking(keys.UV, unlock)}}
	p.LastOffered = now
	return cred, p, nil
}

// keySite is one pinned site with the keys made for it.
func keySite(state *softkey.StateV2, s softkey.SiteV2, unlock func() error) (ble.KeySite, error) {
	var ks ble.KeySite
	pub, err := protocol.ParsePublicKey(s.PublicKey)
	if err != nil {
		return ks, fmt.Errorf("the state file holds a bad key for %s: %w", s.Name, err)
	}
	raw, err := hex.DecodeString(s.ID)
	if err != nil || len(raw) != 16 {
		return ks, fmt.Errorf("the state file holds a bad site id %q", s.ID)
	}
	id, err := access.ParseCredentialID(s.CredentialID)
	if err != nil {
		return ks, fmt.Errorf("the state file is damaged: %w", err)
	}
	keys, err := state.Keys(s.CredentialID)
	if err != nil {
		return ks, err
	}
	return ble.KeySite{
		Pin:        protocol.SitePin{Site: protocol.SiteID(raw), KeyID: protocol.PublicKeyID(pub), Key: pub},
		Credential: protocol.CredentialID(id), Tap: keys.Tap, UV: unlocking(keys.UV, unlock),
	}, nil
}

// unlocking gives the user-verification key once unlock lets it.
func unlocking(uv *ecdsa.PrivateKey, unlock func() error) func() (*ecdsa.PrivateKey, error) {
	return func() (*ecdsa.PrivateKey, error) {
		if err := unlock(); err != nil {
			return nil, err
		}
		return uv, nil
	}
}

func mustSiteID(s string) protocol.SiteID {
	raw, _ := hex.DecodeString(s)
	return protocol.SiteID(raw)
}

// remember keeps what a presentation taught the key: the next ticket, a
// rolled site key, a site that introduced itself.
func remember(state *softkey.StateV2, out ble.KeyOutcomeV2, pending *softkey.PendingShare, now time.Time) {
	siteID := hex.EncodeToString(out.Site[:])
	if out.Learned != nil {
		pub, _ := protocol.MarshalPublicKey(out.Learned.Key)
		id := out.Learned.KeyID
		if out.Introduced && pending != nil {
			state.Introduced(pending.CredentialID, softkey.SiteV2{ID: siteID, Name: "the site of " + pending.AdminEmail,
				KeyID: hex.EncodeToString(id[:]), PublicKey: pub, AddedAt: now})
		} else if s := state.Site(siteID); s != nil {
			s.KeyID, s.PublicKey = hex.EncodeToString(id[:]), pub
		}
	}
	if s := state.Site(siteID); s != nil {
		s.LastUsed = now
	}
	if out.Next != nil {
		state.SetTicket(siteID, softkey.Ticket{ID: out.Next.ID[:], Secret: out.Next.Secret[:], Expires: now.Add(out.Next.Lifetime)})
	}
}
