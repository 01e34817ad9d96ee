package ble

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"postern/access/protocol"
)

// KeySite is a site a version 2 key holds a credential at: the site key it
// pinned, and its own credential id and key pair made for that site alone.
type KeySite struct {
	Pin        protocol.SitePin
	Credential protocol.CredentialID
	Tap        *ecdsa.PrivateKey
	// UV opens this site's user-verification key: the phone's unlock
	// prompt, the soft key's passphrase. It is called only when the key
	// presents itself unlocked or the access point requires it.
	UV func() (*ecdsa.PrivateKey, error)
}

// KeyIntroduction is a share waiting for its first contact: the identity
// the key made for the site that will import it (its Pin is empty), and
// the secret that site proves it holds.
type KeyIntroduction struct {
	Secret []byte
	Site   KeySite
}

// KeyCredentialV2 is what a version 2 key brings to one presentation.
type KeyCredentialV2 struct {
	// Sites are the sites the key is pinned at, by id.
	Sites map[protocol.SiteID]KeySite
	// Ticket is the expedited-path ticket offered, issued by TicketSite;
	// it is shown once, so the caller forgets it whatever happens.
	Ticket     *protocol.KeyTicket
	TicketSite protocol.SiteID
	// Intro is the pending share offered for an introduction, if any.
	Intro *KeyIntroduction
	// Unlocked: the holder unlocked already, so the key answers with the
	// user-verification key even where the access point does not ask.
	Unlocked bool
}

// KeyOutcomeV2 is what a version 2 key learned from one presentation.
type KeyOutcomeV2 struct {
	Result       protocol.Result
	Path         protocol.Path
	Site         protocol.SiteID
	UnlockNeeded bool // the access point asked for user verification
	UserVerified bool // the key answered with its user-verification key
	// Next is the ticket for the key's next presentation at Site, nil when
	// the site gave none.
	Next *protocol.KeyTicket
	// Learned is a pin new to the key: the site's rolled key, or the key
	// of the site that introduced itself (then Introduced is set, and the
	// offered share now belongs to Site).
	Learned    *protocol.SitePin
	Introduced bool
}

// ErrCannotUnlock is what a KeySite's UV returns when the holder cannot be
// asked to unlock now (no screen to prompt on): the key answers with its
// tap key, and the reader says unlock is required.
var ErrCannotUnlock = errors.New("the holder cannot be asked to unlock the key now")

// ErrReaderTooOld is returned when the reader challenges as version 1:
// its appliance predates the key's protocol.
var ErrReaderTooOld = errors.New("this reader speaks only protocol version 1: its site must update its appliance")

// PresentKeyV2 runs the key's half of a version 2 exchange on an open
// link: say hello, then either read an expedited result, or check the
// challenge (refusing sites the key has not pinned, with ErrUnknownSite,
// having shown nothing that identifies it), answer it, and read the result.
func PresentKeyV2(ctx context.Context, link Link, k KeyCredentialV2) (KeyOutcomeV2, error) {
	var out KeyOutcomeV2
	var intro []byte
	if k.Intro != nil {
		intro = k.Intro.Secret
	}
	hello, err := protocol.NewHello(rand.Reader, k.Ticket, intro)
	if err != nil {
		return out, err
	}
	if err := link.Send(ctx, hello.Bytes()); err != nil {
		return out, fmt.Errorf("%w: saying hello: %w", ErrNoAnswer, err)
	}
	raw, err := link.Recv(ctx)
	if protocol.KindOf(raw) == protocol.KindChallenge {
		// A version 1 challenge: a reader that did not hear the hello in
		// time challenges as version 1 and answers the hello once it
		// arrives. A reader of version 1 alone never does.
		if raw, err = link.Recv(ctx); err != nil {
			if !hungUp(err) {
				return out, fmt.Errorf("%w: waiting for the reader's answer to the hello: %w", ErrNoAnswer, err)
			}
			return out, fmt.Errorf("%w: the reader challenged as protocol version 1 and never answered the hello (a slow link or a relay, or a reader older than version 2): %v", ErrNoResult, err)
		}
	}
	if err != nil {
		return out, fmt.Errorf("%w: waiting for its challenge: %w", ErrNoAnswer, err)
	}
	switch protocol.KindOf(raw) {
	case protocol.KindResultV2:
		out.Path, out.Site = protocol.PathExpedited, k.TicketSite
		out.Result, out.Next, err = hello.OpenExpedited(raw)
		return out, err
	case protocol.KindChallenge:
		return out, ErrReaderTooOld
	case protocol.KindChallengeV2:
	default:
		return out, fmt.Errorf("%w: the reader's answer (type 0x%02x) is neither a challenge nor a result", protocol.ErrMalformed, raw[0])
	}
	pins := make(map[protocol.SiteID]protocol.SitePin, len(k.Sites))
	for id, s := range k.Sites {
		pins[id] = s.Pin
	}
	ch, trust, err := hello.ReadChallenge(raw, pins, time.Now())
	if errors.Is(err, protocol.ErrUnknownSite) {
		return out, fmt.Errorf("%w: %w", ErrUnknownSite, err)
	}
	if err != nil {
		return out, err
	}
	out.Site, out.UnlockNeeded = ch.SiteID, ch.Requirements.UnlockRequired()
	site, ok := k.Sites[ch.SiteID]
	if trust.Introduced {
		site, ok, out.Introduced = k.Intro.Site, true, true
	}
	if !ok {
		return out, fmt.Errorf("%w: no credential for site %s", ErrUnknownSite, ch.SiteID)
	}
	if trust.Learned {
		out.Learned = &trust.Pin
	}
	signer, uv, err := chooseSigner(site, out.UnlockNeeded || k.Unlocked, ch.UnlockWindow)
	if err != nil {
		return out, err
	}
	out.UserVerified = uv
	resp, sess, err := hello.Respond(ch, site.Credential, signer, uv)
	if err != nil {
		return out, err
	}
	if err := link.Send(ctx, resp); err != nil {
		return out, noResult(err)
	}
	raw, err = link.Recv(ctx)
	if err != nil {
		return out, noResult(err)
	}
	out.Result, out.Next, err = protocol.OpenResult2(sess, raw)
	return out, err
}

// chooseSigner opens the user-verification key when it is wanted, within
// the access point's unlock window; a key that cannot be opened in time
// answers with the tap key, and the reader says unlock is required.
func chooseSigner(site KeySite, wantUV bool, window time.Duration) (*ecdsa.PrivateKey, bool, error) {
	if !wantUV || site.UV == nil {
		return site.Tap, false, nil
	}
	start := time.Now()
	uv, err := site.UV()
	if errors.Is(err, ErrCannotUnlock) {
		return site.Tap, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if window > 0 && time.Since(start) > window {
		return site.Tap, false, nil
	}
	return uv, true, nil
}
